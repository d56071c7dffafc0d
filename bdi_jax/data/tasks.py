"""A *task*: the two embedding spaces and the dictionaries of one experiment.

``load_task(config.data)`` is the only place that turns a data config into
arrays. Every file is checked before anything is read, so a missing download is
reported at once, with the command that fetches it, rather than after minutes of
loading.
"""

import warnings
from typing import NamedTuple, Optional

import numpy as np

from bdi_jax import errors
from bdi_jax import paths
from bdi_jax.data import catalogue
from bdi_jax.data import dictionaries
from bdi_jax.data import synthetic
from bdi_jax.data import word_checks
from bdi_jax.data.dictionaries import Coverage, load_dictionary
from bdi_jax.data.embeddings import (NORMALIZERS, Embeddings, load_vec,
                                     normalize_embeddings)

__all__ = ["Task", "MissingDataError", "load_task", "normalization_methods",
           "BUILT_IN_DICTIONARIES"]

# Dictionary names that are not files: name -> builder of a Dictionary from
# the two vocabularies (word -> row). ``data.train_dict = "identical"`` trains
# a supervised method on the words both languages write the same (MUSE's
# ``identical_char``).
BUILT_IN_DICTIONARIES = {
    "identical": dictionaries.identical_strings,
}


class MissingDataError(errors.BdiError, FileNotFoundError):
  """Data files named by a config are not on disk (message says how to fetch)."""


class Task(NamedTuple):
  src: Embeddings  # Vectors as read (or generated), frequency-ordered.
  tgt: Embeddings
  src_vectors: np.ndarray  # [n_src, d] after the config's normalisation.
  tgt_vectors: np.ndarray  # [n_tgt, d]
  test_pairs: Optional[np.ndarray]  # [m, 2] gold (src id, tgt id) or None.
  test_coverage: Optional[Coverage]
  train_pairs: Optional[np.ndarray]  # [m', 2] for supervised runs, or None.
  train_coverage: Optional[Coverage]
  description: str  # One line for reports, e.g. says "synthetic".
  synthetic: bool


def normalization_methods(spec: str):
  """``"center,renorm"`` -> ``("center", "renorm")``.

  Names are those of :data:`bdi_jax.data.NORMALIZERS`, vecmap's ``unit``,
  ``center`` and ``unitdim`` included (e.g. ``"unit,center,unit"``).

  Raises:
    ConfigError: an unknown name (the message names ``config.data.normalize``).
  """
  methods = tuple(m.strip() for m in spec.split(",") if m.strip())
  unknown = [m for m in methods if m not in NORMALIZERS]
  if unknown:
    raise errors.ConfigError(
        f"config.data.normalize={spec!r}: unknown normalisation(s) "
        f"{', '.join(unknown)}; known: {', '.join(sorted(NORMALIZERS))} "
        "(comma-separated, applied in order)")
  return methods


def _synthetic_task(data_config) -> Task:
  cfg = data_config.synthetic
  task = synthetic.make_synthetic_task(
      seed=cfg.seed, n_concepts=cfg.n_concepts, dim=cfg.dim,
      n_clusters=cfg.n_clusters, keep_fraction=cfg.keep_fraction,
      noise=cfg.noise, spectrum_decay=cfg.spectrum_decay,
      n_train=cfg.n_train, n_test=cfg.n_test)
  methods = normalization_methods(data_config.normalize)
  n_test = len(np.unique(task.test_pairs[:, 0]))
  coverage = Coverage(len(task.test_pairs), len(task.test_pairs), n_test, n_test)
  return Task(
      src=task.src, tgt=task.tgt,
      src_vectors=normalize_embeddings(task.src.vectors, methods),
      tgt_vectors=normalize_embeddings(task.tgt.vectors, methods),
      test_pairs=task.test_pairs, test_coverage=coverage,
      train_pairs=task.train_pairs,
      train_coverage=Coverage(len(task.train_pairs), len(task.train_pairs),
                              len(task.train_pairs), len(task.train_pairs)),
      description=(f"SYNTHETIC data (generated, seed {cfg.seed}): "
                   f"{len(task.src.words)} x {len(task.tgt.words)} words, "
                   f"{cfg.dim}-d, clustered and anisotropic, hidden random "
                   "rotation"),
      synthetic=True)


def _drop_test_words(train_pairs: np.ndarray, test_pairs: np.ndarray):
  # A supervised baseline must not see any test source word during training.
  return train_pairs[~np.isin(train_pairs[:, 0], test_pairs[:, 0])]


def load_task(data_config, root=None, *, needs_train_dict: bool = True
              ) -> Task:
  """Loads (or generates) the data of an experiment.

  Args:
    data_config: the ``config.data`` section (see experiments/configs).
    root: data root; defaults to :func:`bdi_jax.paths.data_root`.
    needs_train_dict: whether ``data.train_dict`` is read (when set). Runs
      without supervision (the GANs) pass False, so that neither its file nor
      its download is asked for.

  Raises:
    MissingDataError: a file named by the config does not exist.
    DataError: a path names a folder, or a file is malformed (embedding and
      dictionary readers' own errors), or the two spaces do not fit.
    ConfigError: ``data.kind`` or ``data.normalize`` is unknown.
  """
  if data_config.kind == "synthetic":
    return _synthetic_task(data_config)
  if data_config.kind != "files":
    raise errors.ConfigError(
        f"config.data.kind={data_config.kind!r}: expected 'files' or "
        "'synthetic'")
  methods = normalization_methods(data_config.normalize)  # Before any read.

  named = {"src_emb": data_config.src_emb, "tgt_emb": data_config.tgt_emb,
           "test_dict": data_config.test_dict}
  train_name = data_config.train_dict if needs_train_dict else ""
  built_in = BUILT_IN_DICTIONARIES.get(train_name)
  if train_name and built_in is None:
    named["train_dict"] = train_name
  files = {k: paths.resolve(v, root) for k, v in named.items() if v}
  missing = [p for p in files.values() if not p.exists()]
  if missing:
    raise MissingDataError(catalogue.missing_files_message(missing))
  for field, path in files.items():
    if path.is_dir():
      raise errors.DataError(
          f"config.data.{field}={named[field]!r}: {path} is a folder; give "
          "the path of a file in it")

  max_vocab = data_config.max_vocab or None
  src = load_vec(files["src_emb"], max_vocab=max_vocab)
  tgt = load_vec(files["tgt_emb"], max_vocab=max_vocab)
  if src.dim != tgt.dim:
    raise errors.DataError(
        f"{src.path} is {src.dim}-d but {tgt.path} is {tgt.dim}-d; a linear "
        "map needs equal dimensions (config.data.src_emb, "
        "config.data.tgt_emb)")

  test_pairs = test_coverage = train_pairs = train_coverage = None
  if "test_dict" in files:
    test = load_dictionary(files["test_dict"], src.word_to_index,
                           tgt.word_to_index)
    test_pairs, test_coverage = test.pairs, test.coverage
    reversed_note = word_checks.direction_warning(
        files["test_dict"], src.word_to_index, tgt.word_to_index,
        data_config.src_lang, data_config.tgt_lang)
    if reversed_note:
      warnings.warn(reversed_note, stacklevel=2)
  train = None
  if built_in is not None:
    train = built_in(src.word_to_index, tgt.word_to_index,
                     name=f"config.data.train_dict={train_name!r}")
  elif "train_dict" in files:
    train = load_dictionary(files["train_dict"], src.word_to_index,
                            tgt.word_to_index)
  if train is not None:
    train_pairs, train_coverage = train.pairs, train.coverage
    if test_pairs is not None and data_config.get("train_exclude_test", True):
      train_pairs = _drop_test_words(train_pairs, test_pairs)
      if len(train_pairs) == 0:
        raise errors.DataError(
            f"{train.path}: no training pair is left once the test source "
            "words are removed (config.data.train_exclude_test)")

  return Task(
      src=src, tgt=tgt,
      src_vectors=normalize_embeddings(src.vectors, methods),
      tgt_vectors=normalize_embeddings(tgt.vectors, methods),
      test_pairs=test_pairs, test_coverage=test_coverage,
      train_pairs=train_pairs, train_coverage=train_coverage,
      description=(f"{data_config.src_lang}->{data_config.tgt_lang}: "
                   f"{len(src.words)} x {len(tgt.words)} words, {src.dim}-d "
                   f"({files['src_emb'].name}, {files['tgt_emb'].name})"),
      synthetic=False)
