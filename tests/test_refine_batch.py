"""Scoring and refinement over seeds in one call (bdi_jax/scoring.py,
bdi_jax/refine.py) equal the per-mapping library functions, a brute-force
dictionary and the per-seed results."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm
from scipy.stats import ortho_group

from bdi_jax import induction, metrics, refine, retrieval, scoring
from bdi_jax.data.dictionaries import pairs_to_gold
from tests import reference

N_SRC, N_TGT, DIM = 300, 340, 12


def _task(seed=0, noise=0.05):
  """Target = rotated source + noise (plus extra target words), and gold
  pairs (i, i) for the first 120 words."""
  rng = np.random.default_rng(seed)
  q = ortho_group.rvs(DIM, random_state=seed).astype(np.float32)
  x = rng.normal(size=(N_SRC, DIM)).astype(np.float32)
  y = np.concatenate([x @ q.T, rng.normal(size=(N_TGT - N_SRC, DIM))])
  y = (y + noise * rng.normal(size=y.shape)).astype(np.float32)
  pairs = np.stack([np.arange(120), np.arange(120)], 1)
  return x, y, q, pairs


def _near(q, scale, seed):
  """A mapping near ``q`` (a small random rotation away)."""
  a = np.random.default_rng(seed).normal(size=(DIM, DIM)) * scale
  return (expm(a - a.T) @ q).astype(np.float32)


def _settings(**kw):
  base = dict(csls_k=5, n_words=200, methods=("nn", "csls"), ks=(1, 5),
              batch_size=64, max_rank=250, n_rounds=3)
  base.update(kw)
  return scoring.Settings(**base)


def _unit(y):
  return retrieval.normalize_rows(jnp.asarray(y))


def test_score_batch_equals_the_library_per_mapping():
  x, y, q, pairs = _task()
  src_ids, gold = pairs_to_gold(pairs)
  ws = np.stack([q, _near(q, 0.3, 1), np.eye(DIM, dtype=np.float32)])
  s = _settings()
  got = scoring.score_batch(jnp.asarray(ws), jnp.asarray(x), _unit(y),
                            jnp.asarray(src_ids), s)
  for i, w in enumerate(ws):
    mapped = retrieval.normalize_rows(jnp.asarray(x) @ jnp.asarray(w).T)
    ctx = retrieval.csls_context(mapped, _unit(y), k=5, batch_size=64)
    np.testing.assert_allclose(got.r_src[i], ctx.r_src, atol=1e-6)
    np.testing.assert_allclose(got.r_tgt[i], ctx.r_tgt, atol=1e-6)
    want = metrics.mean_cosine_criterion(mapped, _unit(y), ctx, n_words=200,
                                          batch_size=64)
    assert float(got.criterion[i]) == pytest.approx(want, abs=1e-6)
    want_p = metrics.evaluate_translation(mapped, _unit(y), pairs, ctx,
                                           ks=(1, 5), batch_size=64)
    for m, top in zip(s.methods, got.top):
      assert metrics.precision_at_k(np.asarray(top[i]), gold,
                                     (1, 5)) == want_p[m]
  # The true rotation translates every gold word; the identity almost none.
  csls_top = np.asarray(got.top[1])
  assert (csls_top[0, :, 0] == src_ids).mean() == 1.0
  assert (csls_top[2, :, 0] == src_ids).mean() < 0.1
  # One seed alone gives the same numbers as inside the batch.
  alone = scoring.score_batch(jnp.asarray(ws[1:2]), jnp.asarray(x),
                              _unit(y), jnp.asarray(src_ids), s)
  np.testing.assert_allclose(alone.criterion[0], got.criterion[1], atol=1e-6)
  np.testing.assert_array_equal(alone.top[1][0], got.top[1][1])


@pytest.mark.parametrize("mode", sorted(induction.MODES))
@pytest.mark.parametrize("method", ["nn", "csls"])
def test_fixed_shape_dictionary_is_the_bruteforce_rule(mode, method):
  x, y, q, _ = _task(noise=0.3)
  w = _near(q, 0.2, 3)
  mapped = retrieval.normalize_rows(jnp.asarray(x) @ jnp.asarray(w).T)
  ctx = retrieval.csls_context(mapped, _unit(y), k=5)
  d = induction.induce(mapped, _unit(y), ctx, method=method, mode=mode,
                       max_rank=250, batch_size=64)
  got = induction.dictionary_pairs(d)
  want = reference.np_dictionary(np.asarray(mapped), np.asarray(_unit(y)),
                                 method, mode, 250, 5)
  assert len(got.pairs) == len({tuple(p) for p in got.pairs.tolist()})
  assert {tuple(p) for p in got.pairs.tolist()} == set(want)
  assert int(d.size()) == len(want)
  for p, score in zip(got.pairs.tolist(), got.scores):
    assert score == pytest.approx(want[tuple(p)], abs=1e-5)
  # Its Procrustes is refine.procrustes of those pairs.
  pairs = np.asarray(sorted(want))
  w_got = refine.dictionary_procrustes(d, jnp.asarray(x), jnp.asarray(y))
  w_want = refine.procrustes(jnp.asarray(x)[pairs[:, 0]],
                             jnp.asarray(y)[pairs[:, 1]])
  np.testing.assert_allclose(w_got, w_want, atol=1e-4)


def test_refine_batch_recovers_the_rotation_and_equals_each_seed_alone():
  x, y, q, pairs = _task(noise=0.1)
  src_ids, _ = pairs_to_gold(pairs)
  starts = np.stack([_near(q, 0.15, s) for s in range(3)])
  s = _settings()
  args = (jnp.asarray(x), jnp.asarray(y), _unit(y), jnp.asarray(src_ids))
  scored = scoring.score_batch(jnp.asarray(starts), args[0], args[2],
                               args[3], s)
  rounds = refine.refine_batch(jnp.asarray(starts), scored.r_src,
                                scored.r_tgt, *args, s)
  assert rounds.w.shape == (3, s.n_rounds, DIM, DIM)
  # Known answer: every seed ends at the hidden rotation.
  for i in range(3):
    assert np.abs(np.asarray(rounds.w[i, -1]) - q).max() < 0.05
    assert float(rounds.scores.criterion[i, -1]) > float(
        scored.criterion[i])
  # Each seed alone: the same rounds.
  for i in range(3):
    alone = refine.refine_batch(jnp.asarray(starts[i:i + 1]),
                                 scored.r_src[i:i + 1], scored.r_tgt[i:i + 1],
                                 *args, s)
    np.testing.assert_allclose(alone.w[0], rounds.w[i], atol=1e-5)
    np.testing.assert_array_equal(alone.dictionary_size[0],
                                  rounds.dictionary_size[i])


def test_refine_batch_round_one_and_signals_match_the_host_loop():
  x, y, q, _ = _task(noise=0.3)
  start = _near(q, 0.2, 5)
  s = _settings(n_rounds=2, methods=())
  xs, ys, yu = jnp.asarray(x), jnp.asarray(y), _unit(y)
  scored = scoring.score_batch(jnp.asarray(start[None]), xs, yu, None, s)
  rounds = refine.refine_batch(jnp.asarray(start[None]), scored.r_src,
                                scored.r_tgt, xs, ys, yu, None, s)
  # The host loop of the same two rounds.
  w, previous = jnp.asarray(start), None
  for r in range(2):
    mapped = retrieval.normalize_rows(xs @ w.T)
    ctx = retrieval.csls_context(mapped, yu, k=5, batch_size=64)
    pairs = np.asarray(sorted(reference.np_dictionary(
        np.asarray(mapped), np.asarray(yu), "csls", "S2T&T2S", 250, 5)))
    assert int(rounds.dictionary_size[0, r]) == len(pairs)
    if r:
      assert float(rounds.dictionary_overlap[0, r]) == pytest.approx(
          reference.jaccard_of_pairs(pairs, previous), abs=1e-6)
    previous = pairs
    w = refine.procrustes(xs[pairs[:, 0]], ys[pairs[:, 1]])
    np.testing.assert_allclose(rounds.w[0, r], w, atol=1e-4)
