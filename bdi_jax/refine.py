"""Refinement: dictionary induction from a mapping, and orthogonal Procrustes.

One refinement iteration (Conneau et al. 2018, Sec. 2.2-2.3) is::

  ctx = retrieval.csls_context(mapped_src, tgt)
  dico = build_dictionary(mapped_src, tgt, ctx)
  w = procrustes(src[dico.pairs[:, 0]], tgt[dico.pairs[:, 1]])

The training loop composes these; nothing here holds state.

Dictionary building keeps only the ``max_rank`` most frequent words on each
side as candidates (vocabularies are frequency-ordered, so these are the first
rows), because rare words have noisy embeddings. All retrieval goes through
the registry of :mod:`bdi_jax.retrieval`.
"""

from typing import Callable, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import retrieval

__all__ = [
    "InducedDictionary",
    "BUILD_MODES",
    "procrustes",
    "build_dictionary",
    "get_build_mode",
]


class InducedDictionary(NamedTuple):
  """Translation pairs induced from a mapping, best first.

  Attributes:
    pairs: ``[m, 2]`` int32 ``(source id, target id)``, unique.
    scores: ``[m]`` similarity of each pair under the retrieval method
      (descending).
  """
  pairs: np.ndarray
  scores: np.ndarray


def procrustes(src: jax.Array, tgt: jax.Array) -> jax.Array:
  """Orthogonal ``W`` minimising ``||src @ W.T - tgt||_F``.

  Closed form (Schönemann 1966): with ``U S V^T = svd(tgt^T src)``,
  ``W = U V^T``.

  Args:
    src: ``[m, d]`` source embeddings of the dictionary pairs.
    tgt: ``[m, d]`` target embeddings of the same pairs.

  Returns:
    ``W: [d, d]`` orthogonal, to be applied as ``src @ W.T``.
  """
  if src.ndim != 2 or src.shape != tgt.shape:
    raise ValueError(
        f"src and tgt must both be [m, d]; got {src.shape} and {tgt.shape}")
  u, _, vt = jnp.linalg.svd(tgt.T @ src, full_matrices=False)
  return u @ vt


def _effective_rank(max_rank: int, n: int) -> int:
  return n if max_rank <= 0 or max_rank > n else int(max_rank)


class _Candidates:
  """Lazily computed best match in each direction, restricted to top ranks.

  Modes that need only one direction never pay for the other.
  """

  def __init__(self, mapped_src, tgt, ctx, method, max_rank, batch_size):
    self._retrieve = retrieval.get_retriever(method)
    n_src = _effective_rank(max_rank, mapped_src.shape[0])
    n_tgt = _effective_rank(max_rank, tgt.shape[0])
    self._src = mapped_src[:n_src]
    self._tgt = tgt[:n_tgt]
    # The r-terms stay the full-vocabulary ones: restricting candidates must not
    # change how crowded each word's neighbourhood is.
    self._ctx = None if ctx is None else retrieval.CSLSContext(
        ctx.r_src[:n_src], ctx.r_tgt[:n_tgt], ctx.k)
    self._batch_size = batch_size
    self._s2t = self._t2s = None

  def s2t(self):
    """``(pairs [n_src, 2], scores)``: each source word -> its best target."""
    if self._s2t is None:
      nb = self._retrieve(None, self._src, self._tgt, 1, ctx=self._ctx,
                          batch_size=self._batch_size)
      src_ids = np.arange(self._src.shape[0])
      self._s2t = _as_pairs(src_ids, np.asarray(nb.indices[:, 0]), nb.scores)
    return self._s2t

  def t2s(self):
    """``(pairs [n_tgt, 2], scores)``: each target word -> its best source."""
    if self._t2s is None:
      ctx = None if self._ctx is None else self._ctx.reverse()
      nb = self._retrieve(None, self._tgt, self._src, 1, ctx=ctx,
                          batch_size=self._batch_size)
      tgt_ids = np.arange(self._tgt.shape[0])
      self._t2s = _as_pairs(np.asarray(nb.indices[:, 0]), tgt_ids, nb.scores)
    return self._t2s


def _as_pairs(src_ids, tgt_ids, scores):
  pairs = np.stack([src_ids, tgt_ids], axis=1).astype(np.int32)
  return pairs, np.asarray(scores[:, 0], dtype=np.float32)


def _combine(a, b, keep_both_only: bool):
  """Union or intersection of two scored pair sets.

  A pair found in both directions has the same score in both (cosine and
  CSLS are symmetric given the full-vocabulary r-terms), up to rounding; the
  larger one is kept.
  """
  pairs = np.concatenate([a[0], b[0]])
  scores = np.concatenate([a[1], b[1]])
  uniq, inverse, counts = np.unique(pairs, axis=0, return_inverse=True,
                                    return_counts=True)
  best = np.full(len(uniq), -np.inf, dtype=np.float32)
  np.maximum.at(best, inverse.reshape(-1), scores)
  # Each direction holds a pair at most once, so a count of 2 means both.
  keep = counts == 2 if keep_both_only else np.ones(len(uniq), bool)
  return uniq[keep], best[keep]


BuildMode = Callable[[_Candidates], tuple]

BUILD_MODES: Dict[str, BuildMode] = {
    "S2T": lambda c: c.s2t(),
    "T2S": lambda c: c.t2s(),
    "S2T|T2S": lambda c: _combine(c.s2t(), c.t2s(), keep_both_only=False),
    "S2T&T2S": lambda c: _combine(c.s2t(), c.t2s(), keep_both_only=True),
}


def get_build_mode(name: str) -> BuildMode:
  """Looks up a dictionary-building rule of :data:`BUILD_MODES` by name."""
  try:
    return BUILD_MODES[name]
  except KeyError:
    raise ValueError(
        f"unknown dictionary build mode {name!r}; expected one of "
        f"{sorted(BUILD_MODES)}") from None


def build_dictionary(mapped_src: jax.Array, tgt: jax.Array,
                     ctx: Optional[retrieval.CSLSContext], *,
                     method: str = "csls", mode: str = "S2T&T2S",
                     max_rank: int = 15000,
                     batch_size: Optional[int] = None) -> InducedDictionary:
  """Induces a dictionary from mapped embeddings.

  Args:
    mapped_src: ``[n_src, d]`` row-normalised mapped source embeddings,
      frequency-ordered.
    tgt: ``[n_tgt, d]`` row-normalised target embeddings, frequency-ordered.
    ctx: :class:`~bdi_jax.retrieval.CSLSContext` of the full vocabularies;
      required for ``method="csls"``, ignored for ``"nn"``.
    method: a key of :data:`bdi_jax.retrieval.RETRIEVERS`.
    mode: a key of :data:`BUILD_MODES`: ``"S2T"`` (each source word -> best
      target), ``"T2S"`` (each target -> best source), ``"S2T|T2S"`` (union)
      or ``"S2T&T2S"`` (intersection, i.e. mutual nearest neighbours).
    max_rank: only the first ``max_rank`` words of each side are queries and
      candidates; ``<= 0`` or larger than the vocabulary means all.
    batch_size: retrieval chunk size; ``None`` picks it from a memory budget.

  Returns:
    :class:`InducedDictionary` with unique pairs sorted by score descending
    (ties by source then target id).

  Raises:
    ValueError: unknown ``method`` or ``mode``, or no pair with a finite
      score induced.
  """
  build = get_build_mode(mode)
  candidates = _Candidates(mapped_src, tgt, ctx, method, max_rank, batch_size)
  pairs, scores = build(candidates)
  # A diverged mapping (NaN/inf embeddings) yields meaningless neighbours;
  # dropping them turns it into the explicit error below.
  finite = np.isfinite(scores)
  pairs, scores = pairs[finite], scores[finite]
  if len(pairs) == 0:
    raise ValueError(
        f"build_dictionary(method={method!r}, mode={mode!r}, "
        f"max_rank={max_rank}) induced no pairs; the mapping is probably "
        "degenerate")
  order = np.lexsort((pairs[:, 1], pairs[:, 0], -scores))
  return InducedDictionary(pairs=pairs[order].astype(np.int32),
                           scores=scores[order].astype(np.float32))
