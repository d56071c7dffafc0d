"""Chunked nearest-neighbour and CSLS retrieval between embedding spaces.

This is the only module of the package that computes neighbours; dictionary
induction, evaluation and the unsupervised criterion all go through it.

Conventions: embeddings are rows ``[n, d]`` assumed row-normalised (see
:func:`normalize_rows`), so the similarity is the dot product (= cosine).

Large vocabularies (200k words) make a dense ``[q, n]`` similarity matrix too
big, so every function processes the queries in chunks of ``batch_size`` rows
and keeps only the top-k of each chunk. The last chunk is padded to the full
chunk size so that the jitted chunk functions (module level, ``k`` static) are
compiled once per ``(batch_size, n, d, k)`` rather than once per call.

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
import os
from typing import Callable, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp

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

# Budget for one ``[batch, n_keys]`` similarity block. XLA's top-k keeps a few
# temporaries of the same size, so peak use is a small multiple of this.
DEFAULT_MEMORY_MB = 256
MEMORY_ENV_VAR = "BDI_RETRIEVAL_MEMORY_MB"


class Neighbors(NamedTuple):
  """Top-k retrieval result, best first.

  Attributes:
    scores: ``[q, k]`` similarity (cosine for NN, CSLS value for CSLS).
    indices: ``[q, k]`` int32 row indices into the keys.
  """
  scores: jax.Array
  indices: jax.Array


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


def normalize_rows(x: jax.Array, eps: float = 1e-12) -> jax.Array:
  """Scales each row of ``x: [n, d]`` to unit L2 norm; zero rows stay zero."""
  norms = jnp.linalg.norm(x, axis=-1, keepdims=True)
  return x / jnp.maximum(norms, eps)


def _memory_budget_bytes(memory_bytes: Optional[int]) -> int:
  if memory_bytes is not None:
    budget = int(memory_bytes)
  else:
    raw = os.environ.get(MEMORY_ENV_VAR)
    try:
      mb = float(raw) if raw else DEFAULT_MEMORY_MB
    except ValueError:
      raise ValueError(
          f"{MEMORY_ENV_VAR} must be a number of megabytes, got {raw!r}"
      ) from None
    budget = int(mb * 2**20)
  if budget <= 0:
    raise ValueError(f"memory budget must be positive, got {budget} bytes")
  return budget


def auto_batch_size(n_keys: int, dim: int, *,
                    memory_bytes: Optional[int] = None,
                    itemsize: int = 4) -> int:
  """Largest query chunk whose similarity block fits in the memory budget.

  The block is ``[batch, n_keys]`` plus the ``[batch, dim]`` query chunk, both
  of ``itemsize`` bytes per entry.

  Args:
    n_keys: number of rows searched (``n``).
    dim: embedding dimension (``d``).
    memory_bytes: budget in bytes; default ``$BDI_RETRIEVAL_MEMORY_MB``
      megabytes, else :data:`DEFAULT_MEMORY_MB`.
    itemsize: bytes per entry (4 for float32).

  Returns:
    A batch size >= 1; a multiple of 8 when it is at least 8 (friendlier tiles).
    It is 1 when even one row exceeds the budget.
  """
  budget = _memory_budget_bytes(memory_bytes)
  per_row = (int(n_keys) + int(dim)) * int(itemsize)
  batch = max(1, budget // max(per_row, 1))
  if batch >= 8:
    batch -= batch % 8
  return int(batch)


def _check_pair(queries: jax.Array, keys: jax.Array, k: int) -> None:
  if queries.ndim != 2 or keys.ndim != 2 or queries.shape[1] != keys.shape[1]:
    raise ValueError(
        f"queries and keys must be [q, d] and [n, d] with the same d; got "
        f"{queries.shape} and {keys.shape}")
  if not 1 <= k <= keys.shape[0]:
    raise ValueError(f"k must be in [1, n_keys={keys.shape[0]}], got {k}")


@functools.partial(jax.jit, static_argnames=("k",))
def _knn_chunk(queries, keys, k):
  return jax.lax.top_k(queries @ keys.T, k)


@functools.partial(jax.jit, static_argnames=("k",))
def _mean_topk_chunk(queries, keys, k):
  return jnp.mean(jax.lax.top_k(queries @ keys.T, k)[0], axis=-1)


@functools.partial(jax.jit, static_argnames=("k",))
def _csls_chunk(queries, r_queries, keys, r_keys, k):
  # r_queries shifts a whole row, so it does not change the ranking; it is kept
  # so that the returned scores are the true CSLS values.
  scores = 2.0 * (queries @ keys.T) - r_queries[:, None] - r_keys[None, :]
  return jax.lax.top_k(scores, k)


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
  (bdi_jax/batched.py) without unrolling one copy per block.
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


def _resolve_batch(batch_size: Optional[int], n_queries: int, n_keys: int,
                   dim: int, itemsize: int) -> int:
  if batch_size is None:
    batch_size = auto_batch_size(n_keys, dim, itemsize=itemsize)
  if batch_size < 1:
    raise ValueError(f"batch_size must be >= 1, got {batch_size}")
  return int(min(batch_size, max(n_queries, 1)))


@functools.partial(jax.jit, static_argnames=("chunk_fn", "k", "batch_size"))
def _map_chunks(chunk_fn: Callable, row_args, const_args, k: int,
                batch_size: int):
  """Applies ``chunk_fn(*row_chunks, *const_args, k=k)`` over query chunks.

  ``row_args`` are arrays whose leading axis is the query axis; they are padded
  to a multiple of ``batch_size`` and the chunks run as one ``lax.map``, so
  every call sees the same shape and the whole loop also runs inside ``jit``.
  Outputs (a pytree of arrays with a leading query axis) are concatenated and
  trimmed.
  """
  n = row_args[0].shape[0]
  n_chunks = -(-n // batch_size)
  pad = n_chunks * batch_size - n
  chunks = [jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)).reshape(
      (n_chunks, batch_size) + a.shape[1:]) for a in row_args]
  out = jax.lax.map(lambda c: chunk_fn(*c, *const_args, k=k), chunks)
  return jax.tree.map(
      lambda x: x.reshape((n_chunks * batch_size,) + x.shape[2:])[:n], out)


def knn(queries: jax.Array, keys: jax.Array, k: int, *,
        batch_size: Optional[int] = None) -> Neighbors:
  """Top-k keys of each query by cosine similarity.

  Args:
    queries: ``[q, d]`` row-normalised queries.
    keys: ``[n, d]`` row-normalised keys.
    k: neighbours per query, ``1 <= k <= n``.
    batch_size: queries per chunk; ``None`` picks :func:`auto_batch_size`.

  Returns:
    :class:`Neighbors` with ``scores [q, k]`` (cosines, descending) and
    ``indices [q, k]`` into ``keys``.
  """
  _check_pair(queries, keys, k)
  if queries.shape[0] == 0:
    return Neighbors(jnp.zeros((0, k), queries.dtype),
                     jnp.zeros((0, k), jnp.int32))
  b = _resolve_batch(batch_size, queries.shape[0], keys.shape[0],
                     keys.shape[1], keys.dtype.itemsize)
  scores, indices = _map_chunks(_knn_chunk, (queries,), (keys,), k, b)
  return Neighbors(scores, indices)


def mean_topk_similarity(queries: jax.Array, keys: jax.Array, k: int, *,
                         batch_size: Optional[int] = None) -> jax.Array:
  """Mean of each query's ``k`` largest similarities (the CSLS r-term).

  Args:
    queries: ``[q, d]`` row-normalised queries.
    keys: ``[n, d]`` row-normalised keys.
    k: neighbourhood size, ``1 <= k <= n``.
    batch_size: queries per chunk; ``None`` picks :func:`auto_batch_size`.

  Returns:
    ``[q]`` mean top-k cosine.
  """
  _check_pair(queries, keys, k)
  if queries.shape[0] == 0:
    return jnp.zeros((0,), queries.dtype)
  b = _resolve_batch(batch_size, queries.shape[0], keys.shape[0],
                     keys.shape[1], keys.dtype.itemsize)
  return _map_chunks(_mean_topk_chunk, (queries,), (keys,), k, b)


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
  _check_pair(mapped_src, tgt, k)
  _check_pair(tgt, mapped_src, k)
  b = _resolve_batch(batch_size, mapped_src.shape[0], tgt.shape[0],
                     tgt.shape[1], tgt.dtype.itemsize)
  r_src, r_tgt = _fused_r_terms(mapped_src, tgt, k, b)
  return CSLSContext(r_src=r_src, r_tgt=r_tgt, k=k)


def csls_knn(queries: jax.Array, keys: jax.Array, r_queries: jax.Array,
             r_keys: jax.Array, k: int, *,
             batch_size: Optional[int] = None) -> Neighbors:
  """Top-k keys of each query by CSLS ``2 cos(q, t) - r_q - r_t``.

  Args:
    queries: ``[q, d]`` row-normalised queries.
    keys: ``[n, d]`` row-normalised keys.
    r_queries: ``[q]`` r-term of each query (vs the keys' space).
    r_keys: ``[n]`` r-term of each key (vs the queries' space).
    k: neighbours per query, ``1 <= k <= n``.
    batch_size: queries per chunk; ``None`` picks :func:`auto_batch_size`.

  Returns:
    :class:`Neighbors` with CSLS ``scores [q, k]`` (descending) and
    ``indices [q, k]`` into ``keys``.
  """
  _check_pair(queries, keys, k)
  if r_queries.shape != (queries.shape[0],) or r_keys.shape != (
      keys.shape[0],):
    raise ValueError(
        f"r_queries must be [{queries.shape[0]}] and r_keys [{keys.shape[0]}];"
        f" got {r_queries.shape} and {r_keys.shape}")
  if queries.shape[0] == 0:
    return Neighbors(jnp.zeros((0, k), queries.dtype),
                     jnp.zeros((0, k), jnp.int32))
  b = _resolve_batch(batch_size, queries.shape[0], keys.shape[0],
                     keys.shape[1], keys.dtype.itemsize)
  scores, indices = _map_chunks(_csls_chunk, (queries, r_queries),
                                (keys, r_keys), k, b)
  return Neighbors(scores, indices)


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
