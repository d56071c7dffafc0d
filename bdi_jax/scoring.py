"""Scoring a mapping: the unsupervised criterion and the test precision.

Every check of the adversarial phase and every refinement round scores
mappings; a run trains several seeds, so :func:`score_batch` scores a stack of
mappings ``[S, d, d]`` in one compiled call (``lax.map``: one seed after
another inside the program, so memory stays that of one seed, and the host
syncs once). The pieces are the library's own:
:func:`bdi_jax.retrieval.csls_context`, the retrievers of
:data:`bdi_jax.retrieval.RETRIEVERS` and :func:`bdi_jax.metrics.criterion_value`.

Host side, :class:`Mapping` is a scored mapping, with its CSLS r-vectors
kept (the expensive part at 200k words) so the criterion, the evaluation and
the dictionary reuse them.
"""

import dataclasses
import functools
from typing import Dict, List, NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import metrics, models, retrieval
from bdi_jax.data import tasks
from bdi_jax.data.dictionaries import pairs_to_gold

__all__ = ["Settings", "settings_from_config", "Scores", "score_batch",
           "Mapping", "Spaces", "device_spaces", "mapped_source",
           "test_queries", "mapping_from_scores", "score_mappings",
           "score_mapping", "identity_mapping", "precision_by_band"]


class Settings(NamedTuple):
  """Static (hashable) settings of scoring and refinement."""
  csls_k: int = 10
  n_words: int = 10000  # Criterion words.
  methods: Tuple[str, ...] = ("nn", "csls")  # Test retrieval methods.
  ks: Tuple[int, ...] = (1, 5, 10)  # Test precision cut-offs.
  batch_size: Optional[int] = None  # Retrieval chunk; None: from memory.
  refine_method: str = "csls"
  refine_mode: str = "S2T&T2S"
  max_rank: int = 15000
  n_rounds: int = 5
  # Criterion: drop pairs whose translation ranks above this (0 = keep all).
  criterion_max_target_rank: int = 0

  @property
  def max_k(self) -> int:
    """Neighbours retrieved per test query."""
    return int(max(self.ks))


def settings_from_config(config) -> Settings:
  """The scoring and refinement settings of a run's config."""
  e, r = config.eval, config.refine
  return Settings(
      csls_k=int(e.csls_k), n_words=int(e.criterion_words),
      methods=tuple(e.methods), ks=tuple(int(k) for k in e.ks),
      batch_size=e.batch_size or None, refine_method=r.method,
      refine_mode=r.mode, max_rank=int(r.max_rank), n_rounds=int(r.n_rounds),
      criterion_max_target_rank=int(e.get("criterion_max_target_rank", 0)))


class Scores(NamedTuple):
  """What scoring returns per mapping (a leading seed axis when batched)."""
  criterion: jax.Array  # []
  r_src: jax.Array  # [n_src] CSLS r-vectors (a retrieval.CSLSContext).
  r_tgt: jax.Array  # [n_tgt]
  top: Tuple[jax.Array, ...]  # Per test method: [q, max_k] target ids.


def mapped_unit(w, src):
  """``normalize_rows(src @ w.T)``: the source side as retrieval sees it."""
  return retrieval.normalize_rows(models.apply_mapping(w, src))


def score_one(w, src, tgt_unit, query_ids, s: Settings) -> Scores:
  """:class:`Scores` of one mapping (traceable)."""
  mapped = mapped_unit(w, src)
  ctx = retrieval.csls_context(mapped, tgt_unit, k=s.csls_k,
                               batch_size=s.batch_size)
  criterion = metrics.criterion_value(
      mapped, tgt_unit, ctx, n_words=s.n_words, batch_size=s.batch_size,
      max_target_rank=s.criterion_max_target_rank)
  top = ()
  if query_ids is not None:
    top = tuple(
        retrieval.get_retriever(m)(query_ids, mapped, tgt_unit, s.max_k,
                                   ctx=ctx, batch_size=s.batch_size).indices
        for m in s.methods)
  return Scores(criterion, ctx.r_src, ctx.r_tgt, top)


@functools.partial(jax.jit, static_argnames=("settings",))
def score_batch(ws: jax.Array, src: jax.Array, tgt_unit: jax.Array,
                query_ids: Optional[jax.Array], settings: Settings) -> Scores:
  """Scores ``ws: [S, d, d]``; every field of the result has a leading S.

  Args:
    ws: mappings, applied as ``src @ w.T``.
    src: ``[n_src, d]`` source embeddings as trained on.
    tgt_unit: ``[n_tgt, d]`` row-normalised target embeddings.
    query_ids: ``[q]`` source ids of the test queries, or None.
    settings: see :class:`Settings`.
  """
  return jax.lax.map(
      lambda w: score_one(w, src, tgt_unit, query_ids, settings), ws)


# ---------------------------------------------------------------------------
# Host side.
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class Mapping:
  """A candidate mapping and what we know of it."""
  w: np.ndarray  # [d, d]
  criterion: float
  precision: Optional[Dict[str, Dict[str, float]]]  # {"nn": {"p@1":..}, ...}
  origin: str  # e.g. "adversarial epoch 3", "refinement round 2".
  # The CSLS r-vectors of this mapping, computed once and reused.
  ctx: retrieval.CSLSContext
  # Unsupervised signals of the refinement that produced it (detector.py).
  signals: Dict[str, float] = dataclasses.field(default_factory=dict)


class Spaces(NamedTuple):
  """A task's embeddings on the device, uploaded and normalised once per run
  (at 200k x 300 each upload is ~240 MB, and scoring happens every epoch)."""
  src: jax.Array  # [n_src, d] as trained on (config normalisation applied).
  tgt: jax.Array  # [n_tgt, d]
  tgt_unit: jax.Array  # [n_tgt, d] row-normalised, for retrieval.
  test_pairs: Optional[np.ndarray]  # [m, 2] gold pairs, or None.


def device_spaces(task: tasks.Task) -> Spaces:
  tgt = jnp.asarray(task.tgt_vectors)
  return Spaces(jnp.asarray(task.src_vectors), tgt,
                retrieval.normalize_rows(tgt), task.test_pairs)


def mapped_source(spaces: Spaces, w) -> jax.Array:
  return mapped_unit(jnp.asarray(w), spaces.src)


def test_queries(spaces: Spaces):
  """``(source ids [q], gold)`` of the test dictionary, or ``(None, None)``."""
  if spaces.test_pairs is None:
    return None, None
  src_ids, gold = pairs_to_gold(spaces.test_pairs)
  return jnp.asarray(src_ids), gold


def mapping_from_scores(scores: Scores, w, gold, settings: Settings,
                        origin: str) -> Mapping:
  """A host-side Mapping from one mapping's (device_get) scores."""
  precision = None
  if gold is not None:
    precision = {m: metrics.precision_at_k(top, gold, settings.ks)
                 for m, top in zip(settings.methods, scores.top)}
  ctx = retrieval.CSLSContext(jnp.asarray(scores.r_src),
                              jnp.asarray(scores.r_tgt), settings.csls_k)
  return Mapping(np.asarray(w), float(scores.criterion), precision, origin,
                 ctx)


def score_mappings(spaces: Spaces, ws, settings: Settings,
                   origin: str) -> List[Mapping]:
  """Criterion and test precision of each ``ws[i]``, in one compiled call."""
  ws = np.asarray(ws, np.float32)
  if len(ws) == 0:
    return []
  queries, gold = test_queries(spaces)
  scores = jax.device_get(score_batch(jnp.asarray(ws), spaces.src,
                                      spaces.tgt_unit, queries, settings))
  return [mapping_from_scores(jax.tree.map(lambda x, i=i: x[i], scores), w,
                              gold, settings, origin)
          for i, w in enumerate(ws)]


def score_mapping(spaces: Spaces, w, settings: Settings,
                  origin: str) -> Mapping:
  """:func:`score_mappings` of one mapping."""
  return score_mappings(spaces, np.asarray(w)[None], settings, origin)[0]


def identity_mapping(spaces: Spaces, settings: Settings) -> Mapping:
  """The identity mapping, scored: what an unrelated map scores (the take-off
  level and the failure detector's reference)."""
  return score_mapping(spaces, models.init_mapping(spaces.src.shape[1]),
                       settings, "identity mapping")


def precision_by_band(spaces: Spaces, mapping: Mapping, settings: Settings):
  """P@k by frequency band of the source word (thesis §5.4.10: frequent vs
  rare words), or None without a test dictionary. Computed for final
  mappings only: per-epoch scoring does not need it."""
  if spaces.test_pairs is None:
    return None
  return metrics.evaluate_translation_by_band(
      mapped_source(spaces, mapping.w), spaces.tgt_unit, spaces.test_pairs,
      mapping.ctx, methods=settings.methods, ks=settings.ks,
      batch_size=settings.batch_size)
