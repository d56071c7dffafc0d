"""Tests for the 2-D lab (``experiments/toy``): small sweeps, few steps."""

import math

import jax
import numpy as np
import pytest

from experiments.toy import parallel_lines

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
