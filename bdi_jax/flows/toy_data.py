"""The thesis's data (Chapter 5), drawn with explicit keys.

Samplers share one signature, ``sampler(key, n, data) -> [n, D]``, so the
training step draws real batches inside compiled code: ``data`` is ``None``
for the generated toy sets and a device-resident array for the digits.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["GMM_COMPONENTS", "GMM_RADIUS", "GMM_VAR", "gmm_means", "gmm",
           "gmm_log_prob", "SWISS_TURNS", "swiss_roll", "digits_sampler",
           "DIGIT_LEVELS", "load_digits"]

# Thesis Sec. 5.1.1: 6 Gaussians, uniform weights, means equally spaced on a
# circle of radius 5, diagonal covariance 0.1 (read as the variance).
GMM_COMPONENTS = 6
GMM_RADIUS = 5.0
GMM_VAR = 0.1


def gmm_means() -> jax.Array:
  angles = 2.0 * math.pi * jnp.arange(GMM_COMPONENTS) / GMM_COMPONENTS
  return GMM_RADIUS * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)


def gmm(key: jax.Array, n: int, data=None) -> jax.Array:
  """``n`` samples of the thesis's GMM ``[n, 2]``."""
  del data
  c_key, z_key = jax.random.split(key)
  c = jax.random.randint(c_key, (n,), 0, GMM_COMPONENTS)
  noise = math.sqrt(GMM_VAR) * jax.random.normal(z_key, (n, 2))
  return gmm_means()[c] + noise


def gmm_log_prob(x: jax.Array) -> jax.Array:
  """The true GMM's log-density ``[n]``: the ground truth of Table 5.1."""
  diff = x[:, None, :] - gmm_means()[None]  # [n, 6, 2]
  log_n = (-0.5 * jnp.sum(jnp.square(diff), -1) / GMM_VAR
           - math.log(2.0 * math.pi * GMM_VAR))
  return jax.scipy.special.logsumexp(log_n, axis=-1) - math.log(GMM_COMPONENTS)


# Swiss roll "with more spirals" (Sec. 5.1.2 gives no formula). We read it
# as scikit-learn's 2-D swiss roll, t ~ U[1.5 pi, 4.5 pi] (1.5 turns), made
# twice as long: t ~ U[1.5 pi, 7.5 pi] (3 turns), points t (cos t, sin t) / 3
# (radius <= 7.9, arms 2.1 apart) plus N(0, 0.25^2) noise.
SWISS_TURNS = 3.0
SWISS_NOISE = 0.25


def swiss_roll(key: jax.Array, n: int, data=None) -> jax.Array:
  del data
  t_key, e_key = jax.random.split(key)
  t = math.pi * (1.5 + 2.0 * SWISS_TURNS * jax.random.uniform(t_key, (n,)))
  x = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], axis=-1) / 3.0
  return x + SWISS_NOISE * jax.random.normal(e_key, (n, 2))


DIGIT_LEVELS = 17  # scikit-learn's 8x8 digits take the values 0..16.


def digits_sampler(key: jax.Array, n: int, data: jax.Array) -> jax.Array:
  """A batch of dequantised images: ``(v + u) / levels`` in ``[0, 1)``,
  ``u ~ U[0, 1)``, rows of ``data`` (integer levels ``[N, D]``) drawn with
  replacement. Dequantisation makes the discrete pixels a density."""
  i_key, u_key = jax.random.split(key)
  rows = data[jax.random.randint(i_key, (n,), 0, data.shape[0])]
  return (rows + jax.random.uniform(u_key, rows.shape)) / DIGIT_LEVELS


def load_digits(test_size: int = 297, seed: int = 0):
  """scikit-learn's bundled 8x8 digits (1,797 images) split once into
  ``(train [N, 64], test [test_size, 64], train_labels, test_labels)``
  integer levels 0..16 (float32)."""
  try:
    from sklearn import datasets  # pylint: disable=g-import-not-at-top
  except ImportError:
    from bdi_jax import errors  # pylint: disable=g-import-not-at-top
    raise errors.DataError(
        "the digits configs need scikit-learn's bundled 8x8 digits: "
        "pip install -e '.[flows]'") from None
  bunch = datasets.load_digits()
  order = np.random.default_rng(seed).permutation(len(bunch.target))
  x = bunch.data.astype(np.float32)[order]
  y = bunch.target[order]
  return x[test_size:], x[:test_size], y[test_size:], y[:test_size]
