"""Tests for precision@k, translation evaluation and the criterion."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from bdi_jax import metrics
from bdi_jax import retrieval
from tests import reference

N_SRC, N_TGT, D = 37, 29, 16  # Odd, unequal sizes catch axis mix-ups.
CSLS_K = 5


def test_precision_at_k_hand_computed():
  topk = np.array([
      [5, 2, 7],  # Gold {2, 9}: first hit at rank 2.
      [1, 0, 3],  # Gold {1}: hit at rank 1.
      [4, 6, 8],  # Gold {0, 3}: never.
      [2, 3, 9],  # Gold {9, 3}: hits at ranks 2 and 3, counted once.
  ])
  gold = [np.array([2, 9]), np.array([1]), np.array([0, 3]), np.array([9, 3])]
  got = metrics.precision_at_k(topk, gold, ks=(1, 2, 3))
  assert got == {"p@1": 0.25, "p@2": 0.75, "p@3": 0.75}


def test_precision_at_k_errors():
  with pytest.raises(ValueError, match="outside"):
    metrics.precision_at_k(np.zeros((2, 3), int), [[0], [1]], ks=(1, 5))
  with pytest.raises(ValueError, match="len\\(gold\\)"):
    metrics.precision_at_k(np.zeros((2, 3), int), [[0]], ks=(1,))


@pytest.fixture(scope="module")
def noisy():
  """A noisy mapping: retrieval is right for some words only."""
  rng = np.random.default_rng(0)
  src = reference.unit_rows(rng.standard_normal((N_SRC, D)))
  tgt = reference.unit_rows(src[:N_TGT] + 0.9 * rng.standard_normal((N_TGT, D)))
  return src, tgt


def _np_scores(src, tgt, method):
  return reference.np_scores(src, tgt, method, CSLS_K)


@pytest.mark.parametrize("n_words", [1, 7, 1000])
def test_mean_cosine_criterion_matches_bruteforce(noisy, n_words):
  src, tgt = noisy
  ctx = retrieval.csls_context(jnp.asarray(src), jnp.asarray(tgt), CSLS_K)
  got = metrics.mean_cosine_criterion(jnp.asarray(src), jnp.asarray(tgt), ctx,
                                       n_words=n_words, batch_size=4)
  n = min(n_words, N_SRC)
  best = np.argmax(_np_scores(src, tgt, "csls")[:n], axis=1)
  ref = np.mean(np.sum(src[:n].astype(np.float64) * tgt[best], axis=1))
  assert isinstance(got, float)
  assert got == pytest.approx(ref, abs=1e-5)
  # CSLS, not NN: on this data the two criteria differ.
  nn_best = np.argmax(_np_scores(src, tgt, "nn")[:n], axis=1)
  if n > 1:
    assert np.any(nn_best != best)


def test_evaluate_translation_matches_bruteforce(noisy):
  src, tgt = noisy
  # Word i translates as i; some words get an extra translation, one an
  # unreachable second one, and duplicates must not count twice.
  pairs = [(i, i) for i in range(N_TGT)] + [(0, 5), (3, 1), (3, 1), (8, 2)]
  pairs = np.array(pairs)
  ctx = retrieval.csls_context(jnp.asarray(src), jnp.asarray(tgt), CSLS_K)
  got = metrics.evaluate_translation(jnp.asarray(src), jnp.asarray(tgt),
                                      pairs, ctx, ks=(1, 3, 10),
                                      batch_size=7)
  gold = {}
  for s, t in pairs.tolist():
    gold.setdefault(s, set()).add(t)
  for method in ("nn", "csls"):
    ranked = np.argsort(-_np_scores(src, tgt, method), axis=1)
    for k in (1, 3, 10):
      hits = [bool(set(ranked[s, :k]) & g) for s, g in gold.items()]
      assert got[method][f"p@{k}"] == pytest.approx(np.mean(hits)), (method, k)
  # The data is neither trivial nor hopeless.
  assert 0.0 < got["nn"]["p@1"] < 1.0


def test_evaluate_translation_known_rotation():
  rng = np.random.default_rng(1)
  src = reference.unit_rows(rng.standard_normal((N_SRC, D)))
  w = scipy.stats.ortho_group.rvs(D, random_state=2).astype(np.float32)
  perm = rng.permutation(N_SRC)[:N_TGT]  # tgt[j] translates src[perm[j]].
  tgt = src[perm] @ w.T
  mapped = jnp.asarray(src) @ jnp.asarray(w).T
  pairs = np.stack([perm, np.arange(N_TGT)], axis=1)
  # Extra wrong gold translations must not lower the score.
  pairs = np.concatenate([pairs, [[perm[0], 3], [perm[4], 0]]])
  ctx = retrieval.csls_context(mapped, jnp.asarray(tgt), CSLS_K)
  got = metrics.evaluate_translation(mapped, jnp.asarray(tgt), pairs, ctx)
  assert got == {m: {"p@1": 1.0, "p@5": 1.0, "p@10": 1.0}
                 for m in ("nn", "csls")}
  # Shuffling the targets breaks it, so the check above is not vacuous.
  bad = metrics.evaluate_translation(mapped, jnp.asarray(tgt)[::-1], pairs,
                                      ctx, methods=("nn",))
  assert bad["nn"]["p@1"] < 0.5


def test_evaluate_translation_errors(noisy):
  src, tgt = map(jnp.asarray, noisy)
  pairs = np.array([[0, 0], [1, 1]])
  with pytest.raises(ValueError, match="CSLSContext"):
    metrics.evaluate_translation(src, tgt, pairs, None)
  with pytest.raises(ValueError, match="unknown retrieval method"):
    metrics.evaluate_translation(src, tgt, pairs, None, methods=("cos",))
  assert set(metrics.evaluate_translation(
      src, tgt, pairs, None, methods=("nn",))) == {"nn"}
  with pytest.raises(ValueError, match="at least one gold pair"):
    metrics.evaluate_translation(src, tgt, np.zeros((0, 2), int), None)


def test_evaluate_translation_by_band_matches_bruteforce(noisy):
  src, tgt = noisy
  # Every target word is a gold pair; bands split the source ranks unevenly
  # and one band lies beyond the vocabulary (no queries).
  pairs = np.array([(i, i) for i in range(N_TGT)] + [(2, 7), (9, 1)])
  bands = ((0, 5), (5, 12), (12, None), (10**6, None))
  ctx = retrieval.csls_context(jnp.asarray(src), jnp.asarray(tgt), CSLS_K)
  got = metrics.evaluate_translation_by_band(
      jnp.asarray(src), jnp.asarray(tgt), pairs, ctx, bands=bands, ks=(1, 3),
      batch_size=5)
  gold = {}
  for s, t in pairs.tolist():
    gold.setdefault(s, set()).add(t)
  for method in ("nn", "csls"):
    ranked = np.argsort(-_np_scores(src, tgt, method), axis=1)
    for (start, end), name in zip(bands, ("0-5", "5-12", "12+", "1000000+")):
      words = [s for s in gold if s >= start and (end is None or s < end)]
      band = got[method][name]
      assert band["queries"] == len(words)
      for k in (1, 3):
        if not words:
          assert f"p@{k}" not in band
          continue
        hits = [bool(set(ranked[s, :k]) & gold[s]) for s in words]
        assert band[f"p@{k}"] == pytest.approx(np.mean(hits)), (method, name)
  # The bands differ, so the split carries information.
  assert got["nn"]["0-5"]["p@1"] != got["nn"]["5-12"]["p@1"]
