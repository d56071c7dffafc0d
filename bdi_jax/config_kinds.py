"""What a config value may be: each kind is a check and the text that says it.

A kind is used twice, so the two never disagree: :mod:`bdi_jax.validate` calls
``kind.ok(value)`` and reports ``must be <kind.text>``; the field table
(``docs/config-fields.md``) shows ``kind.text``. Names allowed by a kind come
from a function that returns the library's registry when called, so the check
always sees the registry as it is (a test may register a new entry).
"""

import dataclasses
import math
import numbers
from typing import Any, Callable, Iterable, Optional

__all__ = ["is_int", "is_real", "complaint", "Int", "Real", "Finite", "Bool", "Str",
           "OneOf", "Names", "Ints", "Reals", "Kwargs"]

NamesFn = Callable[[], Iterable[str]]


def is_int(v) -> bool:
  return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_real(v) -> bool:
  """A finite real number (bools are not numbers here)."""
  return (isinstance(v, numbers.Real) and not isinstance(v, bool)
          and math.isfinite(v))


def complaint(kind, v) -> str:
  """What is wrong with ``v`` for ``kind``. A non-finite number (``inf``,
  ``nan``) is named as such: "must be a number > 0" alone reads as if
  ``inf`` were too small."""
  if (isinstance(v, numbers.Real) and not isinstance(v, bool)
      and not math.isfinite(v)):
    return f"must be finite ({kind.text})"
  return f"must be {kind.text}"


def _quoted(names: Iterable[str]) -> str:
  return ", ".join(repr(n) for n in sorted(names))


def _note(note: str) -> str:
  return f" ({note})" if note else ""


@dataclasses.dataclass(frozen=True)
class Int:
  """An integer >= ``lo`` (any integer if None); None too if ``none_ok``."""
  lo: Optional[int] = None
  note: str = ""  # What a special value means, e.g. "0 = every word".
  none_ok: bool = False

  def ok(self, v) -> bool:
    if v is None:
      return self.none_ok
    return is_int(v) and (self.lo is None or v >= self.lo)

  @property
  def text(self) -> str:
    bound = "" if self.lo is None else f" >= {self.lo}"
    return f"an integer{bound}{_note(self.note)}"


@dataclasses.dataclass(frozen=True)
class Real:
  """A finite number in [lo, hi]; ``lo_open`` / ``hi_open`` exclude an end."""
  lo: float
  hi: Optional[float] = None
  lo_open: bool = False
  hi_open: bool = False

  def ok(self, v) -> bool:
    if not is_real(v):
      return False
    above = v > self.lo if self.lo_open else v >= self.lo
    below = self.hi is None or (v < self.hi if self.hi_open else v <= self.hi)
    return above and below

  @property
  def text(self) -> str:
    if self.hi is None:
      return f"a number {'>' if self.lo_open else '>='} {self.lo:g}"
    return (f"a number in {'(' if self.lo_open else '['}{self.lo:g}, "
            f"{self.hi:g}{')' if self.hi_open else ']'}")


@dataclasses.dataclass(frozen=True)
class Finite:
  def ok(self, v) -> bool:
    return is_real(v)

  @property
  def text(self) -> str:
    return "a finite number"


@dataclasses.dataclass(frozen=True)
class Bool:
  def ok(self, v) -> bool:
    return isinstance(v, bool)

  @property
  def text(self) -> str:
    return "True or False"


@dataclasses.dataclass(frozen=True)
class Str:
  def ok(self, v) -> bool:
    return isinstance(v, str)

  @property
  def text(self) -> str:
    return "a string"


@dataclasses.dataclass(frozen=True)
class OneOf:
  """A name from ``names()``; also '' when ``empty`` says what '' means."""
  names: NamesFn
  empty: str = ""  # e.g. "the identity": '' is allowed and means that.
  noun: str = ""  # What a name is, said after ''; e.g. "a start".

  def ok(self, v) -> bool:
    return isinstance(v, str) and (
        (bool(self.empty) and v == "") or v in set(self.names()))

  @property
  def text(self) -> str:
    if self.empty:
      return f"'' ({self.empty}) or {self.noun}: {_quoted(self.names())}"
    return f"one of {_quoted(self.names())}"


@dataclasses.dataclass(frozen=True)
class Names:
  """A non-empty tuple of names from ``names()``."""
  names: NamesFn

  def ok(self, v) -> bool:
    allowed = set(self.names())
    return (isinstance(v, (tuple, list)) and bool(v)
            and all(isinstance(x, str) and x in allowed for x in v))

  @property
  def text(self) -> str:
    return f"a non-empty tuple of names from {_quoted(self.names())}"


@dataclasses.dataclass(frozen=True)
class Ints:
  """A non-empty tuple of integers >= ``lo``."""
  lo: int
  note: str = ""
  example: str = ""

  def ok(self, v) -> bool:
    return (isinstance(v, (tuple, list)) and bool(v)
            and all(is_int(x) and x >= self.lo for x in v))

  @property
  def text(self) -> str:
    example = f", e.g. {self.example}" if self.example else ""
    return (f"a non-empty tuple of integers >= {self.lo}{_note(self.note)}"
            f"{example}")


@dataclasses.dataclass(frozen=True)
class Reals:
  """A tuple, possibly empty, of finite numbers > 0."""
  note: str = ""

  def ok(self, v) -> bool:
    return isinstance(v, (tuple, list)) and all(is_real(x) and x > 0
                                                for x in v)

  @property
  def text(self) -> str:
    return f"() or a tuple of numbers > 0{_note(self.note)}"


@dataclasses.dataclass(frozen=True)
class Kwargs:
  """A dict of keyword arguments of ``of`` (the caller binds them to it)."""
  of: str

  def ok(self, v: Any) -> bool:
    return hasattr(v, "keys")

  @property
  def text(self) -> str:
    return f"a dict of keyword arguments of {self.of}"
