"""Dictionary induction from a mapping (Conneau et al. 2018, Sec. 2.2-2.3).

Each side's best match under NN or CSLS retrieval (``s2t [n_s]``,
``t2s [n_t]``), restricted to the ``max_rank`` most frequent words of each side
(vocabularies are frequency-ordered; rare words have noisy embeddings), and a
rule of :data:`MODES` saying which of the pairs ``(i, s2t[i])`` and
``(t2s[j], j)`` the dictionary keeps. Kept as masks, the dictionary has a
fixed shape, so a refinement round (bdi_jax/refine.py) compiles;
:func:`build_dictionary` turns it into sorted pairs on the host (the run's
``dictionary.tsv``, export).
"""

from typing import Callable, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import retrieval

__all__ = ["InducedDictionary", "MODES", "get_mode", "effective_rank",
           "induce", "shared_pairs", "dictionary_pairs", "SortedPairs",
           "build_dictionary"]


class InducedDictionary(NamedTuple):
  """Pairs ``(i, s2t[i])`` where ``keep_s2t[i]``, and ``(t2s[j], j)`` where
  ``keep_t2s[j]``; no pair is kept twice."""
  s2t: jax.Array  # [n_s] int32
  t2s: jax.Array  # [n_t] int32
  keep_s2t: jax.Array  # [n_s] bool
  keep_t2s: jax.Array  # [n_t] bool
  score_s2t: jax.Array  # [n_s] similarity of (i, s2t[i])
  score_t2s: jax.Array  # [n_t] similarity of (t2s[j], j)

  def size(self) -> jax.Array:
    return self.keep_s2t.sum() + self.keep_t2s.sum()


def _s2t(s2t, t2s, ok_s2t, ok_t2s):
  del s2t, t2s
  return ok_s2t, jnp.zeros_like(ok_t2s)


def _t2s(s2t, t2s, ok_s2t, ok_t2s):
  del s2t, t2s
  return jnp.zeros_like(ok_s2t), ok_t2s


def _union(s2t, t2s, ok_s2t, ok_t2s):
  # (t2s[j], j) is already among the source side's pairs when t2s[j]'s own
  # best target is j.
  already = ok_s2t[t2s] & (s2t[t2s] == jnp.arange(t2s.shape[0]))
  return ok_s2t, ok_t2s & ~already


def _intersection(s2t, t2s, ok_s2t, ok_t2s):
  mutual = t2s[s2t] == jnp.arange(s2t.shape[0])
  return ok_s2t & ok_t2s[s2t] & mutual, jnp.zeros_like(ok_t2s)


Mode = Callable[..., tuple]

# ``(s2t, t2s, ok_s2t, ok_t2s) -> (keep_s2t, keep_t2s)``; ``ok_*``: the
# match's score is finite (a diverged mapping's NaN neighbours are dropped).
MODES: Dict[str, Mode] = {
    "S2T": _s2t,  # Each source word -> its best target.
    "T2S": _t2s,  # Each target word -> its best source.
    "S2T|T2S": _union,
    "S2T&T2S": _intersection,  # Mutual nearest neighbours.
}


def get_mode(name: str) -> Mode:
  """Looks up a dictionary-building rule of :data:`MODES` by name."""
  try:
    return MODES[name]
  except KeyError:
    raise ValueError(
        f"unknown dictionary build mode {name!r}; expected one of "
        f"{sorted(MODES)}") from None


def effective_rank(max_rank: int, n: int) -> int:
  """How many of ``n`` frequency-ordered words are candidates."""
  return n if max_rank <= 0 or max_rank > n else int(max_rank)


def induce(mapped: jax.Array, tgt_unit: jax.Array,
           ctx: Optional[retrieval.CSLSContext], *, method: str, mode: str,
           max_rank: int, batch_size: Optional[int]) -> InducedDictionary:
  """The induced dictionary of row-normalised ``mapped [n_src, d]`` and
  ``tgt_unit [n_tgt, d]`` (traceable).

  ``ctx`` holds the full vocabularies' CSLS r-terms (restricting the
  candidates must not change how crowded each word's neighbourhood is);
  None is allowed for ``method="nn"``.
  """
  rule = get_mode(mode)
  retrieve = retrieval.get_retriever(method)
  n_s = effective_rank(max_rank, mapped.shape[0])
  n_t = effective_rank(max_rank, tgt_unit.shape[0])
  if ctx is not None:
    ctx = retrieval.CSLSContext(ctx.r_src[:n_s], ctx.r_tgt[:n_t], ctx.k)
  fwd = retrieve(None, mapped[:n_s], tgt_unit[:n_t], 1, ctx=ctx,
                 batch_size=batch_size)
  bwd = retrieve(None, tgt_unit[:n_t], mapped[:n_s], 1,
                 ctx=None if ctx is None else ctx.reverse(),
                 batch_size=batch_size)
  s2t, t2s = fwd.indices[:, 0], bwd.indices[:, 0]
  score_s2t, score_t2s = fwd.scores[:, 0], bwd.scores[:, 0]
  keep_s2t, keep_t2s = rule(s2t, t2s, jnp.isfinite(score_s2t),
                            jnp.isfinite(score_t2s))
  return InducedDictionary(s2t, t2s, keep_s2t, keep_t2s, score_s2t,
                           score_t2s)


def shared_pairs(d: InducedDictionary, p: InducedDictionary) -> jax.Array:
  """How many pairs of ``d`` are also pairs of ``p`` (traceable)."""
  def in_p(i, j):  # Pair (i, j) in p, through either of its parts.
    return ((p.keep_s2t[i] & (p.s2t[i] == j))
            | (p.keep_t2s[j] & (p.t2s[j] == i)))
  src_ids = jnp.arange(d.s2t.shape[0])
  tgt_ids = jnp.arange(d.t2s.shape[0])
  return (jnp.sum(d.keep_s2t & in_p(src_ids, d.s2t))
          + jnp.sum(d.keep_t2s & in_p(d.t2s, tgt_ids)))


class SortedPairs(NamedTuple):
  """Induced pairs on the host, best first.

  Attributes:
    pairs: ``[m, 2]`` int32 ``(source id, target id)``, unique.
    scores: ``[m]`` similarity of each pair under the retrieval method
      (descending; ties by source then target id).
  """
  pairs: np.ndarray
  scores: np.ndarray


def dictionary_pairs(d: InducedDictionary) -> SortedPairs:
  """The kept pairs of ``d``, sorted best first.

  A pair found in both directions takes the larger of its two scores (equal
  up to rounding: cosine and CSLS are symmetric given the full-vocabulary
  r-terms).
  """
  d = jax.device_get(d)
  a = np.flatnonzero(d.keep_s2t)
  b = np.flatnonzero(d.keep_t2s)
  fwd_tgt = d.s2t[a]
  score_a = np.asarray(d.score_s2t[a], np.float32)
  # Pairs kept from the source side that the target side found too.
  mutual = d.t2s[fwd_tgt] == a
  score_a = np.where(mutual, np.maximum(score_a, d.score_t2s[fwd_tgt]),
                     score_a)
  pairs = np.concatenate([np.stack([a, fwd_tgt], 1),
                          np.stack([d.t2s[b], b], 1)]).astype(np.int32)
  scores = np.concatenate([score_a, d.score_t2s[b]]).astype(np.float32)
  order = np.lexsort((pairs[:, 1], pairs[:, 0], -scores))
  return SortedPairs(pairs[order], scores[order])


def build_dictionary(mapped_src: jax.Array, tgt: jax.Array,
                     ctx: Optional[retrieval.CSLSContext], *,
                     method: str = "csls", mode: str = "S2T&T2S",
                     max_rank: int = 15000,
                     batch_size: Optional[int] = None) -> SortedPairs:
  """Induces a dictionary from mapped embeddings, on the host.

  Args:
    mapped_src: ``[n_src, d]`` row-normalised mapped source embeddings,
      frequency-ordered.
    tgt: ``[n_tgt, d]`` row-normalised target embeddings, frequency-ordered.
    ctx: :class:`~bdi_jax.retrieval.CSLSContext` of the full vocabularies;
      required for ``method="csls"``, ignored for ``"nn"``.
    method: a key of :data:`bdi_jax.retrieval.RETRIEVERS`.
    mode: a key of :data:`MODES`.
    max_rank: only the first ``max_rank`` words of each side are queries and
      candidates; ``<= 0`` or larger than the vocabulary means all.
    batch_size: retrieval chunk size; ``None`` picks it from a memory budget.

  Raises:
    ValueError: unknown ``method`` or ``mode``, or no pair with a finite
      score induced.
  """
  get_mode(mode)  # Name errors first, before any retrieval.
  out = dictionary_pairs(induce(mapped_src, tgt, ctx, method=method,
                                mode=mode, max_rank=max_rank,
                                batch_size=batch_size))
  if len(out.pairs) == 0:
    raise ValueError(
        f"build_dictionary(method={method!r}, mode={mode!r}, "
        f"max_rank={max_rank}) induced no pairs; the mapping is probably "
        "degenerate")
  return out
