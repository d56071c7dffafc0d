"""NICE (Dinh et al. 2014; thesis Sec. 3.0.2): additive coupling layers and
a diagonal scaling.

Direction: ``f`` maps data to latent, ``f(x) = S * c_K(...c_1(x))`` with
``S = exp(log_scale)``; a coupling layer keeps one half of the coordinates
and shifts the other by ``m(kept half)``:

  ``y_I1 = x_I1``,  ``y_I2 = x_I2 + m(x_I1)``,

alternating which half is kept (even indices, then odd). Its Jacobian is
triangular with a unit diagonal, so the log-likelihood is thesis eq. 3.7:

  ``log p(x) = sum_d log p_z(f(x)_d) + sum_d log|S_dd|``.

Sampling is ancestral: ``x = f^{-1}(z)``, ``z ~ p_z``, each layer inverted by
``x_I2 = y_I2 - m(y_I1)``.
"""

from typing import Any, Dict, NamedTuple

import jax
import jax.numpy as jnp

from bdi_jax.flows import bases
from bdi_jax.flows import mlp

__all__ = ["FlowSpec", "halves", "init", "coupling_forward",
           "coupling_inverse", "forward", "inverse", "log_prob", "sample"]

Params = Dict[str, Any]


class FlowSpec(NamedTuple):
  """Static shape of one NICE flow (hashable: bound before ``jax.jit``)."""
  dim: int
  n_couplings: int = 4
  depth: int = 5  # hidden layers of each m
  width: int = 100  # units per hidden layer
  base: str = "gaussian"


def halves(dim: int, layer: int):
  """``(kept, shifted)`` index lists of coupling ``layer`` (static)."""
  idx = list(range(dim))
  parity = layer % 2
  return idx[parity::2], idx[1 - parity::2]


def init(key: jax.Array, spec: FlowSpec, *, out_scale: float = 1.0) -> Params:
  """Coupling MLPs and ``log_scale = 0`` (``S = I``)."""
  if spec.dim < 2:
    raise ValueError(f"a coupling layer needs dim >= 2; got {spec.dim}")
  keys = jax.random.split(key, spec.n_couplings)
  couplings = []
  for k in range(spec.n_couplings):
    kept, shifted = halves(spec.dim, k)
    sizes = [len(kept)] + mlp.hidden_sizes(spec.depth, spec.width) + [
        len(shifted)]
    couplings.append(mlp.init(keys[k], sizes, out_scale=out_scale))
  return {"couplings": couplings, "log_scale": jnp.zeros((spec.dim,))}


def coupling_forward(m_params, x: jax.Array, layer: int) -> jax.Array:
  """One additive coupling, data -> latent direction (log-det 0)."""
  kept, shifted = halves(x.shape[-1], layer)
  shift = mlp.apply(m_params, x[:, kept])
  return x.at[:, shifted].add(shift)


def coupling_inverse(m_params, y: jax.Array, layer: int) -> jax.Array:
  """The exact inverse of :func:`coupling_forward`."""
  kept, shifted = halves(y.shape[-1], layer)
  shift = mlp.apply(m_params, y[:, kept])
  return y.at[:, shifted].add(-shift)


def forward(params: Params, x: jax.Array):
  """``(z = f(x) [n, D], log|det df/dx| [])``; the log-det is ``sum log|S|``
  (every additive coupling contributes 0)."""
  h = jnp.asarray(x)
  for layer, m_params in enumerate(params["couplings"]):
    h = coupling_forward(m_params, h, layer)
  return h * jnp.exp(params["log_scale"]), jnp.sum(params["log_scale"])


def inverse(params: Params, z: jax.Array) -> jax.Array:
  """``x = f^{-1}(z)``: undo the scaling, then the couplings in reverse."""
  h = jnp.asarray(z) * jnp.exp(-params["log_scale"])
  for layer in reversed(range(len(params["couplings"]))):
    h = coupling_inverse(params["couplings"][layer], h, layer)
  return h


def log_prob(params: Params, x: jax.Array, base: str = "gaussian") -> jax.Array:
  """Thesis eq. 3.7 per row: ``[n, D] -> [n]``."""
  z, log_det = forward(params, x)
  return jnp.sum(bases.get_base(base).log_prob(z), axis=-1) + log_det


def sample(params: Params, key: jax.Array, n: int,
           base: str = "gaussian") -> jax.Array:
  """``n`` ancestral samples ``[n, D]`` (differentiable in ``params``)."""
  dim = params["log_scale"].shape[-1]
  z = bases.get_base(base).sample(key, (n, dim))
  return inverse(params, z)
