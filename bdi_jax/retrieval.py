"""Nearest-neighbour and CSLS retrieval between embedding spaces.

This is the only module of the package that callers use for neighbours;
dictionary induction, evaluation and the unsupervised criterion all go
through it. It holds the CSLS neighbourhood terms of a mapping and the
retrievers chosen by name; the chunked top-k search itself is
:mod:`bdi_jax.topk` and the chunk sizing :mod:`bdi_jax.chunk_size`, whose
public names are re-exported here.

Conventions: embeddings are rows ``[n, d]`` assumed row-normalised (see
:func:`normalize_rows`), so the similarity is the dot product (= cosine).

CSLS (cross-domain similarity local scaling), Conneau et al. 2018, Sec. 2.3::

  csls(x, y) = 2 cos(x, y) - r_T(x) - r_S(y)

where ``r_T(x)`` is the mean cosine of mapped source ``x`` with its ``k``
nearest targets and ``r_S(y)`` the mean cosine of target ``y`` with its ``k``
nearest mapped sources. Both r-vectors are computed once per mapping in a
:class:`CSLSContext` and shared by every consumer, from a single pass over the
similarities: each ``[batch, tile]`` block is reduced along its rows (``r_T``)
and merged into a running per-target top-k (``r_S``), so the matrix products,
most of the time, are not done once per direction.
"""

import functools
from typing import Callable, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp

from bdi_jax.chunk_size import DEFAULT_MEMORY_MB
from bdi_jax.chunk_size import MEMORY_ENV_VAR
from bdi_jax.chunk_size import auto_batch_size
# Private here as it was before the split; benchmarks/matmuls.py mirrors
# csls_context's blocks with it.
from bdi_jax.chunk_size import resolve_batch as _resolve_batch
from bdi_jax.topk import Neighbors
from bdi_jax.topk import check_pair
from bdi_jax.topk import csls_knn
from bdi_jax.topk import knn
from bdi_jax.topk import mean_topk_similarity
from bdi_jax.topk import normalize_rows

__all__ = [
    "Neighbors",
    "CSLSContext",
    "Retriever",
    "RETRIEVERS",
    "DEFAULT_MEMORY_MB",
    "MEMORY_ENV_VAR",
    "normalize_rows",
    "auto_batch_size",
    "knn",
    "mean_topk_similarity",
    "csls_context",
    "csls_knn",
    "nn_retrieve",
    "csls_retrieve",
    "get_retriever",
]


class CSLSContext(NamedTuple):
  """The two CSLS neighbourhood terms of one mapping.

  Attributes:
    r_src: ``[n_src]`` mean similarity of each mapped source word with its
      ``k`` nearest targets.
    r_tgt: ``[n_tgt]`` mean similarity of each target word with its ``k``
      nearest mapped source words.
    k: neighbourhood size used for both terms.
  """
  r_src: jax.Array
  r_tgt: jax.Array
  k: int

  def reverse(self) -> "CSLSContext":
    """The context seen from the target side (for target -> source queries)."""
    return CSLSContext(r_src=self.r_tgt, r_tgt=self.r_src, k=self.k)


# Target rows per tile of the fused CSLS pass. A ``[batch, tile]`` block stays
# cache-resident (matmul + row top-k ran ~15% faster than on ``[batch, n]``
# blocks at 200k words) and the column top-k state ``[k, tile]`` fits in L2.
_TGT_TILE = 4096


def _insert_sorted(state, row):
  """Inserts ``row: [t]`` into the per-column descending lists ``state``.

  ``state`` is a tuple of ``k`` arrays ``[t]`` with ``state[0] >= ... >=
  state[k-1]`` elementwise; the smallest value drops out. Each output is
  ``max(state[j], min(state[j-1], row))`` (``state[-1] = +inf``), which depends
  on the old state only, so the ``k`` updates are independent elementwise ops
  that XLA vectorises. (The textbook chain of swaps made every update wait on
  the previous one and ran ~2x slower.)
  """
  return (jnp.maximum(state[0], row),) + tuple(
      jnp.maximum(state[j], jnp.minimum(state[j - 1], row))
      for j in range(1, len(state)))


@functools.partial(jax.jit, static_argnames=("k",))
def _csls_pair_block(src_blk, src_bias, tgt_tiles, tgt_bias, col_topk, k):
  """One block of source rows of the fused two-direction r-term pass.

  Args:
    src_blk: ``[b, d]`` source rows.
    src_bias: ``[b]`` 0 for real rows, -inf for padding.
    tgt_tiles: ``[n_tiles, t, d]`` all target rows, padded and tiled.
    tgt_bias: ``[n_tiles, t]`` 0 for real rows, -inf for padding.
    col_topk: ``[n_tiles, k, t]`` running descending top-k of each target's
      similarities with the source rows seen so far.
    k: neighbourhood size.

  Returns:
    ``(row_topk [b, k], col_topk [n_tiles, k, t])``: the top-k similarities
    of each source row over all targets, and the updated target top-k.
  """
  def tile(row_topk, xs):
    tgt_tile, bias, col = xs
    # The biases send padded rows/columns to -inf so they never enter a top-k.
    sims = (jax.lax.dot_general(src_blk, tgt_tile, (((1,), (1,)), ((), ())))
            + src_bias[:, None] + bias[None, :])
    # Along rows the native top_k is fast (long contiguous rows) ...
    row_topk = jax.lax.top_k(jnp.concatenate([row_topk, sims], axis=1), k)[0]
    # ... but along columns it needs a transpose plus many short rows, 3-4x
    # slower than inserting the block's rows one at a time into [k, t] lists.
    col = jax.lax.fori_loop(
        0, sims.shape[0],
        lambda i, c: _insert_sorted(
            c, jax.lax.dynamic_index_in_dim(sims, i, keepdims=False)),
        tuple(col))
    return row_topk, jnp.stack(col)

  init = jnp.full((src_blk.shape[0], k), -jnp.inf, src_blk.dtype)
  return jax.lax.scan(tile, init, (tgt_tiles, tgt_bias, col_topk))


def _pad_bias(n: int, padded: int, dtype) -> jax.Array:
  return jnp.where(jnp.arange(padded) < n, 0.0, -jnp.inf).astype(dtype)


@functools.partial(jax.jit, static_argnames=("k", "batch_size"))
def _fused_r_terms(mapped_src: jax.Array, tgt: jax.Array, k: int,
                   batch_size: int):
  """Both r-vectors from one pass over the ``[n_src, n_tgt]`` similarities.

  Each similarity block is computed once and reduced along both axes, so the
  matrix products (the bulk of the time) are not done twice. The blocks are a
  ``lax.scan``, so this also runs inside ``jit`` / ``lax.map`` over seeds
  (bdi_jax/scoring.py) without unrolling one copy per block.
  """
  n_src, d = mapped_src.shape
  n_tgt = tgt.shape[0]
  dtype = jnp.result_type(mapped_src.dtype, tgt.dtype)
  n_tiles = -(-n_tgt // _TGT_TILE)
  # Even tiles, rounded up to 8 rows: little padding whatever n_tgt is.
  tile = -(-n_tgt // n_tiles)
  tile += -tile % 8
  padded_tgt = n_tiles * tile
  tgt_tiles = jnp.pad(tgt, [(0, padded_tgt - n_tgt), (0, 0)]).reshape(
      n_tiles, tile, d)
  tgt_bias = _pad_bias(n_tgt, padded_tgt, dtype).reshape(n_tiles, tile)
  # Even blocks of at most ``batch_size`` rows, so that e.g. 20000 rows in
  # blocks of 3304 are not padded to 23128 (16% wasted matmul).
  n_blocks = -(-n_src // batch_size)
  batch_size = -(-n_src // n_blocks)
  padded_src = n_blocks * batch_size
  src = jnp.pad(mapped_src, [(0, padded_src - n_src), (0, 0)]).reshape(
      n_blocks, batch_size, d)
  src_bias = _pad_bias(n_src, padded_src, dtype).reshape(n_blocks, batch_size)

  def block(col_topk, xs):
    blk, bias = xs
    row_topk, col_topk = _csls_pair_block(blk, bias, tgt_tiles, tgt_bias,
                                          col_topk, k=k)
    return col_topk, jnp.mean(row_topk, axis=-1)

  col_topk = jnp.full((n_tiles, k, tile), -jnp.inf, dtype)
  col_topk, r_src = jax.lax.scan(block, col_topk, (src, src_bias))
  r_src = r_src.reshape(padded_src)[:n_src]
  r_tgt = jnp.mean(col_topk, axis=1).reshape(padded_tgt)[:n_tgt]
  return r_src, r_tgt


def csls_context(mapped_src: jax.Array, tgt: jax.Array, k: int = 10, *,
                 batch_size: Optional[int] = None) -> CSLSContext:
  """Computes both CSLS r-vectors of a mapping once.

  Args:
    mapped_src: ``[n_src, d]`` row-normalised mapped source embeddings.
    tgt: ``[n_tgt, d]`` row-normalised target embeddings.
    k: neighbourhood size (10 in Conneau et al.).
    batch_size: source rows per block of the single pass over the
      similarities; ``None`` picks :func:`auto_batch_size` (of the targets).

  Returns:
    :class:`CSLSContext` with ``r_src [n_src]`` and ``r_tgt [n_tgt]``.
  """
  check_pair(mapped_src, tgt, k)
  check_pair(tgt, mapped_src, k)
  b = _resolve_batch(batch_size, mapped_src.shape[0], tgt.shape[0],
                     tgt.shape[1], tgt.dtype.itemsize)
  r_src, r_tgt = _fused_r_terms(mapped_src, tgt, k, b)
  return CSLSContext(r_src=r_src, r_tgt=r_tgt, k=k)


# A retriever maps ``query_ids`` (rows of ``mapped_src``; ``None`` = all) to
# their top-k rows of ``tgt``. Every retriever has this signature so callers
# pick one by name from :data:`RETRIEVERS`.
Retriever = Callable[..., Neighbors]


def _select(x: jax.Array, ids) -> jax.Array:
  return x if ids is None else x[jnp.asarray(ids)]


def nn_retrieve(query_ids, mapped_src: jax.Array, tgt: jax.Array, k: int, *,
                ctx: Optional[CSLSContext] = None,
                batch_size: Optional[int] = None) -> Neighbors:
  """Nearest neighbours by cosine.

  Args:
    query_ids: ``[q]`` int rows of ``mapped_src`` to query, or ``None`` for all.
    mapped_src: ``[n_src, d]`` row-normalised mapped source embeddings.
    tgt: ``[n_tgt, d]`` row-normalised target embeddings.
    k: neighbours per query.
    ctx: ignored (accepted so every retriever has one signature).
    batch_size: queries per chunk; ``None`` picks :func:`auto_batch_size`.

  Returns:
    :class:`Neighbors` ``[q, k]`` into ``tgt``.
  """
  del ctx  # Plain cosine needs no neighbourhood terms.
  return knn(_select(mapped_src, query_ids), tgt, k, batch_size=batch_size)


def csls_retrieve(query_ids, mapped_src: jax.Array, tgt: jax.Array, k: int, *,
                  ctx: Optional[CSLSContext] = None,
                  batch_size: Optional[int] = None) -> Neighbors:
  """Nearest neighbours by CSLS.

  Args:
    query_ids: ``[q]`` int rows of ``mapped_src`` to query, or ``None`` for all.
    mapped_src: ``[n_src, d]`` row-normalised mapped source embeddings.
    tgt: ``[n_tgt, d]`` row-normalised target embeddings.
    k: neighbours per query.
    ctx: required; ``ctx.r_src`` is ``[n_src]`` and ``ctx.r_tgt`` is
      ``[n_tgt]`` (from :func:`csls_context`, possibly sliced by the caller).
    batch_size: queries per chunk; ``None`` picks :func:`auto_batch_size`.

  Returns:
    :class:`Neighbors` ``[q, k]`` into ``tgt`` with CSLS scores.
  """
  if ctx is None:
    raise ValueError("csls retrieval needs a CSLSContext (see csls_context)")
  if ctx.r_src.shape[0] != mapped_src.shape[0] or (
      ctx.r_tgt.shape[0] != tgt.shape[0]):
    raise ValueError(
        f"ctx does not match the embeddings: r_src {ctx.r_src.shape} vs "
        f"mapped_src {mapped_src.shape}, r_tgt {ctx.r_tgt.shape} vs tgt "
        f"{tgt.shape}")
  return csls_knn(_select(mapped_src, query_ids), tgt,
                  _select(ctx.r_src, query_ids), ctx.r_tgt, k,
                  batch_size=batch_size)


RETRIEVERS: Dict[str, Retriever] = {
    "nn": nn_retrieve,
    "csls": csls_retrieve,
}


def get_retriever(name: str) -> Retriever:
  """Looks up a retriever of :data:`RETRIEVERS` by name."""
  try:
    return RETRIEVERS[name]
  except KeyError:
    raise ValueError(
        f"unknown retrieval method {name!r}; expected one of "
        f"{sorted(RETRIEVERS)}") from None
