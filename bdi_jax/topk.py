"""Chunked top-k search: nearest neighbours by cosine or by CSLS score.

Conventions: embeddings are rows ``[n, d]`` assumed row-normalised (see
:func:`normalize_rows`), so the similarity is the dot product (= cosine).

Large vocabularies (200k words) make a dense ``[q, n]`` similarity matrix too
big, so every function processes the queries in chunks of ``batch_size`` rows
(:mod:`bdi_jax.chunk_size`) and keeps only the top-k of each chunk. The last
chunk is padded to the full chunk size so that the jitted chunk functions
(module level, ``k`` static) are compiled once per ``(batch_size, n, d, k)``
rather than once per call.

The CSLS r-terms these searches take are computed once per mapping by
:func:`bdi_jax.retrieval.csls_context`.
"""

import functools
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from bdi_jax.chunk_size import resolve_batch

__all__ = ["Neighbors", "normalize_rows", "check_pair", "knn",
           "mean_topk_similarity", "csls_knn"]


class Neighbors(NamedTuple):
  """Top-k retrieval result, best first.

  Attributes:
    scores: ``[q, k]`` similarity (cosine for NN, CSLS value for CSLS).
    indices: ``[q, k]`` int32 row indices into the keys.
  """
  scores: jax.Array
  indices: jax.Array


def normalize_rows(x: jax.Array, eps: float = 1e-12) -> jax.Array:
  """Scales each row of ``x: [n, d]`` to unit L2 norm; zero rows stay zero."""
  norms = jnp.linalg.norm(x, axis=-1, keepdims=True)
  return x / jnp.maximum(norms, eps)


def check_pair(queries: jax.Array, keys: jax.Array, k: int) -> None:
  """Raises ValueError unless ``queries: [q, d]``, ``keys: [n, d]`` and
  ``1 <= k <= n``."""
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
  check_pair(queries, keys, k)
  if queries.shape[0] == 0:
    return Neighbors(jnp.zeros((0, k), queries.dtype),
                     jnp.zeros((0, k), jnp.int32))
  b = resolve_batch(batch_size, queries.shape[0], keys.shape[0],
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
  check_pair(queries, keys, k)
  if queries.shape[0] == 0:
    return jnp.zeros((0,), queries.dtype)
  b = resolve_batch(batch_size, queries.shape[0], keys.shape[0],
                    keys.shape[1], keys.dtype.itemsize)
  return _map_chunks(_mean_topk_chunk, (queries,), (keys,), k, b)


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
  check_pair(queries, keys, k)
  if r_queries.shape != (queries.shape[0],) or r_keys.shape != (
      keys.shape[0],):
    raise ValueError(
        f"r_queries must be [{queries.shape[0]}] and r_keys [{keys.shape[0]}];"
        f" got {r_queries.shape} and {r_keys.shape}")
  if queries.shape[0] == 0:
    return Neighbors(jnp.zeros((0, k), queries.dtype),
                     jnp.zeros((0, k), jnp.int32))
  b = resolve_batch(batch_size, queries.shape[0], keys.shape[0],
                    keys.shape[1], keys.dtype.itemsize)
  scores, indices = _map_chunks(_csls_chunk, (queries, r_queries),
                                (keys, r_keys), k, b)
  return Neighbors(scores, indices)
