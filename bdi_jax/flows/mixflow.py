"""Mixflow (thesis Sec. 4.2): a mixture of T NICE flows.

``p(x) = sum_i p(c=i) p(x | c=i)`` (eq. 4.2), each component a NICE flow with
its own parameters, stacked along a leading axis of size T so that all run
under one ``jax.vmap``. The weights are held as logits: ``p(c) =
softmax(logits)`` is eq. 4.9 when the logits are trained by gradient, and for
EM the logits are ``log p(c)`` set by :func:`em_weights` (eq. 4.7-4.8). A
single flow is the case T = 1.
"""

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax.flows import bases
from bdi_jax.flows import nice

__all__ = ["init", "centre_at", "component_log_probs", "log_prob",
           "posterior", "sample",
           "em_weights", "entropic_regulariser", "dominant_components"]


def init(key: jax.Array, spec: nice.FlowSpec, n_components: int, **kwargs):
  """T independently initialised flows, stacked: every leaf gains axis 0."""
  keys = jax.random.split(key, n_components)
  return jax.vmap(lambda k: nice.init(k, spec, **kwargs))(keys)


def centre_at(params, points: jax.Array):
  """Moves component i's initial translation to ``points[i]`` (``[T, D]``).

  The first two couplings shift the odd, then the even coordinates by their
  ``m``'s output bias; setting those biases to ``-points`` puts each flow's
  latent origin near its point (exactly when ``m``'s weights are 0). This is
  the k-means++-style start of a mixture, not something the thesis states.
  """
  if len(params["couplings"]) < 2:
    raise ValueError("centre_at needs at least 2 couplings per flow")
  dim = points.shape[-1]
  couplings = list(params["couplings"])
  for layer in (0, 1):
    _, shifted = nice.halves(dim, layer)
    m = [dict(l) for l in couplings[layer]]
    m[-1]["b"] = -points[:, shifted]
    couplings[layer] = m
  return {**params, "couplings": couplings}


def component_log_probs(params, x: jax.Array, base: str) -> jax.Array:
  """``log p(x | c=i)`` (eq. 4.1): ``[n, D] -> [n, T]``."""
  per = jax.vmap(lambda p: nice.log_prob(p, x, base))(params)  # [T, n]
  return per.T


def log_prob(params, logits: jax.Array, x: jax.Array, base: str) -> jax.Array:
  """``log sum_i p(c=i) p(x|c=i)`` (eq. 4.2), ``[n]``, by logsumexp."""
  joint = jax.nn.log_softmax(logits) + component_log_probs(params, x, base)
  return jax.scipy.special.logsumexp(joint, axis=-1)


def posterior(params, logits: jax.Array, x: jax.Array, base: str) -> jax.Array:
  """``q(c=i | x) = p(c=i|x)`` (eq. 4.5): ``[n, T]``, rows sum to 1."""
  joint = jax.nn.log_softmax(logits) + component_log_probs(params, x, base)
  return jax.nn.softmax(joint, axis=-1)


def sample(params, logits: jax.Array, key: jax.Array, n: int, base: str):
  """``(x [n, D], c [n])``: ``c ~ p(c)``, then ``x = g_c(z)``.

  The flows are differentiable in their parameters (reparametrisation
  through the sampled component, as in thesis eq. 4.10); ``c`` is discrete,
  so no gradient reaches the weights through the samples. All T flows map
  the same ``z`` and row ``k`` keeps component ``c_k``'s output (T times the
  work of one flow; T is small).
  """
  c_key, z_key = jax.random.split(key)
  c = jax.random.categorical(c_key, logits, shape=(n,))
  dim = params["log_scale"].shape[-1]
  z = bases.get_base(base).sample(z_key, (n, dim))
  xs = jax.vmap(lambda p: nice.inverse(p, z))(params)  # [T, n, D]
  return xs[c, jnp.arange(n)], c


def em_weights(weights: jax.Array, responsibilities: jax.Array,
               lambda_c: float) -> jax.Array:
  """One damped EM update of the weights (eq. 4.7-4.8).

  Args:
    weights: ``p_{t-1}(c)`` ``[T]``.
    responsibilities: ``q_t(c=i | x_n)`` ``[N, T]`` on the batch.
    lambda_c: damping; 1 is the plain EM update (eq. 4.7).

  Returns:
    ``p_{t-1} + lambda_c (mean_n q_t - p_{t-1})`` ``[T]``.
  """
  target = jnp.mean(responsibilities, axis=0)
  return weights + lambda_c * (target - weights)


def entropic_regulariser(logits: jax.Array) -> jax.Array:
  """``ER = -(1/T) sum_i log p(c=i)`` (eq. 4.11); ``log T`` at uniform
  weights, growing as any weight goes to 0."""
  return -jnp.mean(jax.nn.log_softmax(logits))


def dominant_components(weights, mass: float = 0.9) -> int:
  """The fewest components whose weights sum to at least ``mass``.

  The thesis counts "components with weight larger than 0.9" (Table 5.3),
  which cannot hold for more than one component; we read it as the mass
  they cover. Six uniform weights give 6 (five cover only 0.83).
  """
  w = np.sort(np.asarray(weights))[::-1]
  return int(np.searchsorted(np.cumsum(w), mass - 1e-9) + 1)
