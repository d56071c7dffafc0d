"""What a preset is made of: plain tables of dotted config fields.

A registered name ``{method}_{dataset}`` is ``default.py`` with, on top, the
fields of three tables that may not share a field (so no result depends on the
order they are applied in): the data set's (files and languages only), the
method's, and the shared adversarial schedule (presets/general.py) for the
methods that train adversarially. Nothing is set per pair: what must differ
between pairs is derived from the data at run time (bdi_jax/derived.py).
"""

from typing import Any, Dict, Mapping, NamedTuple

__all__ = ["Fields", "Dataset", "Method", "union"]

# Dotted path in the config ("train.dis_lr") -> value. A dict value becomes a
# nested ConfigDict that replaces the field whole (optimizer kwargs).
Fields = Mapping[str, Any]


class Dataset(NamedTuple):
  summary: str  # One line, shown by ``--list_configs``.
  fields: Fields  # data.* only: files, languages, vocabulary size.


class Method(NamedTuple):
  summary: str  # One line, shown by ``--list_configs``.
  fields: Fields  # What the method is, on every data set.
  uses_schedule: bool = True  # False: no adversarial phase, or its own.


def union(*tables: Fields) -> Dict[str, Any]:
  """The fields of all ``tables``; a field set by two of them is an error."""
  out: Dict[str, Any] = {}
  for table in tables:
    shared = sorted(set(out) & set(table))
    if shared:
      raise ValueError(f"fields set twice: {', '.join(shared)}")
    out.update(table)
  return out
