"""WGAN with gradient penalty (Gulrajani et al. 2017, "Improved training of
Wasserstein GANs", Algorithm 1).

Instead of clipping weights, the critic loss gains a soft two-sided constraint
on the gradient norm at random interpolates between real and fake samples:

  ``L = mean f(fake) - mean f(real)
        + lambda * mean((||grad_x f(x_hat)||_2 - 1)^2)``

with ``x_hat = eps * real + (1 - eps) * fake`` and ``eps ~ U[0, 1]`` per sample.
The optimal critic has unit gradient norm on the lines joining coupled points
(Gulrajani et al., Proposition 1), which is where the penalty looks.

The gradient is taken of the *sum* of the critic's scores with respect to the
batch of interpolates: because every score depends on its own row only, that is
the per-sample gradient at the cost of one backward pass. This requires a
critic without cross-sample coupling (no BatchNorm; LayerNorm is per-sample and
fine). All interpolates share one dropout key, i.e. one draw of the dropout
masks for the whole penalty batch, exactly as in a single forward pass.

``penalty_dropout=False`` scores the interpolates without the critic's
dropout: Gulrajani et al.'s penalty is on the gradient of one fixed function
D, and their critics have no dropout, so a penalty on a randomly thinned
critic constrains a different function each step (docs/notes/
thesis-settings.md; the ``*_thesis_*`` presets). The interpolation weights
stay random.
"""

import functools

import jax
import jax.numpy as jnp

from bdi_jax.objectives import base
from bdi_jax.objectives import wgan

__all__ = ["safe_norm", "gradient_penalty", "critic_loss", "generator_loss",
           "make"]


def safe_norm(x: jax.Array, axis: int = -1) -> jax.Array:
  """L2 norm along ``axis`` whose gradient at 0 is 0 instead of NaN.

  The penalty is differentiated with respect to the critic's parameters, so a
  zero input gradient (e.g. a dead ReLU region) must not poison the update.
  """
  sq = jnp.sum(jnp.square(x), axis=axis)
  positive = sq > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


def gradient_penalty(critic, params, real, fake, key, *,
                     target_norm: float = 1.0, dropout: bool = True):
  """``mean((||grad_x f(x_hat)||_2 - target_norm)^2)`` at random interpolates.

  Args:
    critic: ``critic(params, x, key) -> (logits [n], features [n, h])``.
    params: critic parameters.
    real: ``[b, d]`` target embeddings.
    fake: ``[b, d]`` mapped source embeddings (same ``b``: they are paired).
    key: draws ``eps ~ U[0, 1]`` per sample and the dropout masks of the
      interpolates. ``None`` gives a deterministic penalty: the midpoints
      (``eps = 1/2``) scored without dropout, for evaluation.
    target_norm: the gradient norm the penalty pulls towards (1 for a
      1-Lipschitz critic).
    dropout: score the interpolates with the critic's dropout (True) or
      deterministically (False); ``eps`` is random either way.

  Returns:
    ``(penalty [], metrics)`` with ``gp`` (the penalty) and ``grad_norm`` (the
    mean gradient norm at the interpolates).
  """
  base.check_batch(real, fake)
  if real.shape[0] != fake.shape[0]:
    raise ValueError(
        f"the penalty pairs real and fake rows; got {real.shape[0]} and "
        f"{fake.shape[0]} rows")
  if key is None:
    eps = jnp.full((real.shape[0], 1), 0.5, dtype=real.dtype)
    dropout_key = None
  else:
    eps_key, dropout_key = jax.random.split(key)
    eps = jax.random.uniform(eps_key, (real.shape[0], 1), dtype=real.dtype)
    if not dropout:  # Static: the same eps draws, a deterministic critic.
      dropout_key = None
  x_hat = eps * real + (1.0 - eps) * fake

  def summed_scores(x):
    scores, _ = critic(params, x, dropout_key)
    return jnp.sum(scores)

  grads = jax.grad(summed_scores)(x_hat)  # [b, d], row i = grad of score i.
  norms = safe_norm(grads, axis=-1)
  penalty = jnp.mean(jnp.square(norms - target_norm))
  return penalty, {"gp": penalty, "grad_norm": jnp.mean(norms)}


def critic_loss(critic, params, real, fake, key, *, gp_lambda: float = 0.5,
                penalty_dropout: bool = True):
  """WGAN critic loss plus ``gp_lambda`` times the gradient penalty.

  Args:
    critic: ``critic(params, x, key) -> (logits, features)``.
    params: critic parameters.
    real: ``[b, d]`` target embeddings.
    fake: ``[b, d]`` mapped source embeddings.
    key: split into the scoring dropout key and the penalty key; ``None`` for a
      deterministic loss (see :func:`gradient_penalty`).
    gp_lambda: weight of the penalty.
    penalty_dropout: the penalty's critic with dropout (see
      :func:`gradient_penalty`).

  Returns:
    ``(loss [], metrics)`` with ``critic_loss``, ``w_estimate``, ``d_real``,
    ``d_fake``, ``gp``, ``grad_norm``.
  """
  score_key, gp_key = (None, None) if key is None else jax.random.split(key)
  w_loss, metrics = wgan.critic_loss(critic, params, real, fake, score_key)
  gp, gp_metrics = gradient_penalty(critic, params, real, fake, gp_key,
                                    dropout=penalty_dropout)
  loss = w_loss + gp_lambda * gp
  metrics.update(gp_metrics)
  metrics["critic_loss"] = loss
  return loss, metrics


generator_loss = wgan.generator_loss


def make(config) -> base.Objective:
  """Binds hyper-parameters from ``config`` (fields: ``gp_lambda``,
  ``penalty_dropout``).

  The default weight is 0.5, this project's setting for word embeddings;
  Gulrajani et al. use 10 for images.
  """
  gp_lambda = float(config.get("gp_lambda", 0.5))
  return base.Objective(
      name="wgangp",
      critic_loss=functools.partial(
          critic_loss, gp_lambda=gp_lambda,
          penalty_dropout=bool(config.get("penalty_dropout", True))),
      generator_loss=generator_loss,
      project=base.identity_projection,
  )
