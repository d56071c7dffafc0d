"""Wasserstein GAN with weight clipping (Arjovsky, Chintala & Bottou 2017).

The critic ``f`` maximises ``E_real f - E_fake f``, the Kantorovich-Rubinstein
dual of the earth-mover distance ``W(P_real, P_fake)`` over 1-Lipschitz ``f``.
Clipping every parameter to ``[-c, c]`` after each critic update keeps ``f`` in
a compact family of ``K``-Lipschitz functions for some ``K`` that depends on
``c`` and the architecture, so the critic estimates ``K * W`` rather than ``W``
(Arjovsky et al. 2017, Sec. 3, Algorithm 1).

The scores are the raw logits of the discriminator; no sigmoid is applied.
"""

import functools

import jax
import jax.numpy as jnp

from bdi_jax.objectives import base

__all__ = ["critic_scores", "wasserstein_metrics", "critic_loss",
           "generator_loss", "clip_weights", "make"]


def critic_scores(critic, params, real, fake, key):
  """Scores real and fake in one pass (one dropout draw, one matmul).

  Args:
    critic: ``critic(params, x, key) -> (logits [n], features [n, h])``.
    params: critic parameters.
    real: ``[b, d]`` target embeddings.
    fake: ``[b', d]`` mapped source embeddings.
    key: dropout key, or ``None`` for a deterministic pass.

  Returns:
    ``(real_scores [b], fake_scores [b'])``.
  """
  base.check_batch(real, fake)
  scores, _ = critic(params, jnp.concatenate([real, fake], axis=0), key)
  return scores[: real.shape[0]], scores[real.shape[0]:]


def wasserstein_metrics(real_scores, fake_scores):
  """``w_estimate = mean f(real) - mean f(fake)`` and the two means."""
  mean_real, mean_fake = jnp.mean(real_scores), jnp.mean(fake_scores)
  return {"w_estimate": mean_real - mean_fake, "d_real": mean_real,
          "d_fake": mean_fake}


def critic_loss(critic, params, real, fake, key):
  """``mean f(fake) - mean f(real)``, i.e. minus the Wasserstein estimate.

  Args:
    critic: ``critic(params, x, key) -> (logits, features)``.
    params: critic parameters.
    real: ``[b, d]`` target embeddings.
    fake: ``[b', d]`` mapped source embeddings.
    key: dropout key or ``None``.

  Returns:
    ``(loss [], metrics)`` with ``critic_loss``, ``w_estimate``, ``d_real``,
    ``d_fake``.
  """
  real_scores, fake_scores = critic_scores(critic, params, real, fake, key)
  metrics = wasserstein_metrics(real_scores, fake_scores)
  loss = -metrics["w_estimate"]
  metrics["critic_loss"] = loss
  return loss, metrics


def generator_loss(critic, params, fake, key):
  """``-mean f(fake)``: the mapping pushes its outputs up the critic's slope."""
  scores, _ = critic(params, fake, key)
  loss = -jnp.mean(scores)
  return loss, {"generator_loss": loss}


def clip_weights(params, clip: float):
  """Clips every leaf of ``params`` to ``[-clip, clip]``; returns a new tree.

  Every leaf is clipped, biases and normalisation scales included, as in
  Algorithm 1 of Arjovsky et al.; this is ``optax.projections.projection_box``
  with symmetric bounds.
  """
  if clip <= 0:
    raise ValueError(f"clip must be positive, got {clip}")
  return jax.tree.map(lambda p: jnp.clip(p, -clip, clip), params)


def make(config) -> base.Objective:
  """Binds hyper-parameters from ``config`` (field: ``clip``).

  The default box is 0.25, this project's setting; Arjovsky et al. use 0.01 for
  their image critics. Too small a box leaves the critic little capacity, too
  large a box makes the Lipschitz constraint (and training) slack.
  """
  clip = float(config.get("clip", 0.25))
  return base.Objective(
      name="wgan",
      critic_loss=critic_loss,
      generator_loss=generator_loss,
      project=functools.partial(clip_weights, clip=clip),
  )
