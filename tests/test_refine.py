"""Tests for Procrustes and dictionary induction against scipy / brute force."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from bdi_jax import induction
from bdi_jax import refine
from bdi_jax import retrieval
from tests import reference

N_SRC, N_TGT, D = 31, 23, 5  # Odd, unequal sizes catch axis mix-ups.
CSLS_K = 3


def test_procrustes_matches_scipy():
  rng = np.random.default_rng(0)
  src = rng.standard_normal((23, D)).astype(np.float32)
  tgt = rng.standard_normal((23, D)).astype(np.float32)
  w = np.asarray(refine.procrustes(jnp.asarray(src), jnp.asarray(tgt)))
  # scipy minimises ||src @ R - tgt||, so R = W.T in our convention.
  r, _ = scipy.linalg.orthogonal_procrustes(src, tgt)
  np.testing.assert_allclose(w, r.T, atol=1e-5)
  np.testing.assert_allclose(w @ w.T, np.eye(D), atol=1e-5)


def test_procrustes_recovers_known_rotation():
  rng = np.random.default_rng(1)
  d = 7
  q = scipy.stats.ortho_group.rvs(d, random_state=2)
  src = rng.standard_normal((301, d))
  tgt = src @ q.T + 0.01 * rng.standard_normal((301, d))
  w = np.asarray(refine.procrustes(jnp.asarray(src, jnp.float32),
                                   jnp.asarray(tgt, jnp.float32)))
  np.testing.assert_allclose(w, q, atol=5e-3)


def test_procrustes_shape_check():
  with pytest.raises(ValueError, match=r"\[m, d\]"):
    refine.procrustes(jnp.zeros((4, 3)), jnp.zeros((5, 3)))


@pytest.fixture(scope="module")
def embeddings():
  """Noisy, shuffled translations: some but not all words are mutual NNs."""
  rng = np.random.default_rng(3)
  src = reference.unit_rows(rng.standard_normal((N_SRC, D)))
  perm = rng.permutation(N_SRC)[:N_TGT]
  tgt = reference.unit_rows(src[perm] + 0.6 * rng.standard_normal((N_TGT, D)))
  return src, tgt


def _np_scores(src, tgt, method):
  return reference.np_scores(src, tgt, method, CSLS_K)


def _np_build(src, tgt, method, mode, max_rank):
  return reference.np_dictionary(src, tgt, method, mode, max_rank, CSLS_K)


def _assert_no_near_ties(src, tgt, method):
  scores = _np_scores(src, tgt, method)
  for axis in (0, 1):
    top2 = -np.sort(-scores, axis=axis).take([0, 1], axis=axis)
    assert np.min(np.abs(np.diff(top2, axis=axis))) > 1e-4


@pytest.mark.parametrize("max_rank", [0, 9, 17, 25, 100])
@pytest.mark.parametrize("mode", sorted(induction.MODES))
@pytest.mark.parametrize("method", ["nn", "csls"])
def test_build_dictionary_matches_bruteforce(embeddings, method, mode,
                                             max_rank):
  src, tgt = embeddings
  _assert_no_near_ties(src, tgt, method)
  ctx = retrieval.csls_context(jnp.asarray(src), jnp.asarray(tgt), CSLS_K)
  dico = induction.build_dictionary(jnp.asarray(src), jnp.asarray(tgt), ctx,
                                 method=method, mode=mode, max_rank=max_rank,
                                 batch_size=4)
  ref = _np_build(src, tgt, method, mode, max_rank)
  assert dico.pairs.dtype == np.int32 and dico.pairs.shape[1] == 2
  assert dico.scores.shape == (len(dico.pairs),)
  got = {tuple(map(int, p)): float(s) for p, s in zip(dico.pairs, dico.scores)}
  assert len(got) == len(dico.pairs)  # Unique.
  assert set(got) == set(ref)
  for pair, score in ref.items():
    assert got[pair] == pytest.approx(score, abs=1e-5)
  assert np.all(np.diff(dico.scores) <= 0)  # Best first.


def test_build_modes_are_nested(embeddings):
  src, tgt = map(jnp.asarray, embeddings)
  ctx = retrieval.csls_context(src, tgt, CSLS_K)
  sets = {mode: {tuple(p) for p in induction.build_dictionary(
      src, tgt, ctx, mode=mode, max_rank=0).pairs.tolist()}
          for mode in induction.MODES}
  assert sets["S2T&T2S"] == sets["S2T"] & sets["T2S"]
  assert sets["S2T|T2S"] == sets["S2T"] | sets["T2S"]
  # The data exercises both a proper intersection and a proper union.
  assert sets["S2T&T2S"] < sets["S2T"] < sets["S2T|T2S"]


def test_build_dictionary_nn_needs_no_context(embeddings):
  src, tgt = map(jnp.asarray, embeddings)
  dico = induction.build_dictionary(src, tgt, None, method="nn", mode="S2T")
  assert len(dico.pairs) == N_SRC


def test_build_dictionary_errors(embeddings, monkeypatch):
  src, tgt = map(jnp.asarray, embeddings)
  ctx = retrieval.csls_context(src, tgt, CSLS_K)
  with pytest.raises(ValueError, match="unknown dictionary build mode"):
    induction.build_dictionary(src, tgt, ctx, mode="S2T+T2S")
  with pytest.raises(ValueError, match="unknown retrieval method"):
    induction.build_dictionary(src, tgt, ctx, method="cosine")
  with pytest.raises(ValueError, match="CSLSContext"):
    induction.build_dictionary(src, tgt, None, method="csls")
  # A diverged mapping gives no finite score, hence no pair.
  nan_src = jnp.full_like(src, jnp.nan)
  with pytest.raises(ValueError, match="induced no pairs"):
    induction.build_dictionary(nan_src, tgt, None, method="nn", mode="S2T")
  monkeypatch.setitem(
      induction.MODES, "nothing",
      lambda s2t, t2s, a, b: (jnp.zeros_like(a), jnp.zeros_like(b)))
  with pytest.raises(ValueError, match="induced no pairs"):
    induction.build_dictionary(src, tgt, ctx, mode="nothing")
