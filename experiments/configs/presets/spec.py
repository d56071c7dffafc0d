"""What a preset is made of: plain tables of dotted config fields.

A registered name ``{method}_{dataset}`` is ``default.py`` with, on top, the
fields of four tables that may not share a field (so no result depends on the
order they are applied in): the data set's, the method's, the data set's
epoch schedule (for the methods that use it) and the method's fields for that
data set. Only a method's per-pair :class:`Override`, written out beside the
method, replaces a field set by one of the others.
"""

from typing import Any, Dict, Mapping, NamedTuple

__all__ = ["Fields", "Dataset", "Method", "Override", "union"]

# Dotted path in the config ("train.dis_lr") -> value. A dict value becomes a
# nested ConfigDict that replaces the field whole (optimizer kwargs).
Fields = Mapping[str, Any]


class Dataset(NamedTuple):
  summary: str  # One line, shown by ``--list_configs``.
  fields: Fields  # data.* and any data-set-level setting (eval.*).
  epochs: Fields  # Adversarial schedule sized for this data ({}: default.py's).


class Override(NamedTuple):
  note: str  # One line, appended to the name's description.
  fields: Fields  # Replace what the method's other tables give this pair.


class Method(NamedTuple):
  summary: str  # One line, shown by ``--list_configs``.
  fields: Fields  # What the method is, on every data set.
  per_dataset: Mapping[str, Fields] = {}  # Data set -> its fields (width).
  uses_dataset_epochs: bool = True  # False: fields has its own schedule.
  overrides: Mapping[str, Override] = {}  # Data set -> per-pair override.


def union(*tables: Fields) -> Dict[str, Any]:
  """The fields of all ``tables``; a field set by two of them is an error."""
  out: Dict[str, Any] = {}
  for table in tables:
    shared = sorted(set(out) & set(table))
    if shared:
      raise ValueError(f"fields set twice: {', '.join(shared)}")
    out.update(table)
  return out
