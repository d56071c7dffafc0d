"""The one parser of ``FIELD=VALUE`` config overrides outside ``--config.X``.

``apply_overrides(config, ["train.n_epochs=2", "eval.ks=(1, 5)"])`` returns a
locked copy of ``config`` with the fields set. Each value is parsed by the
parser ml_collections' ``config_flags`` uses for ``--config.FIELD=VALUE`` of
that field's type (int, float, bool, str, tuple, nested ConfigDict), through
its public ``DEFINE_config_dict`` on a private ``FlagValues``, so a ``--set``
override and a ``--config.`` flag read the same text the same way. A field
that does not exist, or a value that does not parse as its type, raises
:class:`bdi_jax.errors.ConfigError` before anything runs.
"""

import copy
import difflib
from typing import Iterable, List

from absl import flags
import ml_collections
from ml_collections import config_flags
from ml_collections.config_flags import config_path

from bdi_jax import errors

__all__ = ["apply_overrides", "field_paths"]

# Where every field is documented, for the error messages.
_FIELDS_DOC = "experiments/configs/default.py"


def field_paths(config: ml_collections.ConfigDict) -> List[str]:
  """Every dotted path of ``config``, sub-dicts and leaves, depth first."""
  paths = []
  for key, value in config.items():
    paths.append(key)
    if isinstance(value, ml_collections.ConfigDict):
      paths += [f"{key}.{sub}" for sub in field_paths(value)]
  return paths


def _unknown_field(config, path: str) -> errors.ConfigError:
  close = difflib.get_close_matches(path, field_paths(config), n=3, cutoff=0.6)
  hint = f"; did you mean {', '.join(close)}?" if close else "."
  return errors.ConfigError(
      f"unknown config field {path!r} in override {path}=...{hint} "
      f"Every field is listed in {_FIELDS_DOC}.")


def _check_path(config, path: str) -> None:
  """Raises ConfigError unless ``path`` names an existing field."""
  node = config
  for part in path.split("."):
    if not (isinstance(node, ml_collections.ConfigDict) and part.isidentifier()
            and part in node):
      raise _unknown_field(config, path)
    node = node[part]


def _apply_one(config: ml_collections.ConfigDict, assignment: str) -> None:
  path, sep, text = assignment.partition("=")
  path = path.strip()
  if not sep or not path:
    raise errors.ConfigError(
        f"override {assignment!r} is not FIELD=VALUE (e.g. train.n_epochs=2)")
  _check_path(config, path)
  argv = ["overrides", f"--config.{path}={text}"]
  values = flags.FlagValues()  # Private: never touches absl's global FLAGS.
  try:
    config_flags.DEFINE_config_dict("config", config, flag_values=values,
                                    lock_config=True, sys_argv=argv)
    values(argv)
  except (flags.Error, ValueError, TypeError, KeyError, AttributeError) as e:
    kind = config_path.get_type(path, config)
    name = getattr(kind, "__name__", str(kind))
    raise errors.ConfigError(
        f"bad value in override {assignment!r}: config field {path} is "
        f"{name} ({_describe(e)}); see {_FIELDS_DOC}") from None


def _describe(e: BaseException) -> str:
  # absl prefixes "flag --config.x=...: "; the user wrote no such flag.
  text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
  return text.split(": ", 1)[1] if text.startswith("flag --") else text


def apply_overrides(config: ml_collections.ConfigDict,
                    assignments: Iterable[str]) -> ml_collections.ConfigDict:
  """A locked copy of ``config`` with each ``FIELD=VALUE`` applied in order.

  Args:
    config: the config (locked or not; it is not modified).
    assignments: strings such as ``"train.n_epochs=2"``, ``"progress=false"``,
      ``"eval.ks=(1, 5)"``; a later one wins over an earlier one.

  Returns:
    A new locked ConfigDict.

  Raises:
    ConfigError: an assignment is not FIELD=VALUE, names no field of
      ``config`` (the message lists close matches), or its value does not
      parse as the field's type.
  """
  out = copy.deepcopy(config)  # Keeps field types and references.
  out.lock()
  for assignment in assignments:
    _apply_one(out, assignment)
  return out
