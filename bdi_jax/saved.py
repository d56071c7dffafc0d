"""A finished run read back from its workdir, and what can be done with it.

``load_run(workdir)`` reads ``config.json`` (as a ConfigDict), ``summary.json``
and ``W.npy`` (or ``W-seed<N>.npy``) and re-loads the task with
:func:`bdi_jax.data.tasks.load_task`. The mapped source space is computed by
the pipeline's own code, so everything below sees exactly what the run's
retrieval saw:

* :func:`aligned_vectors`: the two spaces as retrieval used them (mapped
  source ``normalize_rows(X @ W.T)``, target ``normalize_rows(Y)``);
* :func:`translate`: top-k NN / CSLS translations of words;
* :func:`score_run`: P@k of the mapping on any dictionary, through
  :func:`bdi_jax.scoring.score_mapping` (so on the run's own test dictionary
  it reproduces ``summary.json``).

A folder that is not a finished run raises :class:`bdi_jax.errors.WorkdirError`
with a one-line message.
"""

import json
import os
import pathlib
import warnings
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Union

import jax
import ml_collections
import numpy as np

from bdi_jax import errors
from bdi_jax import paths
from bdi_jax import retrieval
from bdi_jax import scoring
from bdi_jax.data import dictionaries
from bdi_jax.data import tasks
from bdi_jax.data import word_checks

__all__ = ["SavedRun", "Translation", "load_config", "load_summary",
           "load_run", "resolve_user_path", "seed_file", "device_spaces",
           "mapped_source", "aligned_vectors", "csls_context", "translate",
           "score_run", "recorded_precision"]

PathLike = Union[str, "os.PathLike[str]"]


class SavedRun(NamedTuple):
  """A finished run.

  Attributes:
    workdir: its folder.
    config: the resolved config it ran with (from ``config.json``).
    summary: ``summary.json``, or None when the run wrote none.
    w: ``[d, d]`` float32 mapping (mapped = ``X @ W.T``).
    w_file: the file ``w`` was read from (``W.npy`` or ``W-seed<N>.npy``).
    seed: the seed of ``w`` when a seed was asked for, else None (the
      selected mapping).
    task: the data, re-loaded (test dictionary replaced when asked).
  """
  workdir: pathlib.Path
  config: ml_collections.ConfigDict
  summary: Optional[Dict[str, Any]]
  w: np.ndarray
  w_file: pathlib.Path
  seed: Optional[int]
  task: tasks.Task


class Translation(NamedTuple):
  """The translations of one word.

  Attributes:
    word: the query as given.
    found: whether it is in the source vocabulary (as written or lower-cased).
    translations: target words, best first (empty when not found).
    scores: their NN cosines or CSLS scores.
  """
  word: str
  found: bool
  translations: List[str]
  scores: List[float]


def _read_json(path: pathlib.Path) -> Any:
  try:
    return json.loads(path.read_text(encoding="utf-8"))
  except (OSError, UnicodeDecodeError, ValueError) as e:
    raise errors.WorkdirError(f"{path}: cannot be read as JSON ({e})") from None


def _check_workdir(workdir: PathLike) -> pathlib.Path:
  path = pathlib.Path(workdir).expanduser()
  if not path.exists():
    raise errors.WorkdirError(
        f"{path}: no such folder; give the --workdir of a finished run")
  if not path.is_dir():
    raise errors.WorkdirError(f"{path}: is a file, not a run's workdir")
  if not (path / "config.json").is_file():
    raise errors.WorkdirError(
        f"{path}: no config.json, so not a bdi-jax run folder; give the "
        "--workdir that `python -m experiments.run` wrote")
  return path


def load_config(workdir: PathLike) -> ml_collections.ConfigDict:
  """The config a run was made with, from its ``config.json``."""
  path = _check_workdir(workdir) / "config.json"
  data = _read_json(path)
  if not isinstance(data, dict) or "data" not in data:
    raise errors.WorkdirError(f"{path}: not a bdi-jax config (no 'data')")
  return ml_collections.ConfigDict(data)


def load_summary(workdir: PathLike) -> Optional[Dict[str, Any]]:
  """``summary.json`` of a run, or None when it has none."""
  path = pathlib.Path(workdir) / "summary.json"
  return _read_json(path) if path.exists() else None


def seed_file(workdir: PathLike, seed: Optional[int]) -> pathlib.Path:
  """``W.npy`` (the selected mapping) or the mapping of one seed."""
  workdir = pathlib.Path(workdir)
  if seed is None:
    path = workdir / "W.npy"
    if not path.is_file():
      raise errors.WorkdirError(
          f"{workdir}: no W.npy; the run did not finish (rerun it, or give "
          "the workdir of a finished run)")
    return path
  path = workdir / f"W-seed{seed}.npy"
  if not path.is_file():
    found = sorted(p.name for p in workdir.glob("W-seed*.npy"))
    raise errors.WorkdirError(
        f"{workdir}: no mapping for seed {seed} ({path.name}); found: "
        f"{', '.join(found) or 'none (only W.npy, the selected mapping)'}")
  return path


def _recorded_root(summary: Optional[Dict[str, Any]]) -> Optional[str]:
  """The data root a run recorded in its summary, if any."""
  if not summary:
    return None
  for holder in (summary, summary.get("provenance") or {}):
    if isinstance(holder, dict) and isinstance(holder.get("data_root"), str):
      return holder["data_root"]
  return None


def _data_root(root: Optional[PathLike],
               summary: Optional[Dict[str, Any]]) -> pathlib.Path:
  # An explicit root, then $BDI_DATA_DIR, then the root the run recorded (if
  # still there), then the default: data moved since the run is found by
  # setting the variable.
  if root is not None:
    return pathlib.Path(root).expanduser()
  if os.environ.get(paths.DATA_DIR_ENV):
    return paths.data_root()
  recorded = _recorded_root(summary)
  if recorded and pathlib.Path(recorded).is_dir():
    return pathlib.Path(recorded)
  return paths.data_root()


def resolve_user_path(path: PathLike, root: Optional[PathLike] = None
                      ) -> pathlib.Path:
  """A path given on a command line: as given if it exists, else under the
  data root (like config paths)."""
  given = pathlib.Path(path).expanduser()
  if given.exists():
    return given.resolve()
  return paths.resolve(given, root)


def load_run(workdir: PathLike, *, seed: Optional[int] = None,
             test_dict: Optional[PathLike] = None,
             src_emb: Optional[PathLike] = None,
             tgt_emb: Optional[PathLike] = None,
             root: Optional[PathLike] = None) -> SavedRun:
  """Reads a finished run back.

  Args:
    workdir: the run's folder.
    seed: read ``W-seed<seed>.npy`` instead of ``W.npy`` (the selected one).
    test_dict: evaluate on this dictionary instead of the run's test
      dictionary (a path, as given or under the data root).
    src_emb, tgt_emb: other embedding files for the same vocabularies'
      languages (file runs only); paths as for ``test_dict``.
    root: data root of the run's relative paths; default: ``$BDI_DATA_DIR``,
      else the root recorded in ``summary.json``, else the default root.

  Returns:
    The :class:`SavedRun`.

  Raises:
    WorkdirError: not a finished run, or its mapping does not fit the data.
    MissingDataError, DataError, ConfigError: as
      :func:`bdi_jax.data.tasks.load_task` and the readers.
  """
  config = load_config(workdir)
  workdir = pathlib.Path(workdir).expanduser()
  summary = load_summary(workdir)
  w_file = seed_file(workdir, seed)
  try:
    w = np.load(w_file, allow_pickle=False)
  except (OSError, ValueError) as e:
    raise errors.WorkdirError(f"{w_file}: not a readable .npy ({e})") from None
  if w.ndim != 2 or w.shape[0] != w.shape[1]:
    raise errors.WorkdirError(f"{w_file}: expected a square [d, d] mapping, "
                              f"found shape {list(w.shape)}")

  data_root = _data_root(root, summary)
  data = ml_collections.ConfigDict(config.data.to_dict())  # Unlocked copy.
  for field, value in (("src_emb", src_emb), ("tgt_emb", tgt_emb)):
    if value is None:
      continue
    if data.kind != "files":
      raise errors.ConfigError(
          f"--{field}: run {workdir} uses {data.kind} data, not embedding "
          "files; there is no file to replace")
    data[field] = str(resolve_user_path(value, data_root))
  if test_dict is not None:
    data.test_dict = ""  # Loaded below against the vocabularies.
  task = tasks.load_task(data, root=data_root, needs_train_dict=False)
  if test_dict is not None:
    gold_path = resolve_user_path(test_dict, data_root)
    gold = dictionaries.load_dictionary(
        gold_path, task.src.word_to_index, task.tgt.word_to_index)
    reversed_note = word_checks.direction_warning(
        gold_path, task.src.word_to_index, task.tgt.word_to_index,
        data.src_lang, data.tgt_lang)
    if reversed_note:
      warnings.warn(reversed_note, stacklevel=2)
    task = task._replace(test_pairs=gold.pairs, test_coverage=gold.coverage)
  dim = task.src_vectors.shape[1]
  if w.shape[0] != dim:
    raise errors.WorkdirError(
        f"{w_file} maps {w.shape[0]}-d vectors but the embeddings are "
        f"{dim}-d ({task.description})")
  return SavedRun(workdir, config, summary, w.astype(np.float32), w_file,
                  seed, task)


def device_spaces(run: SavedRun) -> scoring.Spaces:
  """The run's spaces on the device, as the pipeline builds them."""
  return scoring.device_spaces(run.task)


def mapped_source(spaces: scoring.Spaces, w) -> jax.Array:
  """``normalize_rows(X @ W.T)``: the source space that retrieval searches.

  The pipeline's own function, so that exported and translated vectors are
  exactly what the run scored.
  """
  return scoring.mapped_source(spaces, w)


def aligned_vectors(run: SavedRun, max_words: Optional[int] = None):
  """Both spaces as the run's retrieval saw them, frequent words first.

  Args:
    run: a loaded run.
    max_words: keep only the first ``max_words`` words of each side.

  Returns:
    ``(src_words, mapped_src [n, d], tgt_words, tgt [m, d])`` as NumPy
    float32; rows are unit-norm (zero rows stay zero).
  """
  spaces = device_spaces(run)
  mapped = np.asarray(mapped_source(spaces, run.w))
  tgt = np.asarray(spaces.tgt_unit)
  n = m = None
  if max_words is not None:
    n, m = max_words, max_words
  return (run.task.src.words[:n], mapped[:n], run.task.tgt.words[:m], tgt[:m])


def _batch_size(config) -> Optional[int]:
  return config.eval.batch_size or None


def csls_context(run: SavedRun, spaces: scoring.Spaces,
                 mapped: jax.Array) -> retrieval.CSLSContext:
  """The CSLS r-vectors with the run's ``eval.csls_k``."""
  return retrieval.csls_context(mapped, spaces.tgt_unit,
                                k=run.config.eval.csls_k,
                                batch_size=_batch_size(run.config))


def translate(run: SavedRun, words: Sequence[str], k: int = 5,
              method: str = "csls") -> List[Translation]:
  """Top-k translations of source words by the run's mapping.

  Args:
    run: a loaded run.
    words: source words; each is looked up as written, then lower-cased.
    k: translations per word, at most the target vocabulary size.
    method: a retriever of :data:`bdi_jax.retrieval.RETRIEVERS`.

  Returns:
    One :class:`Translation` per word, in order.
  """
  retrieve = retrieval.get_retriever(method)
  n_tgt = len(run.task.tgt.words)
  if not 1 <= k <= n_tgt:
    raise errors.ConfigError(f"--k={k}: expected 1 <= k <= {n_tgt} (the "
                             "target vocabulary)")
  ids = [dictionaries.lookup_word(w, run.task.src.word_to_index) for w in words]
  known = [i for i in ids if i >= 0]
  results: Dict[int, Translation] = {}
  if known:
    spaces = device_spaces(run)
    mapped = mapped_source(spaces, run.w)
    ctx = csls_context(run, spaces, mapped) if method == "csls" else None
    nb = retrieve(np.asarray(known), mapped, spaces.tgt_unit, k, ctx=ctx,
                  batch_size=_batch_size(run.config))
    indices, scores = np.asarray(nb.indices), np.asarray(nb.scores)
    for row, i in enumerate(known):
      results[i] = ([run.task.tgt.words[t] for t in indices[row]],
                    [float(s) for s in scores[row]])
  return [Translation(w, i >= 0, *(results[i] if i >= 0 else ([], [])))
          for w, i in zip(words, ids)]


def score_run(run: SavedRun) -> scoring.Mapping:
  """Scores the run's mapping on its (possibly replaced) test dictionary.

  Uses :func:`bdi_jax.scoring.score_mapping` with the run's config, so the
  precision on the run's own test dictionary equals ``summary.json``'s.

  Raises:
    ConfigError: the run has no test dictionary and none was given.
  """
  if run.task.test_pairs is None:
    raise errors.ConfigError(
        f"run {run.workdir} has no test dictionary; give one with --dict")
  spaces = device_spaces(run)
  return scoring.score_mapping(spaces, run.w,
                               scoring.settings_from_config(run.config),
                               f"{run.w_file.name} (saved)")


def recorded_precision(run: SavedRun) -> Optional[Dict[str, Dict[str, float]]]:
  """What ``summary.json`` says the saved mapping scored, or None."""
  summary = run.summary or {}
  if run.seed is None:
    return summary.get("refined")
  for entry in summary.get("seeds") or []:
    if entry.get("seed") == run.seed:
      return entry.get("refined")
  return None
