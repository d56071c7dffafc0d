"""Tests for the 2-D lab (``experiments/toy``): small sweeps, few steps."""

import math

import jax
import numpy as np
import pytest

from experiments.toy import parallel_lines
from experiments.toy import ring
from experiments.toy import ring_gan

THETAS = np.array([-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0])
STEPS = 100


@pytest.mark.parametrize("name", ("wgan", "wgangp"))
def test_wasserstein_estimate_tracks_abs_theta(name):
  estimates = parallel_lines.estimate_curve(name, THETAS, jax.random.key(0),
                                            steps=STEPS)
  assert estimates.shape == THETAS.shape
  assert np.corrcoef(np.abs(THETAS), estimates)[0, 1] > 0.95
  assert np.all(estimates[THETAS != 0] > 0)


def test_gan_js_estimate_saturates_at_log2():
  estimates = parallel_lines.estimate_curve("gan", THETAS, jax.random.key(0),
                                            steps=STEPS)
  saturated = estimates[np.abs(THETAS) >= 0.5]
  np.testing.assert_allclose(saturated, math.log(2.0), rtol=0.1)
  assert np.all(estimates <= math.log(2.0) + 1e-6)  # JSD <= log 2.
  assert abs(estimates[THETAS == 0][0]) < 0.05  # Same distribution.


def test_mode_statistics_counts_modes_and_quality():
  centres = np.asarray(ring.ring_centres())
  std = ring.RING_STD
  # 3 modes hit exactly, 1 mode with too few samples, 100 far-away samples.
  samples = np.concatenate([
      np.repeat(centres[:3], 100, axis=0) + 2.5 * std * np.array([1.0, 0.0]),
      np.repeat(centres[3:4], 5, axis=0),
      np.zeros((100, 2)),
  ])
  stats = ring_gan.mode_statistics(samples, centres, std)
  # Fair share is 405 / 8; a quarter of it is ~12.7 samples: mode 3 fails.
  assert stats["modes_covered"] == 3
  np.testing.assert_allclose(stats["high_quality"], 305 / 405)


def test_ring_gan_runs_and_keeps_wgan_critic_clipped():
  (done, state, metrics), = list(ring_gan.train_gan(
      "wgan", jax.random.key(0), steps=3, critic_steps=2, batch_size=16,
      gen_hidden=8, critic_hidden=8, chunk=3))
  assert done == 3
  assert all(np.isfinite(v) for v in metrics.values())
  assert {"w_estimate", "generator_loss"} <= set(metrics)
  leaves = jax.tree.leaves(state.critic_params)
  assert max(float(np.abs(leaf).max()) for leaf in leaves) <= 0.25
  points = ring_gan.sample_generator(state.gen_params, jax.random.key(1), 11,
                                     hidden=8)
  assert points.shape == (11, 2) and np.all(np.isfinite(points))
