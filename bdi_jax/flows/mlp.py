"""A plain ReLU MLP as a pytree of arrays: ``init`` and ``apply``.

Used for the coupling functions ``m`` and for the critics. Plain arrays
(rather than a Flax module) so that T components stack along a leading axis
and run under one ``jax.vmap``.
"""

from typing import Dict, List, Sequence

import jax
import jax.numpy as jnp

__all__ = ["init", "apply", "hidden_sizes"]

Params = List[Dict[str, jax.Array]]


def hidden_sizes(depth: int, width: int) -> List[int]:
  """``depth`` hidden layers of ``width`` units ("a 5-layer MLP with 100
  nodes per layer" is ``hidden_sizes(5, 100)``)."""
  return [width] * depth


def init(key: jax.Array, sizes: Sequence[int], *,
         out_scale: float = 1.0) -> Params:
  """Weights for ``sizes = [in, h_1, ..., h_k, out]``.

  Hidden layers use He-normal weights (ReLU); the output layer's weights are
  LeCun-normal times ``out_scale`` (0 gives ``m == 0``, an identity
  coupling). Biases start at 0.
  """
  keys = jax.random.split(key, len(sizes) - 1)
  layers = []
  for i, (k, n_in, n_out) in enumerate(zip(keys, sizes[:-1], sizes[1:])):
    last = i == len(sizes) - 2
    std = (1.0 / n_in) ** 0.5 * out_scale if last else (2.0 / n_in) ** 0.5
    layers.append({"w": std * jax.random.normal(k, (n_in, n_out)),
                   "b": jnp.zeros((n_out,))})
  return layers


def apply(params: Params, x: jax.Array) -> jax.Array:
  """``[n, in] -> [n, out]``: ReLU after every layer but the last."""
  h = x
  for layer in params[:-1]:
    h = jax.nn.relu(h @ layer["w"] + layer["b"])
  return h @ params[-1]["w"] + params[-1]["b"]
