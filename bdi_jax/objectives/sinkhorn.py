"""Sinkhorn divergence: a critic-free objective for the mapping.

The primal side of optimal transport (seed 003, Alg. 4 and Sec. 6.1.6): instead
of a critic estimating a distance between the mapped source words and the
target words, the mapping minimises an entropic OT distance computed directly
between two batches. With ``x_i = normalise(W s_i)`` (``b`` mapped source
words) and ``y_j = normalise(t_j)`` (``b`` target words), uniform weights and
the cost ``C_ij = ||x_i - y_j||^2 = 2 - 2 cos(x_i, y_j)``,

  ``OT_eps(x, y) = min_P <C, P> + eps KL(P | a b^T)``  (Cuturi 2013)

solved by Sinkhorn's iterations, and the debiased divergence

  ``S_eps(x, y) = OT_eps(x, y) - (OT_eps(x, x) + OT_eps(y, y)) / 2``

(Genevay, Peyré & Cuturi 2018; Feydy et al. 2019), which is 0 when the two
batches coincide, unlike ``OT_eps``. The gradient with respect to ``W`` flows
through ``x`` only; the optimal potentials make it an envelope gradient
(Danskin), so the solver is not differentiated through.

The solver is ott-jax's (``ott.tools.sinkhorn_divergence.sinkdiv`` on an
``ott.geometry.pointcloud.PointCloud``), not this project's: ``epsilon`` is an
absolute entropic weight in the units of the cost above (cosine distances,
between 0 and 4).

The objective has no critic (``needs_critic=False``): the training step skips
the critic updates and passes a batch of target words as ``real=``.
"""

import functools
from typing import Dict, Tuple

import jax
import jax.numpy as jnp

from bdi_jax import errors
from bdi_jax.objectives import base

__all__ = ["divergence", "generator_loss", "critic_loss", "make",
           "import_ott"]


def import_ott(module: str):
  """``import ott.<module>``, or a ConfigError that says how to install it.

  ott-jax is an optional dependency (the ``ot`` extra), imported only by the
  methods that use it, so the GAN methods work without it.
  """
  import importlib  # pylint: disable=g-import-not-at-top
  try:
    return importlib.import_module(f"ott.{module}")
  except ImportError as e:
    raise errors.ConfigError(
        f"the optimal-transport methods (sinkhorn, gw) need ott-jax: "
        f"pip install -e \".[ot]\" ({e})") from None


def _unit_rows(x: jax.Array) -> jax.Array:
  # The retrieval compares directions (cosine); so does the transport cost.
  return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def divergence(x: jax.Array, y: jax.Array, *, epsilon: float = 0.05,
               max_iterations: int = 200, threshold: float = 1e-3
               ) -> Tuple[jax.Array, Dict[str, jax.Array]]:
  """Debiased Sinkhorn divergence between two point clouds, uniform weights.

  Args:
    x: ``[n, d]`` points (mapped source words); rows are normalised here.
    y: ``[m, d]`` points (target words); rows are normalised here.
    epsilon: entropic regularisation, absolute, in units of the cost
      ``||x_i - y_j||^2`` of unit vectors (in ``[0, 4]``).
    max_iterations: cap on Sinkhorn iterations for each of the three problems.
    threshold: marginal error at which Sinkhorn stops.

  Returns:
    ``(S_eps [], metrics)`` with ``sinkhorn_divergence`` and
    ``sinkhorn_iterations`` (of the ``x``-``y`` problem).
  """
  if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
    raise ValueError(
        f"x and y must be [n, d] and [m, d] with the same d; got {x.shape} "
        f"and {y.shape}")
  ott_divergence = import_ott("tools.sinkhorn_divergence")
  value, out = ott_divergence.sinkdiv(
      _unit_rows(x), _unit_rows(y), epsilon=epsilon,
      solve_kwargs={"max_iterations": max_iterations, "threshold": threshold})
  metrics = {"sinkhorn_divergence": value,
             "sinkhorn_iterations": jnp.asarray(out.n_iters[0], jnp.float32)}
  return value, metrics


def generator_loss(critic, params, fake, key, *, real, epsilon: float = 0.05,
                   max_iterations: int = 200, threshold: float = 1e-3):
  """``S_eps(fake, real)``; gradients flow through ``fake``.

  Args:
    critic: unused (the objective has no critic).
    params: unused.
    fake: ``[b, d]`` mapped source embeddings.
    key: unused (the loss is deterministic).
    real: ``[b', d]`` target embeddings, a constant for the mapping.
    epsilon, max_iterations, threshold: see :func:`divergence`.

  Returns:
    ``(loss [], metrics)`` with ``generator_loss``, ``sinkhorn_divergence``
    and ``sinkhorn_iterations``.
  """
  del critic, params, key
  loss, metrics = divergence(
      fake, jax.lax.stop_gradient(real), epsilon=epsilon,
      max_iterations=max_iterations, threshold=threshold)
  metrics["generator_loss"] = loss
  return loss, metrics


def critic_loss(critic, params, real, fake, key):
  """There is no critic to train; the step never calls this."""
  del critic, params, real, fake, key
  raise errors.ConfigError(
      "the sinkhorn objective has no critic (needs_critic=False): a training "
      "step must skip the critic updates for it")


def make(config) -> base.Objective:
  """Binds ``sinkhorn_epsilon`` (0.05), ``sinkhorn_iterations`` (100) and
  ``sinkhorn_threshold`` (1e-3) from ``config``."""
  return base.Objective(
      name="sinkhorn",
      critic_loss=critic_loss,
      generator_loss=functools.partial(
          generator_loss,
          epsilon=float(config.get("sinkhorn_epsilon", 0.05)),
          max_iterations=int(config.get("sinkhorn_iterations", 100)),
          threshold=float(config.get("sinkhorn_threshold", 1e-3))),
      project=base.identity_projection,
      needs_critic=False,
  )
