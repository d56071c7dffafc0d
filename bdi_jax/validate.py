"""Checks a whole config before anything runs, so that no run fails after training.

* :func:`check_config` checks every field declared in
  :data:`bdi_jax.config_schema.FIELDS` against its kind (type, range, allowed
  names from the registries that use them), then the rules that tie fields
  together or depend on the method.
* :func:`check_against_task` checks the sizes that depend on the loaded data
  (neighbourhood sizes against the vocabularies).

Both collect every problem and raise one :class:`bdi_jax.errors.ConfigError`
with one line per field, ``config.<field>=<bad value>: <what is allowed>``, so a
user fixes them all at once. The adversarial sections are not checked for a
computed start, which does not train.
"""

import inspect
from typing import Any, List

from bdi_jax import config_kinds as kinds
from bdi_jax import config_schema
from bdi_jax import errors
from bdi_jax import objectives
from bdi_jax import starts
from bdi_jax import step as step_lib
from bdi_jax.data import normalization
from bdi_jax.data import tasks

__all__ = ["check_config", "check_against_task", "MAX_LINES"]

_FIELDS_DOC = "experiments/configs/default.py"
# An error message is at most this many lines: a header and the first problems.
MAX_LINES = 5
_MISSING = object()
# Sections a computed start does not read: it has no adversarial phase.
_ADVERSARIAL = ("model.", "objective.", "train.")
# Read only when the objective trains a critic.
_CRITIC_OPTIMIZER = ("train.dis_optimizer", "train.dis_lr",
                     "train.dis_optimizer_kwargs")
# Checked by code below: their rule depends on other fields.
_CHECKED_BY_CODE = ("name", "method", "train.map_lr_scales")


class _Checker:
  """Reads fields of a config and records what is wrong with them."""

  def __init__(self, config):
    self.config = config
    self.problems: List[str] = []

  def get(self, path: str, optional: bool = False) -> Any:
    """The field's value; _MISSING (and a problem unless ``optional``) if absent."""
    node = self.config
    for part in path.split("."):
      try:
        node = node[part]
      except (KeyError, TypeError, AttributeError):
        if not optional:
          self.problems.append(f"config.{path} is missing (every field is "
                               f"listed in {_FIELDS_DOC})")
        return _MISSING
    return node

  def check(self, path: str, kind, optional: bool = False) -> Any:
    """Returns the value, or _MISSING when it is absent or not of ``kind``.

    ``optional``: a field newer than some config files; checked if present.
    """
    value = self.get(path, optional)
    if value is _MISSING:
      return _MISSING
    try:
      good = bool(kind.ok(value))
    except Exception:  # pylint: disable=broad-except
      good = False  # A value of an unexpected kind is simply wrong.
    if not good:
      self.add(path, value, kinds.complaint(kind, value))
      return _MISSING
    return value

  def add(self, path: str, value: Any, allowed: str) -> None:
    self.problems.append(f"config.{path}={value!r}: {allowed}")


def _raise_if_any(problems: List[str], what: str) -> None:
  if not problems:
    return
  if len(problems) == 1:
    message = f"{problems[0]} ({what})"
  else:
    # Header + at most MAX_LINES - 1 lines, the last one counting the rest.
    room = MAX_LINES - 1
    shown = problems if len(problems) <= room else problems[:room - 1]
    lines = [f"{len(problems)} invalid config fields ({what}):"]
    lines += [f"  {p}" for p in shown]
    if len(shown) < len(problems):
      lines.append(f"  ... and {len(problems) - len(shown)} more")
    message = "\n".join(lines)
  error = errors.ConfigError(message)
  error.problems = list(problems)  # All of them, for callers and tests.
  raise error


# --- check_config ------------------------------------------------------------

def _check_method(c: _Checker):
  """Returns ``(kind, needs_critic)``; kind is "adversarial", "start" or None."""
  method = c.get("method")
  if method is _MISSING:
    return None, True
  if isinstance(method, str) and method in objectives.REGISTRY:
    try:
      objective = objectives.REGISTRY[method](c.config.objective)
    except Exception as e:  # pylint: disable=broad-except
      c.add("objective", "...", f"rejected by objective {method!r}: {e}")
      return "adversarial", True
    # A critic-free objective (e.g. optimal transport) may declare so.
    return "adversarial", bool(getattr(objective, "needs_critic", True))
  if isinstance(method, str) and method in starts.STARTS:
    return "start", False
  c.add("method", method,
        "must be an objective (" + ", ".join(sorted(objectives.REGISTRY))
        + ") or a computed start (" + ", ".join(sorted(starts.STARTS)) + ")")
  return None, True


def _check_fields(c: _Checker, kind, needs_critic: bool,
                  needs_train_dict: bool) -> dict:
  """Checks each field the method reads against its kind; the valid values."""
  data_kind = c.get("data.kind", optional=True)
  values = {}
  for field in config_schema.FIELDS:
    path, rule = field.path, field.kind
    if (path in _CHECKED_BY_CODE
        or (kind == "start" and path.startswith(_ADVERSARIAL))
        or (not needs_critic and path in _CRITIC_OPTIMIZER)
        or (path.startswith("data.synthetic.") and data_kind != "synthetic")):
      continue
    if path == "train.dis_steps" and not needs_critic:
      rule = kinds.Int(0)  # A critic-free objective may train no critic.
    if path == "data.synthetic.n_train" and needs_train_dict:
      rule = kinds.Int(1)  # A supervised start needs training pairs.
    values[path] = c.check(path, rule, field.optional)
  return values


def _check_normalize(c: _Checker, normalize) -> None:
  try:
    names = tasks.normalization_methods(normalize)
  except errors.ConfigError:
    names = normalize.split(",")  # It checks the names too; same rule.
  unknown = [m.strip() for m in names
             if m.strip() and m.strip() not in normalization.NORMALIZERS]
  if unknown:
    c.add("data.normalize", normalize,
          f"unknown normalisation(s) {', '.join(map(repr, unknown))}; a "
          "comma-separated list of " + ", ".join(
              repr(n) for n in sorted(normalization.NORMALIZERS)) + " or ''")


def _check_files(c: _Checker, needs_train_dict: bool) -> None:
  for path in ("data.src_emb", "data.tgt_emb"):
    value = c.get(path)
    if value == "":
      c.add(path, value, "a path to a .vec file is required when "
            "config.data.kind='files'")
  if needs_train_dict and c.get("data.train_dict") == "":
    c.add("data.train_dict", "",
          f"method {c.get('method')!r} needs a training dictionary")


def _check_optimizer_kwargs(c: _Checker, v: dict, which: str) -> None:
  name, kwargs = v[f"train.{which}_optimizer"], v[
      f"train.{which}_optimizer_kwargs"]
  if name is _MISSING or kwargs is _MISSING:
    return
  try:
    inspect.signature(step_lib.OPTIMIZERS[name]).bind(
        learning_rate=1.0, **dict(kwargs))
  except TypeError as e:
    c.add(f"train.{which}_optimizer_kwargs", dict(kwargs),
          f"not accepted by optimizer {name!r} ({e})")


def _check_schedule(c: _Checker, v: dict) -> None:
  t = "train."
  batch, epoch_size = v[t + "batch_size"], v[t + "epoch_size"]
  if batch is not _MISSING and epoch_size is not _MISSING and (
      epoch_size % batch):
    lower = max(batch, epoch_size // batch * batch)
    c.add(t + "epoch_size", epoch_size,
          f"must be a multiple of config.train.batch_size={batch} (an epoch "
          f"is epoch_size / batch_size iterations), e.g. {lower} or "
          f"{lower + batch}")
  min_lr, map_lr = v[t + "min_lr"], c.get(t + "map_lr", optional=True)
  if (min_lr is not _MISSING and kinds.is_real(map_lr) and map_lr > 0
      and min_lr > map_lr):
    c.add(t + "min_lr", min_lr,
          f"must be <= config.train.map_lr={map_lr!r} (the decay's floor)")
  scales = c.get(t + "map_lr_scales", optional=True)
  n_seeds = c.get("n_seeds", optional=True)
  if scales is not _MISSING and (
      not kinds.Reals().ok(scales)
      or (scales and kinds.is_int(n_seeds) and len(scales) != n_seeds)):
    c.add(t + "map_lr_scales", scales,
          f"must be () or a tuple of config.n_seeds={n_seeds!r} numbers > 0 "
          "(one learning-rate multiplier per seed)")


def check_config(config) -> None:
  """Checks every field of ``config``.

  The adversarial sections (``model``, ``objective``, ``train``) are skipped
  for a computed start (:data:`bdi_jax.starts.STARTS`), which does not train;
  a start that declares ``needs_train_dict`` must have ``data.train_dict``.
  Fields newer than some config files are checked when present.

  Args:
    config: a full experiment config (``experiments/configs/default.py``).

  Raises:
    ConfigError: one line per wrong field, naming it (``config.eval.ks``), its
      value and what is allowed; ``.problems`` lists them all.
  """
  c = _Checker(config)
  kind, needs_critic = _check_method(c)
  needs_train_dict = kind == "start" and bool(getattr(
      starts.STARTS[c.config.method], "needs_train_dict", False))
  v = _check_fields(c, kind, needs_critic, needs_train_dict)
  if v["data.normalize"] is not _MISSING:
    _check_normalize(c, v["data.normalize"])
  if v["data.kind"] == "files":
    _check_files(c, needs_train_dict)
  if kind != "start":  # A computed start has no adversarial phase.
    _check_optimizer_kwargs(c, v, "map")
    if needs_critic:
      _check_optimizer_kwargs(c, v, "dis")
    _check_schedule(c, v)
  _raise_if_any(c.problems, f"every field is documented in {_FIELDS_DOC}")


def check_against_task(config, n_src: int, n_tgt: int) -> None:
  """Checks the sizes of ``config`` that depend on the loaded vocabularies.

  Sizes that mean "at most" are capped by the library and need no check:
  ``eval.criterion_words``, ``refine.max_rank``, ``train.dis_most_frequent``
  and ``data.max_vocab`` (each "or every word, if fewer").

  Args:
    config: a config that passed :func:`check_config`.
    n_src: source vocabulary size (after ``data.max_vocab``).
    n_tgt: target vocabulary size.

  Raises:
    ConfigError: one line per field, with the sizes that bound it.
  """
  c = _Checker(config)
  csls_k = c.get("eval.csls_k")
  # CSLS averages the csls_k nearest neighbours in both directions.
  if kinds.is_int(csls_k) and csls_k > min(n_src, n_tgt):
    c.add("eval.csls_k", csls_k,
          f"must be <= {min(n_src, n_tgt)}, the smaller vocabulary")
  ks = c.get("eval.ks")
  if isinstance(ks, (tuple, list)) and ks and all(
      kinds.is_int(k) for k in ks) and max(ks) > n_tgt:
    c.add("eval.ks", ks, f"every k must be <= {n_tgt}, the number of target "
          "words (P@k ranks k targets)")
  _raise_if_any(c.problems, f"this task has {n_src:,} source and {n_tgt:,} "
                "target words")
