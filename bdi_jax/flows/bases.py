"""Base distributions of the flows, chosen by name through :data:`BASES`.

The thesis uses a standard Gaussian for the toy data and a standard logistic
for images (as NICE does, Dinh et al. 2014). Each is a pair of pure
functions, the log-density per coordinate and a sampler.
"""

import math
from typing import Callable, Dict, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["Base", "BASES", "get_base"]


class Base(NamedTuple):
  log_prob: Callable[[jax.Array], jax.Array]  # elementwise log p_z(z)
  sample: Callable[[jax.Array, tuple], jax.Array]  # (key, shape) -> z


def _gaussian_log_prob(z):
  return -0.5 * jnp.square(z) - 0.5 * math.log(2.0 * math.pi)


def _logistic_log_prob(z):
  # log sigma(z) + log sigma(-z), stable for large |z|.
  return -jax.nn.softplus(z) - jax.nn.softplus(-z)


BASES: Dict[str, Base] = {
    "gaussian": Base(_gaussian_log_prob,
                     lambda key, shape: jax.random.normal(key, shape)),
    "logistic": Base(_logistic_log_prob,
                     lambda key, shape: jax.random.logistic(key, shape)),
}


def get_base(name: str) -> Base:
  try:
    return BASES[name]
  except KeyError:
    raise ValueError(
        f"unknown base distribution {name!r}; known: {sorted(BASES)}") from None
