"""Mixflow (thesis Sec. 4.2): a mixture of T NICE flows.

``p(x) = sum_i p(c=i) p(x | c=i)`` (eq. 4.2), each component a NICE flow with
its own parameters, stacked along a leading axis of size T so that all run
under one ``jax.vmap``. The weights are held as logits: ``p(c) =
softmax(logits)`` is eq. 4.9 when the logits are trained by gradient, and for
EM the logits are ``log p(c)`` set by :func:`em_weights` (eq. 4.7-4.8). A
single flow is the case T = 1.
"""

import math
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax.flows import bases
from bdi_jax.flows import mlp
from bdi_jax.flows import nice

__all__ = ["init", "centre_at", "kmeans_pp", "component_log_probs", "log_prob",
           "posterior", "sample",
           "em_weights", "entropic_regulariser", "dominant_components"]


def init(key: jax.Array, spec: nice.FlowSpec, n_components: int, **kwargs):
  """T independently initialised flows, stacked: every leaf gains axis 0."""
  keys = jax.random.split(key, n_components)
  return jax.vmap(lambda k: nice.init(k, spec, **kwargs))(keys)


def centre_at(params, points: jax.Array):
  """Puts component i's density peak at ``points[i]`` (``[T, D]``).

  Shifts the output biases of the couplings' ``m`` so that ``f_i(points[i])
  = 0``, i.e. ``g_i(0) = points[i]``: the couplings are additive (unit
  Jacobian), so ``log p(x | c=i)`` is largest exactly there. The first two
  couplings zero the odd, then the even coordinates; later ones get
  ``m(0) = 0``. Nothing else changes (weights, scaling).
  """
  if len(params["couplings"]) < 2:
    raise ValueError("centre_at needs at least 2 couplings per flow")
  points = jnp.asarray(points)
  dim = points.shape[-1]
  h = points
  couplings = []
  for layer, m_params in enumerate(params["couplings"]):
    kept, shifted = nice.halves(dim, layer)
    out = jax.vmap(lambda m, v: mlp.apply(m, v[None])[0])(m_params,
                                                          h[:, kept])
    m_new = [dict(l) for l in m_params]
    m_new[-1]["b"] = m_new[-1]["b"] - (h[:, shifted] + out)
    couplings.append(m_new)
    h = h.at[:, shifted].set(0.0)
  return {**params, "couplings": couplings}


def kmeans_pp(key: jax.Array, x: jax.Array, k: int,
              n_trials: Optional[int] = None) -> jax.Array:
  """``k`` seed points ``[k, D]`` among the rows of ``x`` by greedy k-means++.

  k-means++ (Arthur and Vassilvitskii 2007) takes the first seed uniformly
  and each next one with probability proportional to its squared distance
  to the nearest seed so far; the greedy variant (scikit-learn's default)
  draws ``n_trials`` candidates that way (default ``2 + floor(ln k)``) and
  keeps the one that leaves the smallest sum of squared distances.
  ``n_trials=1`` is plain k-means++. Candidates come from uniforms ``u =
  jax.random.uniform(key, (k, n_trials))``: the row where the cumulative
  weight first exceeds ``u[j, l]`` times the total (the first seed: row
  ``floor(u[0, 0] n)``).
  """
  if n_trials is None:
    n_trials = 2 + int(math.log(k))
  x = jnp.asarray(x)
  n = x.shape[0]
  u = jax.random.uniform(key, (k, n_trials))
  first = jnp.minimum((u[0, 0] * n).astype(jnp.int32), n - 1)
  seeds = [x[first]]
  d2 = jnp.sum(jnp.square(x - x[first]), axis=-1)
  for j in range(1, k):
    cdf = jnp.cumsum(d2)
    cand = jnp.minimum(jnp.searchsorted(cdf, u[j] * cdf[-1], side="right"),
                       n - 1)  # [n_trials]
    cand_d2 = jnp.minimum(
        d2, jnp.sum(jnp.square(x[None] - x[cand][:, None]), axis=-1))
    best = jnp.argmin(jnp.sum(cand_d2, axis=-1))
    seeds.append(x[cand[best]])
    d2 = cand_d2[best]
  return jnp.stack(seeds)


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
