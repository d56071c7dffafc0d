"""Tests for the critic-free Sinkhorn-divergence objective and its step."""

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

pytest.importorskip("ott", reason="ott-jax (the 'ot' extra) is not installed")
from scipy.special import logsumexp

from bdi_jax import errors, models
from bdi_jax import step as step_lib
from bdi_jax.objectives import REGISTRY, get_objective, sinkhorn

N, M, D = 7, 11, 3  # Odd, unequal sizes catch axis mix-ups.
EPS = 0.5
TIGHT = {"max_iterations": 2000, "threshold": 1e-6}


def unit(x):
  x = np.asarray(x, np.float64)
  return x / np.linalg.norm(x, axis=1, keepdims=True)


def entropic_ot(x, y, eps, n_iter=2000):
  """Brute-force log-domain Sinkhorn: ``min <C,P> + eps KL(P | a b^T)``."""
  c = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
  log_a = np.full(len(x), -np.log(len(x)))
  log_b = np.full(len(y), -np.log(len(y)))
  f, g = np.zeros(len(x)), np.zeros(len(y))
  for _ in range(n_iter):
    f = -eps * logsumexp((g[None, :] - c) / eps + log_b[None, :], axis=1)
    g = -eps * logsumexp((f[:, None] - c) / eps + log_a[:, None], axis=0)
  log_p = (f[:, None] + g[None, :] - c) / eps + log_a[:, None] + log_b[None, :]
  p = np.exp(log_p)
  np.testing.assert_allclose(p.sum(1), np.exp(log_a), atol=1e-8)
  kl = np.sum(p * (log_p - log_a[:, None] - log_b[None, :]))
  return float(np.sum(p * c) + eps * kl)


def brute_divergence(x, y, eps):
  x, y = unit(x), unit(y)
  return (entropic_ot(x, y, eps)
          - 0.5 * (entropic_ot(x, x, eps) + entropic_ot(y, y, eps)))


@functools.lru_cache(maxsize=None)
def clouds(seed=0):
  kx, ky = jax.random.split(jax.random.key(seed))
  return (jax.random.normal(kx, (N, D)),
          jax.random.normal(ky, (M, D)) + jnp.array([1.0, 0.0, 0.0]))


def test_registry_and_flags():
  obj = get_objective("sinkhorn", ml_collections.ConfigDict(
      {"sinkhorn_epsilon": 0.2, "sinkhorn_iterations": 50}))
  assert "sinkhorn" in REGISTRY and obj.name == "sinkhorn"
  assert obj.needs_critic is False
  assert get_objective("gan", ml_collections.ConfigDict()).needs_critic
  with pytest.raises(errors.ConfigError, match="no critic"):
    obj.critic_loss(None, None, None, None, None)


def test_divergence_matches_brute_force_entropic_ot():
  x, y = clouds()
  value, metrics = sinkhorn.divergence(x, y, epsilon=EPS, **TIGHT)
  expected = brute_divergence(x, y, EPS)
  assert expected > 0.05  # The clouds differ: a real, non-trivial value.
  np.testing.assert_allclose(float(value), expected, rtol=2e-3, atol=1e-5)
  assert float(metrics["sinkhorn_iterations"]) >= 1


def test_divergence_is_zero_on_identical_clouds_and_rotation_sensitive():
  x, _ = clouds()
  same, _ = sinkhorn.divergence(x, x, epsilon=EPS, **TIGHT)
  np.testing.assert_allclose(float(same), 0.0, atol=1e-5)
  # Scaling rows changes nothing (the cost compares directions) ...
  scaled, _ = sinkhorn.divergence(x, 3.0 * x, epsilon=EPS, **TIGHT)
  np.testing.assert_allclose(float(scaled), 0.0, atol=1e-5)
  # ... a rotation does.
  r = np.linalg.qr(np.random.default_rng(0).normal(size=(D, D)))[0]
  rotated, _ = sinkhorn.divergence(x, x @ r.T, epsilon=EPS, **TIGHT)
  np.testing.assert_allclose(float(rotated),
                             brute_divergence(x, np.asarray(x) @ r.T, EPS),
                             rtol=2e-3, atol=1e-5)


def test_generator_loss_gradient_matches_finite_differences():
  src, tgt = clouds(1)
  loss = jax.jit(lambda w: sinkhorn.generator_loss(
      None, None, src @ w.T, None, real=tgt, epsilon=EPS, **TIGHT)[0])
  w = jnp.eye(D) + 0.1 * jax.random.normal(jax.random.key(3), (D, D))
  grad = jax.grad(loss)(w)
  assert float(jnp.linalg.norm(grad)) > 1e-3  # Not trivially zero.
  rng = np.random.default_rng(0)
  for _ in range(3):
    direction = rng.normal(size=(D, D)).astype(np.float32)
    direction /= np.linalg.norm(direction)
    h = 1e-2
    numeric = (float(loss(w + h * direction))
               - float(loss(w - h * direction))) / (2 * h)
    analytic = float(jnp.sum(grad * direction))
    np.testing.assert_allclose(analytic, numeric, rtol=3e-2, atol=2e-4)


def _step(objective, w0, data, steps, lr=0.5):
  module = models.Discriminator(hidden=5, n_layers=1, input_dropout=0.0)
  map_tx, dis_tx = optax.sgd(lr), optax.sgd(0.1)
  step = jax.jit(step_lib.bind_step(
      objective=objective, critic=models.make_critic(module), map_tx=map_tx,
      dis_tx=dis_tx, config=step_lib.StepConfig(batch_size=64, dis_steps=3,
                                                 map_beta=0.01)))
  state = step_lib.create_train_state(jax.random.key(0), D, module, map_tx,
                                       dis_tx)
  state = state.replace(mapping=jnp.asarray(w0, jnp.float32),
                        map_opt_state=map_tx.init(jnp.asarray(w0)))
  dis0 = state.dis_params
  metrics = []
  for _ in range(steps):
    state, m = step(state, jax.random.key(1), data)
    metrics.append(m)
  return state, dis0, metrics


def test_step_skips_the_critic_and_moves_w_towards_the_rotation():
  # Target = source rotated by a small known rotation; from the identity the
  # mapping should follow the divergence's gradient towards it.
  rng = np.random.default_rng(0)
  src = rng.normal(size=(301, D)).astype(np.float32) * np.array(
      [3.0, 1.5, 0.5], np.float32)
  angle = 0.4
  r = np.array([[np.cos(angle), -np.sin(angle), 0.0],
                [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]],
               np.float32)
  data = step_lib.EmbeddingData(jnp.asarray(src), jnp.asarray(src @ r.T))
  objective = get_objective("sinkhorn", ml_collections.ConfigDict(
      {"sinkhorn_epsilon": 0.05}))
  state, dis0, metrics = _step(objective, np.eye(D), data, steps=150, lr=0.5)
  # No critic work: its parameters are untouched, its metrics absent.
  for a, b in zip(jax.tree.leaves(dis0), jax.tree.leaves(state.dis_params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert "critic_loss" not in metrics[0]
  assert {"generator_loss", "sinkhorn_divergence"} <= set(metrics[0])
  assert all(np.isfinite(float(m["generator_loss"])) for m in metrics)
  err0 = np.linalg.norm(np.eye(D) - r)
  err = np.linalg.norm(np.asarray(state.mapping) - r)
  assert err < 0.6 * err0, (err, err0)  # Batch noise keeps it from 0.
