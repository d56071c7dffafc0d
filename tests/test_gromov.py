"""Tests for the Gromov-Wasserstein start (bdi_jax/gromov.py, starts "gw")."""

import types

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

pytest.importorskip("ott", reason="ott-jax (the 'ot' extra) is not installed")

from bdi_jax import errors, gromov, refine, starts

N, D = 61, 5  # Odd sizes catch axis mix-ups.


def rotation(seed, d=D):
  q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
  return (q * np.sign(np.diag(r))).astype(np.float32)


def spread_cloud(seed, n=N, d=D):
  # Anisotropic, so no symmetry of the cloud makes the rotation ambiguous.
  scales = np.linspace(2.0, 0.6, d)
  return (np.random.default_rng(seed).normal(size=(n, d)) * scales
          ).astype(np.float32)


def test_coupling_procrustes_of_a_permutation_is_hard_procrustes():
  rng = np.random.default_rng(1)
  x = rng.normal(size=(N, D)).astype(np.float32)
  y = rng.normal(size=(N, D)).astype(np.float32)
  perm = rng.permutation(N)
  coupling = np.zeros((N, N), np.float32)
  coupling[np.arange(N), perm] = 1.0 / N
  w = gromov.coupling_procrustes(jnp.asarray(x), jnp.asarray(y),
                                 jnp.asarray(coupling))
  expected = refine.procrustes(jnp.asarray(x), jnp.asarray(y[perm]))
  np.testing.assert_allclose(np.asarray(w), np.asarray(expected), atol=1e-5)
  np.testing.assert_allclose(np.asarray(w @ w.T), np.eye(D), atol=1e-5)


def test_gw_recovers_a_known_rotation_and_permutation():
  x = spread_cloud(0)
  r = rotation(2)
  perm = np.random.default_rng(3).permutation(N)
  y = (x @ r.T)[perm]  # Row j of y is source word perm[j], rotated.
  result = jax.jit(lambda a, b: gromov.gw_mapping(
      a, b, n_words=N, epsilon=0.002))(jnp.asarray(x), jnp.asarray(y))
  np.testing.assert_allclose(np.asarray(result.w), r, atol=2e-2)
  p = np.asarray(result.coupling)
  np.testing.assert_allclose(p.sum(1), 1.0 / N, atol=1e-3)
  # The coupling puts most of each row's mass on the true partner.
  inverse = np.argsort(perm)
  assert np.mean(np.argmax(p, axis=1) == inverse) > 0.95


def test_gw_start_entry_uses_the_config_and_frequent_words():
  x = spread_cloud(4, n=N + 20)
  r = rotation(5)
  # The first N rows of each side are the same words; the tails differ.
  tail = np.random.default_rng(6).normal(size=(20, D)).astype(np.float32)
  y = np.concatenate([x[:N] @ r.T, tail])
  spaces = types.SimpleNamespace(src=jnp.asarray(x), tgt=jnp.asarray(y))
  config = ml_collections.ConfigDict({"method": "gw", "gw": {
      "n_words": N, "epsilon": 0.002, "max_iterations": 50,
      "sinkhorn_iterations": 2000}})
  start = starts.get_start("gw")
  assert start.deterministic
  w = start.fn(None, spaces, config, 0)
  assert isinstance(w, np.ndarray) and w.shape == (D, D)
  np.testing.assert_allclose(w, r, atol=2e-2)
  config.gw.n_words = 1
  with pytest.raises(errors.ConfigError, match="gw.n_words"):
    start.fn(None, spaces, config, 0)
