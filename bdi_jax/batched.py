"""Scoring and refinement of every seed's mapping in one compiled call each.

A run trains several seeds at once; at each check every live seed's mapping
is scored (the CSLS r-vectors, the unsupervised criterion, the test
retrieval), and at the end every seed is refined (CSLS dictionary +
Procrustes, ``refine.n_rounds`` times). Here each of those is one jitted
function over a leading seed axis (``lax.map``: seeds run one after another
inside the compiled program, so memory stays that of one seed, and the host
syncs once), instead of a Python loop over seeds, chunks and rounds.

The pieces are the library's own: :func:`bdi_jax.retrieval.csls_context`,
the retrievers of :data:`bdi_jax.retrieval.RETRIEVERS` and
:func:`bdi_jax.evaluate.criterion_value` all trace. What is new is the
refinement's dictionary in a fixed-shape form, so that a round compiles:
each side's best match (``s2t [n_s]``, ``t2s [n_t]``) and two masks saying
which of the pairs ``(i, s2t[i])`` and ``(t2s[j], j)`` the dictionary keeps
(:data:`MODES`, the same rules as :data:`bdi_jax.refine.BUILD_MODES`;
tests check the pair sets are equal). Procrustes then sums the kept pairs'
outer products.
"""

import functools
from typing import NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import evaluate, models, refine, retrieval

__all__ = ["Settings", "settings_from_config", "Scores", "Dictionary",
           "MODES", "Rounds", "score_batch", "refine_batch",
           "dictionary_pairs"]


class Settings(NamedTuple):
  """Static (hashable) settings of scoring and refinement."""
  csls_k: int = 10
  n_words: int = 10000  # Criterion words.
  methods: Tuple[str, ...] = ("nn", "csls")  # Test retrieval methods.
  max_k: int = 10  # Neighbours retrieved per test query.
  batch_size: Optional[int] = None  # Retrieval chunk; None: from memory.
  refine_method: str = "csls"
  refine_mode: str = "S2T&T2S"
  max_rank: int = 15000
  n_rounds: int = 5


def settings_from_config(config) -> Settings:
  e, r = config.eval, config.refine
  return Settings(
      csls_k=int(e.csls_k), n_words=int(e.criterion_words),
      methods=tuple(e.methods), max_k=int(max(e.ks)),
      batch_size=e.batch_size or None, refine_method=r.method,
      refine_mode=r.mode, max_rank=int(r.max_rank), n_rounds=int(r.n_rounds))


class Scores(NamedTuple):
  """What scoring returns per mapping (a leading seed axis when batched)."""
  criterion: jax.Array  # []
  r_src: jax.Array  # [n_src] CSLS r-vectors (a retrieval.CSLSContext).
  r_tgt: jax.Array  # [n_tgt]
  top: Tuple[jax.Array, ...]  # Per test method: [q, max_k] target ids.


def _mapped(w, src):
  return retrieval.normalize_rows(models.apply_mapping(w, src))


def _score_one(w, src, tgt_unit, query_ids, s: Settings) -> Scores:
  mapped = _mapped(w, src)
  ctx = retrieval.csls_context(mapped, tgt_unit, k=s.csls_k,
                               batch_size=s.batch_size)
  criterion = evaluate.criterion_value(mapped, tgt_unit, ctx,
                                       n_words=s.n_words,
                                       batch_size=s.batch_size)
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
      lambda w: _score_one(w, src, tgt_unit, query_ids, settings), ws)


# ---------------------------------------------------------------------------
# The refinement's dictionary, fixed-shape.
# ---------------------------------------------------------------------------
class Dictionary(NamedTuple):
  """Pairs ``(i, s2t[i])`` where ``keep_s2t[i]``, and ``(t2s[j], j)`` where
  ``keep_t2s[j]``; no pair is kept twice."""
  s2t: jax.Array  # [n_s] int32
  t2s: jax.Array  # [n_t] int32
  keep_s2t: jax.Array  # [n_s] bool
  keep_t2s: jax.Array  # [n_t] bool

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


# The rules of refine.BUILD_MODES, on masks. ``ok_*``: the match's score is
# finite (a diverged mapping's NaN neighbours are dropped, as there).
MODES = {
    "S2T": _s2t,
    "T2S": _t2s,
    "S2T|T2S": _union,
    "S2T&T2S": _intersection,
}


def _dictionary(mapped, tgt_unit, r_src, r_tgt, s: Settings) -> Dictionary:
  n_s = refine._effective_rank(s.max_rank, mapped.shape[0])  # pylint: disable=protected-access
  n_t = refine._effective_rank(s.max_rank, tgt_unit.shape[0])  # pylint: disable=protected-access
  retrieve = retrieval.get_retriever(s.refine_method)
  # The candidates are the frequent words; the r-terms stay the full
  # vocabularies' (as in refine.build_dictionary).
  ctx = retrieval.CSLSContext(r_src[:n_s], r_tgt[:n_t], s.csls_k)
  fwd = retrieve(None, mapped[:n_s], tgt_unit[:n_t], 1, ctx=ctx,
                 batch_size=s.batch_size)
  bwd = retrieve(None, tgt_unit[:n_t], mapped[:n_s], 1, ctx=ctx.reverse(),
                 batch_size=s.batch_size)
  s2t, t2s = fwd.indices[:, 0], bwd.indices[:, 0]
  keep_s2t, keep_t2s = MODES[s.refine_mode](
      s2t, t2s, jnp.isfinite(fwd.scores[:, 0]), jnp.isfinite(bwd.scores[:, 0]))
  return Dictionary(s2t, t2s, keep_s2t, keep_t2s)


def _procrustes(d: Dictionary, src, tgt):
  """``refine.procrustes`` of the kept pairs, as a masked sum."""
  n_s, n_t = d.s2t.shape[0], d.t2s.shape[0]
  cross = ((tgt[d.s2t] * d.keep_s2t[:, None]).T @ src[:n_s]
           + (tgt[:n_t] * d.keep_t2s[:, None]).T @ src[d.t2s])
  u, _, vt = jnp.linalg.svd(cross, full_matrices=False)
  return u @ vt


def _shared(d: Dictionary, p: Dictionary) -> jax.Array:
  """How many pairs of ``d`` are also pairs of ``p``."""
  def in_p(i, j):  # Pair (i, j) in p, through either of its parts.
    return ((p.keep_s2t[i] & (p.s2t[i] == j))
            | (p.keep_t2s[j] & (p.t2s[j] == i)))
  src_ids = jnp.arange(d.s2t.shape[0])
  tgt_ids = jnp.arange(d.t2s.shape[0])
  return (jnp.sum(d.keep_s2t & in_p(src_ids, d.s2t))
          + jnp.sum(d.keep_t2s & in_p(d.t2s, tgt_ids)))


def dictionary_pairs(d: Dictionary):
  """The kept pairs ``[m, 2]`` as a numpy array (host side, for tests and
  inspection), in no particular order."""
  d = jax.device_get(d)
  a = np.flatnonzero(d.keep_s2t)
  b = np.flatnonzero(d.keep_t2s)
  return np.concatenate([np.stack([a, d.s2t[a]], 1),
                         np.stack([d.t2s[b], b], 1)]).astype(np.int32)


class Rounds(NamedTuple):
  """Per refinement round (leading axes ``[S, n_rounds]`` when batched)."""
  w: jax.Array  # [d, d] the round's Procrustes mapping.
  scores: Scores  # Its scores.
  dictionary_size: jax.Array  # Pairs it was solved on.
  # Jaccard index of the round's pairs and the previous round's (round 1:
  # against nothing, so 0; the host reports None there).
  dictionary_overlap: jax.Array


def _refine_one(w0, r_src0, r_tgt0, src, tgt, tgt_unit, query_ids,
                s: Settings) -> Rounds:
  def one_round(carry, _):
    w, r_src, r_tgt, previous = carry
    d = _dictionary(_mapped(w, src), tgt_unit, r_src, r_tgt, s)
    w = _procrustes(d, src, tgt).astype(w0.dtype)
    scores = _score_one(w, src, tgt_unit, query_ids, s)
    size, shared = d.size(), _shared(d, previous)
    overlap = shared / jnp.maximum(1, size + previous.size() - shared)
    return ((w, scores.r_src, scores.r_tgt, d),
            Rounds(w, scores, size, overlap))

  n_s = refine._effective_rank(s.max_rank, src.shape[0])  # pylint: disable=protected-access
  n_t = refine._effective_rank(s.max_rank, tgt.shape[0])  # pylint: disable=protected-access
  nothing = Dictionary(jnp.zeros(n_s, jnp.int32), jnp.zeros(n_t, jnp.int32),
                       jnp.zeros(n_s, bool), jnp.zeros(n_t, bool))
  _, rounds = jax.lax.scan(one_round, (w0, r_src0, r_tgt0, nothing), None,
                           length=s.n_rounds)
  return rounds


@functools.partial(jax.jit, static_argnames=("settings",))
def refine_batch(ws: jax.Array, r_src: jax.Array, r_tgt: jax.Array,
                 src: jax.Array, tgt: jax.Array, tgt_unit: jax.Array,
                 query_ids: Optional[jax.Array],
                 settings: Settings) -> Rounds:
  """``settings.n_rounds`` refinement rounds of every start mapping.

  Args:
    ws: ``[S, d, d]`` start mappings.
    r_src, r_tgt: ``[S, n_src]``, ``[S, n_tgt]`` their CSLS r-vectors (from
      :func:`score_batch`), so the first dictionary costs no extra context.
    src, tgt: embeddings as trained on (Procrustes fits these).
    tgt_unit: ``tgt`` row-normalised (retrieval).
    query_ids: ``[q]`` test source ids, or None.
    settings: see :class:`Settings`.

  Returns:
    :class:`Rounds` with leading axes ``[S, n_rounds]``.
  """
  return jax.lax.map(
      lambda xs: _refine_one(*xs, src, tgt, tgt_unit, query_ids, settings),
      (ws, r_src, r_tgt))
