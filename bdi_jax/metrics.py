"""Evaluation of a mapping: word-translation precision and the unsupervised
model-selection criterion.

* :func:`evaluate_translation`: precision@k of NN / CSLS retrieval against a
  gold dictionary, where a source word with several gold translations counts as
  correct if any of them is retrieved (Conneau et al. 2018, Sec. 4.1).
* :func:`mean_cosine_criterion`: the unsupervised validation metric of Conneau
  et al. 2018 (Sec. 3.5): mean cosine between the most frequent source words and
  their CSLS translations. It needs no gold data, so it selects the best epoch
  and refinement iteration.

All neighbour computation goes through :mod:`bdi_jax.retrieval`, reusing one
:class:`~bdi_jax.retrieval.CSLSContext` per mapping.
"""

from typing import Dict, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import retrieval
from bdi_jax.data.dictionaries import pairs_to_gold

__all__ = [
    "precision_at_k",
    "evaluate_translation",
    "mean_cosine_criterion",
    "criterion_value",
    "DEFAULT_BANDS",
    "precision_by_band",
    "evaluate_translation_by_band",
]

# Frequency bands of the source word (its rank; vocabularies are
# frequency-ordered), as (first rank, end rank): frequent vs rare words
# (thesis Sec. 5.4.10). ``None`` as the end: to the end of the vocabulary.
DEFAULT_BANDS = ((0, 1000), (1000, 5000), (5000, 20000), (20000, None))


def precision_at_k(topk_indices: np.ndarray, gold: Sequence[np.ndarray],
                   ks: Sequence[int] = (1, 5, 10)) -> Dict[str, float]:
  """Fraction of queries with a gold translation among their first k results.

  Args:
    topk_indices: ``[q, K]`` retrieved target ids, best first.
    gold: ``q`` arrays of acceptable target ids, one per query.
    ks: cut-offs, each in ``[1, K]``.

  Returns:
    ``{"p@k": fraction in [0, 1]}`` for each ``k`` in ``ks``.
  """
  topk_indices = np.asarray(topk_indices)
  if topk_indices.ndim != 2 or topk_indices.shape[0] != len(gold):
    raise ValueError(
        f"topk_indices must be [q, K] with q = len(gold) = {len(gold)}; got "
        f"{topk_indices.shape}")
  if topk_indices.shape[0] == 0:
    raise ValueError("precision_at_k needs at least one query")
  n_retrieved = topk_indices.shape[1]
  for k in ks:
    if not 1 <= k <= n_retrieved:
      raise ValueError(f"k={k} outside [1, K={n_retrieved}]")
  # hits[i, j]: the j-th result of query i is one of its gold translations.
  hits = np.stack([np.isin(row, g) for row, g in zip(topk_indices, gold)])
  hit_by_rank = np.logical_or.accumulate(hits, axis=1)
  return {f"p@{k}": float(hit_by_rank[:, k - 1].mean()) for k in ks}


def evaluate_translation(mapped_src: jax.Array, tgt: jax.Array,
                         pairs: np.ndarray,
                         ctx: Optional[retrieval.CSLSContext], *,
                         methods: Sequence[str] = ("nn", "csls"),
                         ks: Sequence[int] = (1, 5, 10),
                         batch_size: Optional[int] = None
                         ) -> Dict[str, Dict[str, float]]:
  """Word-translation precision@k of each retrieval method.

  Args:
    mapped_src: ``[n_src, d]`` row-normalised mapped source embeddings.
    tgt: ``[n_tgt, d]`` row-normalised target embeddings.
    pairs: ``[m, 2]`` gold ``(source id, target id)`` pairs; a source word may
      have several translations.
    ctx: :class:`~bdi_jax.retrieval.CSLSContext` of this mapping; required when
      ``"csls"`` is among ``methods``.
    methods: keys of :data:`bdi_jax.retrieval.RETRIEVERS`.
    ks: precision cut-offs.
    batch_size: retrieval chunk size; ``None`` picks it from a memory budget.

  Returns:
    ``{method: {"p@k": fraction}}``, e.g. ``{"nn": {"p@1": 0.4, ...}, ...}``.
  """
  src_ids, gold = pairs_to_gold(pairs)
  if len(src_ids) == 0:
    raise ValueError("evaluate_translation needs at least one gold pair")
  max_k = max(ks)
  results = {}
  for method in methods:
    retrieve = retrieval.get_retriever(method)
    nb = retrieve(src_ids, mapped_src, tgt, max_k, ctx=ctx,
                  batch_size=batch_size)
    results[method] = precision_at_k(np.asarray(nb.indices), gold, ks)
  return results


def mean_cosine_criterion(mapped_src: jax.Array, tgt: jax.Array,
                          ctx: retrieval.CSLSContext, *,
                          n_words: int = 10000,
                          batch_size: Optional[int] = None,
                          max_target_rank: int = 0) -> float:
  """Unsupervised criterion: mean cosine of frequent words and translations.

  Each of the ``n_words`` most frequent source words (the first rows) is
  translated by CSLS top-1 over the whole target vocabulary, and the cosine
  between the mapped source word and its translation is averaged.

  Args:
    mapped_src: ``[n_src, d]`` row-normalised mapped source embeddings,
      frequency-ordered.
    tgt: ``[n_tgt, d]`` row-normalised target embeddings.
    ctx: :class:`~bdi_jax.retrieval.CSLSContext` of this mapping.
    n_words: number of source words used (all if larger than ``n_src``).
    batch_size: retrieval chunk size; ``None`` picks it from a memory budget.
    max_target_rank: when positive, a pair whose translation is not among
      the ``max_target_rank`` most frequent target words is left out of the
      mean (Conneau et al. 2018, Sec. 3.5; the thesis, Sec. 5.2.7, step 4).
      When every pair is left out the criterion is -1, the lowest cosine, so
      such a mapping is never selected. 0 = keep every pair.

  Returns:
    The mean cosine, a Python float.
  """
  return float(criterion_value(mapped_src, tgt, ctx, n_words=n_words,
                               batch_size=batch_size,
                               max_target_rank=max_target_rank))


def criterion_value(mapped_src: jax.Array, tgt: jax.Array,
                    ctx: retrieval.CSLSContext, *, n_words: int = 10000,
                    batch_size: Optional[int] = None,
                    max_target_rank: int = 0) -> jax.Array:
  """:func:`mean_cosine_criterion` as a traceable scalar (no host sync), for
  use inside ``jit`` (e.g. over seeds in bdi_jax/scoring.py); ``n_words`` and
  ``max_target_rank`` are static."""
  if n_words < 1:
    raise ValueError(f"n_words must be >= 1, got {n_words}")
  if max_target_rank < 0:
    raise ValueError(f"max_target_rank must be >= 0, got {max_target_rank}")
  src_ids = jnp.arange(min(n_words, mapped_src.shape[0]))
  nb = retrieval.csls_retrieve(src_ids, mapped_src, tgt, 1, ctx=ctx,
                               batch_size=batch_size)
  # True cosine (re-normalised), so a mapping that drifts slightly from
  # orthogonal is not rewarded for inflating norms.
  queries = retrieval.normalize_rows(mapped_src[src_ids])
  translations = retrieval.normalize_rows(tgt[nb.indices[:, 0]])
  cosines = jnp.sum(queries * translations, axis=1)
  if max_target_rank <= 0:
    return jnp.mean(cosines)
  # A mask, not a filter: the shape stays static under jit.
  kept = nb.indices[:, 0] < max_target_rank
  n_kept = jnp.sum(kept)
  total = jnp.sum(jnp.where(kept, cosines, 0.0))
  return jnp.where(n_kept > 0, total / jnp.maximum(n_kept, 1), -1.0)


def _band_name(start: int, end: Optional[int]) -> str:
  return f"{start}-{end}" if end is not None else f"{start}+"


def precision_by_band(topk_indices: np.ndarray, src_ids: np.ndarray,
                      gold: Sequence[np.ndarray],
                      bands=DEFAULT_BANDS,
                      ks: Sequence[int] = (1, 5, 10)
                      ) -> Dict[str, Dict[str, float]]:
  """Precision@k of the queries whose source rank falls in each band.

  Args:
    topk_indices: ``[q, K]`` retrieved target ids, best first.
    src_ids: ``[q]`` source ids of the queries (= frequency ranks).
    gold: ``q`` arrays of acceptable target ids.
    bands: ``(start, end)`` rank ranges, ``end`` exclusive or ``None``.
    ks: cut-offs.

  Returns:
    ``{"start-end": {"queries": n, "p@k": ...}}`` for every band; a band
    without queries has ``queries: 0`` and no precision.
  """
  src_ids = np.asarray(src_ids)
  topk_indices = np.asarray(topk_indices)
  if src_ids.shape != (topk_indices.shape[0],):
    raise ValueError(f"src_ids must be [q] with q = {topk_indices.shape[0]}; "
                     f"got {src_ids.shape}")
  out = {}
  for start, end in bands:
    mask = src_ids >= start
    if end is not None:
      mask &= src_ids < end
    rows = np.flatnonzero(mask)
    entry: Dict[str, float] = {"queries": int(len(rows))}
    if len(rows):
      entry.update(precision_at_k(topk_indices[rows],
                                  [gold[i] for i in rows], ks))
    out[_band_name(start, end)] = entry
  return out


def evaluate_translation_by_band(mapped_src: jax.Array, tgt: jax.Array,
                                 pairs: np.ndarray,
                                 ctx: Optional[retrieval.CSLSContext], *,
                                 bands=DEFAULT_BANDS,
                                 methods: Sequence[str] = ("nn", "csls"),
                                 ks: Sequence[int] = (1, 5, 10),
                                 batch_size: Optional[int] = None
                                 ) -> Dict[str, Dict[str, Dict[str, float]]]:
  """:func:`evaluate_translation`, split by the source word's frequency band.

  Same arguments as :func:`evaluate_translation`, plus ``bands`` (see
  :func:`precision_by_band`).

  Returns:
    ``{method: {band: {"queries": n, "p@k": fraction}}}``.
  """
  src_ids, gold = pairs_to_gold(pairs)
  if len(src_ids) == 0:
    raise ValueError("evaluate_translation_by_band needs at least one pair")
  results = {}
  for method in methods:
    nb = retrieval.get_retriever(method)(src_ids, mapped_src, tgt, max(ks),
                                          ctx=ctx, batch_size=batch_size)
    results[method] = precision_by_band(np.asarray(nb.indices),
                                        np.asarray(src_ids), gold, bands, ks)
  return results
