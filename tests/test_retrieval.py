"""Tests for chunked NN / CSLS retrieval against brute-force NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bdi_jax import retrieval
from bdi_jax import topk

Q, N, D = 17, 29, 5  # Odd, unequal sizes catch axis mix-ups.
BATCH_SIZES = (1, 4, 7, None, 100)  # 100 > Q: a single (unpadded) chunk.


def _unit_rows(rng, n, d):
  x = rng.standard_normal((n, d))
  return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _np_topk(scores, k):
  """Reference top-k by full sort, in float64."""
  idx = np.argsort(-scores, axis=1, kind="stable")[:, :k]
  return np.take_along_axis(scores, idx, axis=1), idx


def _np_r(queries, keys, k):
  sims = queries.astype(np.float64) @ keys.astype(np.float64).T
  return np.mean(-np.sort(-sims, axis=1)[:, :k], axis=1)


def _np_csls_scores(queries, keys, k):
  q, x = queries.astype(np.float64), keys.astype(np.float64)
  return 2 * q @ x.T - _np_r(q, x, k)[:, None] - _np_r(x, q, k)[None, :]


def _assert_no_near_ties(scores, k):
  """The test data must rank unambiguously, else index checks are flaky."""
  top = -np.sort(-scores, axis=1)[:, :k + 1]
  assert np.min(-np.diff(top, axis=1)) > 1e-4


@pytest.fixture
def data():
  rng = np.random.default_rng(0)
  return _unit_rows(rng, Q, D), _unit_rows(rng, N, D)


def test_normalize_rows():
  x = jnp.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]])
  y = np.asarray(retrieval.normalize_rows(x))
  np.testing.assert_allclose(y[0], [0.6, 0.8], rtol=1e-6)
  np.testing.assert_array_equal(y[1], [0.0, 0.0])
  np.testing.assert_allclose(np.linalg.norm(y[2]), 1.0, rtol=1e-6)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("k", [1, 6])
def test_knn_matches_bruteforce(data, batch_size, k):
  queries, keys = data
  sims = queries.astype(np.float64) @ keys.astype(np.float64).T
  _assert_no_near_ties(sims, k)
  ref_scores, ref_idx = _np_topk(sims, k)
  nb = retrieval.knn(jnp.asarray(queries), jnp.asarray(keys), k,
                     batch_size=batch_size)
  assert nb.scores.shape == (Q, k) and nb.indices.shape == (Q, k)
  assert nb.indices.dtype == jnp.int32
  np.testing.assert_array_equal(np.asarray(nb.indices), ref_idx)
  np.testing.assert_allclose(np.asarray(nb.scores), ref_scores, atol=1e-5)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_r_vectors_match_bruteforce(data, batch_size):
  queries, keys = data
  k = 4
  ctx = retrieval.csls_context(jnp.asarray(queries), jnp.asarray(keys), k,
                               batch_size=batch_size)
  assert ctx.r_src.shape == (Q,) and ctx.r_tgt.shape == (N,) and ctx.k == k
  np.testing.assert_allclose(np.asarray(ctx.r_src), _np_r(queries, keys, k),
                             atol=1e-5)
  np.testing.assert_allclose(np.asarray(ctx.r_tgt), _np_r(keys, queries, k),
                             atol=1e-5)
  r = retrieval.mean_topk_similarity(jnp.asarray(keys), jnp.asarray(queries),
                                     k, batch_size=batch_size)
  np.testing.assert_allclose(np.asarray(r), _np_r(keys, queries, k),
                             atol=1e-5)


@pytest.mark.parametrize("tile", [8, 13, 4096])  # 4096: one tile of 29.
@pytest.mark.parametrize("batch_size", BATCH_SIZES + (5, 16))
@pytest.mark.parametrize("k", [1, 3, Q])  # Q: every source row is a neighbour.
def test_fused_context_matches_separate_passes(data, monkeypatch, tile,
                                               batch_size, k):
  # The single fused pass (row top-k + running column top-k) against the two
  # one-direction passes, with source blocks and target tiles that do not
  # divide 17 and 29, so both paddings are exercised.
  monkeypatch.setattr(retrieval, "_TGT_TILE", tile)
  queries, keys = map(jnp.asarray, data)
  ctx = retrieval.csls_context(queries, keys, k, batch_size=batch_size)
  r_src = retrieval.mean_topk_similarity(queries, keys, k, batch_size=3)
  r_tgt = retrieval.mean_topk_similarity(keys, queries, k, batch_size=3)
  assert ctx.r_src.shape == (Q,) and ctx.r_tgt.shape == (N,)
  np.testing.assert_allclose(np.asarray(ctx.r_src), np.asarray(r_src),
                             atol=1e-6)
  np.testing.assert_allclose(np.asarray(ctx.r_tgt), np.asarray(r_tgt),
                             atol=1e-6)
  np.testing.assert_allclose(np.asarray(ctx.r_tgt), _np_r(data[1], data[0], k),
                             atol=1e-5)


def test_fused_context_counts_tied_similarities(monkeypatch):
  # Duplicated rows give exactly tied similarities; the top-k is a multiset,
  # so each copy counts (a set-like merge would skip them).
  monkeypatch.setattr(retrieval, "_TGT_TILE", 8)
  rng = np.random.default_rng(1)
  src = np.repeat(_unit_rows(rng, 6, D), 3, axis=0)  # 18 rows, 3 copies each.
  tgt = np.repeat(_unit_rows(rng, 7, D), 3, axis=0)  # 21 rows.
  ctx = retrieval.csls_context(jnp.asarray(src), jnp.asarray(tgt), 5,
                               batch_size=4)
  np.testing.assert_allclose(np.asarray(ctx.r_src), _np_r(src, tgt, 5),
                             atol=1e-5)
  np.testing.assert_allclose(np.asarray(ctx.r_tgt), _np_r(tgt, src, 5),
                             atol=1e-5)


def test_fused_context_needs_k_rows_on_both_sides(data):
  queries, keys = map(jnp.asarray, data)
  with pytest.raises(ValueError, match="k must be"):
    retrieval.csls_context(queries, keys, Q + 1)  # Fine for r_src only.


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("k", [1, 6])
def test_csls_knn_matches_bruteforce(data, batch_size, k):
  queries, keys = data
  ctx_k = 3
  scores = _np_csls_scores(queries, keys, ctx_k)
  _assert_no_near_ties(scores, k)
  ref_scores, ref_idx = _np_topk(scores, k)
  ctx = retrieval.csls_context(jnp.asarray(queries), jnp.asarray(keys), ctx_k)
  nb = retrieval.csls_knn(jnp.asarray(queries), jnp.asarray(keys), ctx.r_src,
                          ctx.r_tgt, k, batch_size=batch_size)
  np.testing.assert_array_equal(np.asarray(nb.indices), ref_idx)
  np.testing.assert_allclose(np.asarray(nb.scores), ref_scores, atol=1e-5)


def test_csls_differs_from_nn(data):
  # Guards against a CSLS that silently ignores its r-terms on this data.
  queries, keys = data
  nn_idx = _np_topk(queries @ keys.T, 1)[1]
  csls_idx = _np_topk(_np_csls_scores(queries, keys, 3), 1)[1]
  assert np.any(nn_idx != csls_idx)


def test_jit_matches_eager(data):
  queries, keys = map(jnp.asarray, data)
  ctx = retrieval.csls_context(queries, keys, 3, batch_size=4)

  def both(q, x, r_q, r_x):
    return (retrieval.knn(q, x, 5, batch_size=4),
            retrieval.csls_knn(q, x, r_q, r_x, 5, batch_size=7),
            retrieval.mean_topk_similarity(q, x, 3, batch_size=4))

  eager = both(queries, keys, ctx.r_src, ctx.r_tgt)
  jitted = jax.jit(both)(queries, keys, ctx.r_src, ctx.r_tgt)
  for e, j in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted)):
    assert e.shape == j.shape and e.dtype == j.dtype
    np.testing.assert_allclose(np.asarray(e), np.asarray(j), atol=1e-6)


def test_chunk_function_compiled_once_per_shape(data):
  cache_size = getattr(topk._knn_chunk, "_cache_size", None)
  if cache_size is None:
    pytest.skip("jax.jit no longer exposes _cache_size")
  queries, keys = map(jnp.asarray, data)
  retrieval.knn(queries, keys, 2, batch_size=3)
  before = cache_size()
  # Different query counts and remainders reuse the padded chunk shape.
  retrieval.knn(queries[:13], keys, 2, batch_size=3)
  retrieval.knn(queries[:9], keys, 2, batch_size=3)
  assert cache_size() == before


@pytest.mark.parametrize("n_keys,dim", [(29, 5), (20000, 300), (200000, 300)])
@pytest.mark.parametrize("memory_bytes", [10**5, 2**28, 2**30])
def test_auto_batch_size_respects_budget(n_keys, dim, memory_bytes):
  b = retrieval.auto_batch_size(n_keys, dim, memory_bytes=memory_bytes)
  if (n_keys + dim) * 4 > memory_bytes:
    assert b == 1  # Not even one row fits: the smallest possible chunk.
    return
  assert b * n_keys * 4 <= memory_bytes
  # It uses most of the budget, not a token fraction of it.
  assert (b + 8) * (n_keys + dim) * 4 > memory_bytes


def test_auto_batch_size_env_and_overrides(monkeypatch):
  monkeypatch.delenv(retrieval.MEMORY_ENV_VAR, raising=False)
  default = retrieval.auto_batch_size(20000, 300)
  assert default * 20000 * 4 <= retrieval.DEFAULT_MEMORY_MB * 2**20
  monkeypatch.setenv(retrieval.MEMORY_ENV_VAR, "16")
  small = retrieval.auto_batch_size(20000, 300)
  assert small * 20000 * 4 <= 16 * 2**20 and small < default
  # An explicit argument wins over the environment.
  assert retrieval.auto_batch_size(20000, 300, memory_bytes=2**28) == default
  assert retrieval.auto_batch_size(10**9, 300, memory_bytes=1) == 1
  monkeypatch.setenv(retrieval.MEMORY_ENV_VAR, "lots")
  with pytest.raises(ValueError, match=retrieval.MEMORY_ENV_VAR):
    retrieval.auto_batch_size(20000, 300)


def test_default_batch_size_matches_explicit(data, monkeypatch):
  # A budget small enough that batch_size=None really chunks these 17 queries.
  monkeypatch.setenv(retrieval.MEMORY_ENV_VAR, str(8 * (N + D) * 4 / 2**20))
  assert retrieval.auto_batch_size(N, D) == 8
  queries, keys = map(jnp.asarray, data)
  auto = retrieval.knn(queries, keys, 3)
  explicit = retrieval.knn(queries, keys, 3, batch_size=Q)
  np.testing.assert_array_equal(np.asarray(auto.indices),
                                np.asarray(explicit.indices))


def test_registry_retrievers_match_direct_calls(data):
  queries, keys = map(jnp.asarray, data)
  ctx = retrieval.csls_context(queries, keys, 3)
  ids = np.array([16, 0, 5, 5])
  nn = retrieval.get_retriever("nn")(ids, queries, keys, 4, batch_size=3)
  ref = retrieval.knn(queries[ids], keys, 4)
  np.testing.assert_array_equal(np.asarray(nn.indices), np.asarray(ref.indices))
  csls = retrieval.get_retriever("csls")(ids, queries, keys, 4, ctx=ctx,
                                         batch_size=3)
  ref = retrieval.csls_knn(queries[ids], keys, ctx.r_src[ids], ctx.r_tgt, 4)
  np.testing.assert_array_equal(np.asarray(csls.indices),
                                np.asarray(ref.indices))
  np.testing.assert_allclose(np.asarray(csls.scores), np.asarray(ref.scores),
                             atol=1e-6)
  # query_ids=None means every row.
  every = retrieval.csls_retrieve(None, queries, keys, 2, ctx=ctx)
  assert every.indices.shape == (Q, 2)


def test_reversed_context_serves_target_queries(data):
  queries, keys = map(jnp.asarray, data)
  ctx = retrieval.csls_context(queries, keys, 3)
  back = retrieval.csls_retrieve(None, keys, queries, 1, ctx=ctx.reverse())
  ref = _np_topk(_np_csls_scores(data[1], data[0], 3), 1)[1]
  np.testing.assert_array_equal(np.asarray(back.indices), ref)


def test_errors(data):
  queries, keys = map(jnp.asarray, data)
  with pytest.raises(ValueError, match="unknown retrieval method 'cos'"):
    retrieval.get_retriever("cos")
  with pytest.raises(ValueError, match="CSLSContext"):
    retrieval.csls_retrieve(None, queries, keys, 1)
  with pytest.raises(ValueError, match="k must be"):
    retrieval.knn(queries, keys, N + 1)
  with pytest.raises(ValueError, match="same d"):
    retrieval.knn(queries, keys[:, :3], 1)
  with pytest.raises(ValueError, match="batch_size"):
    retrieval.knn(queries, keys, 1, batch_size=0)
  ctx = retrieval.csls_context(queries, keys, 3)
  with pytest.raises(ValueError, match="does not match"):
    retrieval.csls_retrieve(None, keys, queries, 1, ctx=ctx)


def test_empty_queries(data):
  _, keys = map(jnp.asarray, data)
  nb = retrieval.knn(jnp.zeros((0, D)), keys, 3)
  assert nb.scores.shape == (0, 3) and nb.indices.shape == (0, 3)
