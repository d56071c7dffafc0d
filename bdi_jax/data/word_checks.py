"""Checks that turn silent data problems into one warning line each.

* :func:`odd_whitespace_warning`: vocabulary words that contain a
  non-breaking or other Unicode space (or a zero-width character). The
  readers split rows at ASCII whitespace only, so ``"new\\u00a0york"`` stays
  one word, which no dictionary line (split at any whitespace) can match.
* :func:`direction_warning`: a dictionary that covers far more pairs read
  target-first than as given: most likely the other direction's file.
"""

import pathlib
import re
import unicodedata
from typing import Dict, Optional, Sequence

from bdi_jax.data import catalogue

__all__ = ["odd_whitespace_warning", "direction_warning", "REVERSED_FACTOR"]

# Space-like characters other than ASCII whitespace, which the readers keep
# inside words; zero-width ones are invisible in a terminal too.
_ODD = re.compile("[\u0085\u00a0\u1680\u2000-\u200d\u2028\u2029\u202f\u205f"
                  "\u2060\u3000\ufeff]")
_QUOTED = 3
# A dictionary is called reversed when reading it target-first finds at
# least this many times more pairs than reading it as given.
REVERSED_FACTOR = 2


def _line_of(path: pathlib.Path, word: str) -> Optional[int]:
  """The first line of a text file that starts with ``word`` (None: none,
  or not a text file)."""
  prefix = word.encode("utf-8")
  try:
    with catalogue.open_data_file(path) as f:
      for number, line in enumerate(f, start=1):
        if line.startswith(prefix) and line[len(prefix):len(prefix) + 1] in (
            b" ", b"\t"):
          return number
  except (OSError, EOFError):
    return None
  return None


def odd_whitespace_warning(path, words: Sequence[str]) -> Optional[str]:
  """One line naming the file, line and character of words with odd spaces
  (None when there are none)."""
  odd = [w for w in words if _ODD.search(w)]
  if not odd:
    return None
  path = pathlib.Path(path)
  quoted = []
  for word in odd[:_QUOTED]:
    char = _ODD.search(word).group()
    line = _line_of(path, word)
    where = f"{path}:{line}" if line else str(path)
    name = unicodedata.name(char, "unnamed").lower()
    quoted.append(f"{where}: {word!r} (U+{ord(char):04X}, {name})")
  more = f" and {len(odd) - _QUOTED} more" if len(odd) > _QUOTED else ""
  return (f"{len(odd)} word{'s' if len(odd) > 1 else ''} contain a Unicode "
          f"space or zero-width character, so no dictionary line can match "
          f"them: {'; '.join(quoted)}{more}; replace it in the file (e.g. by "
          "'_') if the word should be found")


def _pairs(path: pathlib.Path):
  with catalogue.open_data_file(path) as f:
    for raw in f:
      fields = raw.decode("utf-8", "replace").split()
      if len(fields) >= 2:
        yield fields[0], fields[1]


def _found(word: str, index: Dict[str, int]) -> bool:
  return word in index or word.lower() in index


def direction_warning(path, src_word_to_index: Dict[str, int],
                      tgt_word_to_index: Dict[str, int], src_lang: str,
                      tgt_lang: str) -> Optional[str]:
  """A warning when the dictionary reads far better reversed (None if not).

  Counts the pairs whose two words are in the vocabularies read as given
  (source, target) and read reversed; names the direction that fits.
  """
  given = flipped = total = 0
  for a, b in _pairs(pathlib.Path(path)):
    total += 1
    given += _found(a, src_word_to_index) and _found(b, tgt_word_to_index)
    flipped += _found(b, src_word_to_index) and _found(a, tgt_word_to_index)
  if flipped < REVERSED_FACTOR * max(given, 1) or flipped < 5:
    return None
  return (f"{path}: only {given} of {total} lines are (source, target) "
          f"words of these vocabularies but {flipped} are (target, source): "
          f"it reads as the {tgt_lang}-{src_lang} direction, not "
          f"{src_lang}-{tgt_lang}; give the {src_lang}-{tgt_lang} file (or "
          "swap its columns)")
