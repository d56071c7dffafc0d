"""Checks a whole config before anything runs, so that no run fails after training.

* :func:`check_config` checks every field of a config (see
  ``experiments/configs/default.py``) for its kind, range and allowed names;
  names come from the registries that use them (objectives, starts, optimisers,
  retrievers, dictionary build modes, normalisations), never from copies.
* :func:`check_against_task` checks the sizes that depend on the loaded data
  (neighbourhood sizes against the vocabularies).

Both collect every problem and raise one :class:`bdi_jax.errors.ConfigError`
with one line per field, ``config.<field>=<bad value>: <what is allowed>``, so a
user fixes them all at once. The adversarial sections are not checked for a
computed start, which does not train.
"""

import inspect
import math
import numbers
from typing import Any, Iterable, List, Optional

from bdi_jax import errors
from bdi_jax import objectives
from bdi_jax import refine
from bdi_jax import retrieval
from bdi_jax import starts
from bdi_jax import train as train_lib
from bdi_jax.data import embeddings
from bdi_jax.data import tasks

__all__ = ["check_config", "check_against_task", "MAX_LINES"]

# The two branches of tasks.load_task (it has no registry of kinds).
_DATA_KINDS = ("files", "synthetic")
_FIELDS_DOC = "experiments/configs/default.py"
# An error message is at most this many lines: a header and the first problems.
MAX_LINES = 5
_MISSING = object()


# --- predicates: value -> bool, with the text that says what is allowed -----

def _is_int(v) -> bool:
  return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
  return (isinstance(v, numbers.Real) and not isinstance(v, bool)
          and math.isfinite(v))


def _int_at_least(lo: int):
  return (lambda v: _is_int(v) and v >= lo), f"must be an integer >= {lo}"


def _real_in(lo: float, hi: Optional[float] = None, *, lo_open=False,
             hi_open=False):
  def ok(v):
    if not _is_real(v):
      return False
    above = v > lo if lo_open else v >= lo
    below = hi is None or (v < hi if hi_open else v <= hi)
    return above and below
  if hi is None:
    text = f"must be a number {'>' if lo_open else '>='} {lo:g}"
  else:
    text = (f"must be a number in {'(' if lo_open else '['}{lo:g}, {hi:g}"
            f"{')' if hi_open else ']'}")
  return ok, text


def _one_of(names: Iterable[str]):
  names = sorted(names)
  return ((lambda v: isinstance(v, str) and v in names),
          "must be one of " + ", ".join(repr(n) for n in names))


_BOOL = (lambda v: isinstance(v, bool)), "must be True or False"
_STR = (lambda v: isinstance(v, str)), "must be a string"
_FINITE = _is_real, "must be a finite number"


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

  def check(self, path: str, rule, optional: bool = False) -> Any:
    """Returns the value, or _MISSING when it is absent or fails ``rule``.

    ``optional``: a field newer than some config files; checked if present.
    """
    ok, allowed = rule
    value = self.get(path, optional)
    if value is _MISSING:
      return _MISSING
    try:
      good = bool(ok(value))
    except Exception:  # pylint: disable=broad-except
      good = False  # A value of an unexpected kind is simply wrong.
    if not good:
      self.add(path, value, allowed)
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


def _check_data(c: _Checker, needs_train_dict: bool) -> None:
  for path in ("data.src_lang", "data.tgt_lang", "data.src_emb",
               "data.tgt_emb", "data.test_dict", "data.train_dict"):
    c.check(path, _STR)
  c.check("data.train_exclude_test", _BOOL)
  c.check("data.max_vocab", (lambda v: _is_int(v) and v >= 0,
                             "must be an integer >= 0 (0 = every word)"))
  normalize = c.check("data.normalize", _STR)
  if normalize is not _MISSING:
    try:
      names = tasks.normalization_methods(normalize)
    except errors.ConfigError:
      names = normalize.split(",")  # It checks the names too; same rule.
    unknown = [m.strip() for m in names
               if m.strip() and m.strip() not in embeddings.NORMALIZERS]
    if unknown:
      c.add("data.normalize", normalize,
            f"unknown normalisation(s) {', '.join(map(repr, unknown))}; a "
            "comma-separated list of " + ", ".join(
                repr(n) for n in sorted(embeddings.NORMALIZERS)) + " or ''")

  kind = c.check("data.kind", _one_of(_DATA_KINDS))
  if kind == "files":
    for path in ("data.src_emb", "data.tgt_emb"):
      value = c.get(path)
      if value == "":
        c.add(path, value, "a path to a .vec file is required when "
              "config.data.kind='files'")
    if needs_train_dict and c.get("data.train_dict") == "":
      c.add("data.train_dict", "",
            f"method {c.get('method')!r} needs a training dictionary")
  elif kind == "synthetic":
    s = "data.synthetic."
    c.check(s + "seed", (_is_int, "must be an integer"))
    c.check(s + "n_concepts", _int_at_least(2))
    c.check(s + "dim", _int_at_least(1))
    c.check(s + "n_clusters", _int_at_least(1))
    c.check(s + "keep_fraction", _real_in(0, 1, lo_open=True))
    c.check(s + "noise", _real_in(0))
    c.check(s + "spectrum_decay", _real_in(0))
    c.check(s + "n_train", _int_at_least(1 if needs_train_dict else 0))
    c.check(s + "n_test", _int_at_least(1))


def _check_optimizer(c: _Checker, which: str) -> None:
  name = c.check(f"train.{which}_optimizer", _one_of(train_lib.OPTIMIZERS))
  c.check(f"train.{which}_lr", _real_in(0, lo_open=True))
  kwargs = c.get(f"train.{which}_optimizer_kwargs")
  if kwargs is _MISSING:
    return
  if not hasattr(kwargs, "keys"):
    c.add(f"train.{which}_optimizer_kwargs", kwargs,
          "must be a dict of keyword arguments of the optimizer")
    return
  if name is _MISSING:
    return
  try:
    inspect.signature(train_lib.OPTIMIZERS[name]).bind(
        learning_rate=1.0, **dict(kwargs))
  except TypeError as e:
    c.add(f"train.{which}_optimizer_kwargs", dict(kwargs),
          f"not accepted by optimizer {name!r} ({e})")


def _check_training(c: _Checker, needs_critic: bool) -> None:
  c.check("model.hidden", _int_at_least(1))
  c.check("model.n_layers", _int_at_least(0))
  c.check("model.input_dropout", _real_in(0, 1, hi_open=True))
  c.check("model.hidden_dropout", _real_in(0, 1, hi_open=True),
          optional=True)
  c.check("model.leaky_slope", _FINITE)
  c.check("model.layer_norm", _BOOL)
  c.check("model.layer_norm_epsilon", _real_in(0, lo_open=True),
          optional=True)  # Absent from configs saved before it existed.

  o = "objective."
  c.check(o + "smoothing", _real_in(0, 0.5, hi_open=True))
  c.check(o + "non_saturating", _BOOL)
  c.check(o + "clip", _real_in(0, lo_open=True))
  for name in ("gp_lambda", "ct_lambda", "ct_margin", "ct_feature_weight"):
    c.check(o + name, _real_in(0))
  c.check(o + "sinkhorn_epsilon", _real_in(0, lo_open=True), optional=True)
  c.check(o + "sinkhorn_iterations", _int_at_least(1), optional=True)
  c.check(o + "sinkhorn_threshold", _real_in(0, lo_open=True), optional=True)

  t = "train."
  batch = c.check(t + "batch_size", _int_at_least(1))
  # A critic that never trains makes the run meaningless, not just slow.
  c.check(t + "dis_steps", (
      (lambda v: _is_int(v) and v >= 1), "must be an integer >= 1 (critic "
      "updates per mapping update)") if needs_critic else _int_at_least(0))
  c.check(t + "dis_most_frequent", (
      lambda v: v is None or (_is_int(v) and v >= 0),
      "must be an integer >= 0 (0 or None = every word of each side)"))
  c.check(t + "map_beta", _real_in(0))
  c.check(t + "map_grad_clip", _real_in(0), optional=True)
  _check_optimizer(c, "map")
  if needs_critic:
    _check_optimizer(c, "dis")
  c.check(t + "n_epochs", _int_at_least(1))
  epoch_size = c.check(t + "epoch_size", _int_at_least(1))
  if batch is not _MISSING and epoch_size is not _MISSING and (
      epoch_size % batch):
    lower = max(batch, epoch_size // batch * batch)
    c.add(t + "epoch_size", epoch_size,
          f"must be a multiple of config.train.batch_size={batch} (an epoch "
          f"is epoch_size / batch_size iterations), e.g. {lower} or "
          f"{lower + batch}")
  c.check(t + "lr_decay", _real_in(0, 1, lo_open=True))
  c.check(t + "lr_shrink", _real_in(0, 1, lo_open=True))
  min_lr = c.check(t + "min_lr", _real_in(0))
  map_lr = c.get(t + "map_lr")
  if (min_lr is not _MISSING and _is_real(map_lr) and map_lr > 0
      and min_lr > map_lr):
    c.add(t + "min_lr", min_lr,
          f"must be <= config.train.map_lr={map_lr!r} (the decay's floor)")
  c.check(t + "lr_shrink_patience", _int_at_least(0))
  c.check(t + "chunk_steps", _int_at_least(1))
  c.check(t + "noise_std", _real_in(0))
  c.check(t + "noise_anneal_steps", _int_at_least(0))
  c.check(t + "max_rollbacks", _int_at_least(0), optional=True)
  c.check(t + "stop_patience", _int_at_least(0), optional=True)
  c.check(t + "check_every", _int_at_least(0), optional=True)
  c.check(t + "stop_margin", _real_in(0), optional=True)
  c.check(t + "takeoff_budget", _int_at_least(0), optional=True)
  c.check(t + "init_start", (
      lambda v: isinstance(v, str) and (v == "" or v in starts.STARTS),
      "must be '' (the identity) or a start: " + ", ".join(
          repr(n) for n in sorted(starts.STARTS))), optional=True)
  scales = c.get(t + "map_lr_scales", optional=True)
  n_seeds = c.get("n_seeds")
  if scales is not _MISSING and (
      not isinstance(scales, (tuple, list))
      or not all(_is_real(x) and x > 0 for x in scales)
      or (scales and _is_int(n_seeds) and len(scales) != n_seeds)):
    c.add(t + "map_lr_scales", scales,
          f"must be () or a tuple of config.n_seeds={n_seeds!r} numbers > 0 "
          "(one learning-rate multiplier per seed)")


def _check_name_tuple(c: _Checker, path: str, names) -> None:
  allowed = sorted(names)
  value = c.get(path)
  if value is _MISSING:
    return
  if (not isinstance(value, (tuple, list)) or not value
      or not all(isinstance(v, str) and v in allowed for v in value)):
    c.add(path, value, "must be a non-empty tuple of names from "
          + ", ".join(repr(n) for n in allowed))


def _check_gw(c: _Checker) -> None:
  # Gromov-Wasserstein start (bdi_jax/starts.py); newer than some configs.
  c.check("gw.n_words", _int_at_least(2), optional=True)
  c.check("gw.epsilon", _real_in(0, lo_open=True), optional=True)
  c.check("gw.max_iterations", _int_at_least(1), optional=True)
  c.check("gw.sinkhorn_iterations", _int_at_least(1), optional=True)


def _check_eval_refine(c: _Checker) -> None:
  c.check("refine.n_rounds", _int_at_least(0))
  c.check("refine.method", _one_of(retrieval.RETRIEVERS))
  c.check("refine.mode", _one_of(refine.BUILD_MODES))
  c.check("refine.max_rank", (lambda v: _is_int(v) and v >= 0,
                              "must be an integer >= 0 (0 = every word)"))

  _check_name_tuple(c, "eval.methods", retrieval.RETRIEVERS)
  ks = c.get("eval.ks")
  if ks is not _MISSING and (
      not isinstance(ks, (tuple, list)) or not ks
      or not all(_is_int(k) and k >= 1 for k in ks)):
    c.add("eval.ks", ks, "must be a non-empty tuple of integers >= 1 (the k "
          "of P@k), e.g. (1, 5, 10)")
  c.check("eval.csls_k", _int_at_least(1))
  c.check("eval.criterion_words", _int_at_least(1))
  c.check("eval.takeoff_margin", _FINITE, optional=True)
  c.check("eval.detector_criterion_gain", _real_in(0, 1), optional=True)
  c.check("eval.batch_size", (lambda v: _is_int(v) and v >= 0,
                              "must be an integer >= 0 (0 = from memory)"))


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
  c.check("seed", (_is_int, "must be an integer"))
  c.check("n_seeds", _int_at_least(1))
  c.check("restarts", _int_at_least(0), optional=True)
  c.check("progress", _BOOL)
  _check_data(c, needs_train_dict)
  if kind != "start":  # A computed start has no adversarial phase.
    _check_training(c, needs_critic)
  _check_gw(c)
  _check_eval_refine(c)
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
  if _is_int(csls_k) and csls_k > min(n_src, n_tgt):
    c.add("eval.csls_k", csls_k,
          f"must be <= {min(n_src, n_tgt)}, the smaller vocabulary")
  ks = c.get("eval.ks")
  if isinstance(ks, (tuple, list)) and ks and all(_is_int(k) for k in ks) and (
      max(ks) > n_tgt):
    c.add("eval.ks", ks, f"every k must be <= {n_tgt}, the number of target "
          "words (P@k ranks k targets)")
  _raise_if_any(c.problems, f"this task has {n_src:,} source and {n_tgt:,} "
                "target words")

