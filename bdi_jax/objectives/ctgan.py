"""CT-GAN: WGAN-GP plus a consistency term (Wei, Gong, Liu, Lu & Wang 2018,
"Improving the improved training of Wasserstein GANs: a consistency term and its
dual effect", Eq. 4-6).

The gradient penalty only constrains the critic at interpolates; the
consistency term enforces the Lipschitz condition near the real data manifold.
Two perturbed copies ``x'`` and ``x''`` of each real sample are obtained by
running the critic twice with dropout under *different* keys, and

  ``CT = mean(max(0, d(D(x'), D(x'')) + w * d(D_(x'), D_(x'')) - M'))``

where ``D_`` are the second-to-last layer activations (the critic's
``features``), ``d`` is the per-sample L2 distance (the absolute difference for
the scalar scores), ``w = 0.1`` and ``M' = 0.2`` as in the paper. Without
dropout both passes coincide and the term is exactly zero, so the critic needs
dropout; either of :class:`bdi_jax.models.Discriminator`'s will do:
``input_dropout`` perturbs the embeddings, ``hidden_dropout`` the hidden
layers, which is how the thesis defines the perturbation ("before the output";
the ``ctgan_thesis_*`` presets).

Critic loss: ``WGAN + gp_lambda * GP + ct_lambda * CT`` with ``gp_lambda = 0.5``
(this project; 10 in the paper) and ``ct_lambda = 2`` (the paper's value).
``penalty_dropout=False`` takes GP on the deterministic critic
(:func:`bdi_jax.objectives.wgangp.gradient_penalty`); CT keeps its dropout,
which is its perturbation.
"""

import functools

import jax
import jax.numpy as jnp

from bdi_jax.objectives import base
from bdi_jax.objectives import wgan
from bdi_jax.objectives import wgangp

__all__ = ["consistency_term", "critic_loss", "generator_loss", "make"]


def consistency_term(critic, params, real, key, *, margin: float = 0.2,
                     feature_weight: float = 0.1):
  """The CT-GAN consistency term on two dropout-perturbed passes over ``real``.

  Args:
    critic: ``critic(params, x, key) -> (logits [b], features [b, h])``.
    params: critic parameters.
    real: ``[b, d]`` target embeddings.
    key: split into two dropout keys, one per pass. ``None`` runs both passes
      without dropout, which makes the term zero.
    margin: ``M'``, the slack below which differences are not penalised.
    feature_weight: weight of the distance between the features.

  Returns:
    ``(ct [], metrics)`` with ``ct``, ``ct_score_dist`` and ``ct_feature_dist``
    (the mean distances, before the margin).
  """
  key_1, key_2 = (None, None) if key is None else jax.random.split(key)
  scores_1, features_1 = critic(params, real, key_1)
  scores_2, features_2 = critic(params, real, key_2)
  score_dist = jnp.abs(scores_1 - scores_2)  # [b]
  feature_dist = wgangp.safe_norm(features_1 - features_2, axis=-1)  # [b]
  ct = jnp.mean(
      jax.nn.relu(score_dist + feature_weight * feature_dist - margin))
  metrics = {"ct": ct, "ct_score_dist": jnp.mean(score_dist),
             "ct_feature_dist": jnp.mean(feature_dist)}
  return ct, metrics


def critic_loss(critic, params, real, fake, key, *, gp_lambda: float = 0.5,
                ct_lambda: float = 2.0, ct_margin: float = 0.2,
                ct_feature_weight: float = 0.1, penalty_dropout: bool = True):
  """``mean f(fake) - mean f(real) + gp_lambda * GP + ct_lambda * CT``.

  Args:
    critic: ``critic(params, x, key) -> (logits, features)``.
    params: critic parameters.
    real: ``[b, d]`` target embeddings.
    fake: ``[b, d]`` mapped source embeddings.
    key: split three ways (scores, penalty, consistency); ``None`` for a
      deterministic loss, in which the consistency term is zero.
    gp_lambda: weight of the gradient penalty.
    ct_lambda: weight of the consistency term.
    ct_margin: ``M'``.
    ct_feature_weight: weight of the feature distance inside CT.
    penalty_dropout: GP's critic with dropout (True) or without (False).

  Returns:
    ``(loss [], metrics)``: the WGAN-GP metrics plus ``ct``,
    ``ct_score_dist`` and ``ct_feature_dist``.
  """
  if key is None:
    score_key = gp_key = ct_key = None
  else:
    score_key, gp_key, ct_key = jax.random.split(key, 3)
  w_loss, metrics = wgan.critic_loss(critic, params, real, fake, score_key)
  gp, gp_metrics = wgangp.gradient_penalty(critic, params, real, fake, gp_key,
                                           dropout=penalty_dropout)
  ct, ct_metrics = consistency_term(
      critic, params, real, ct_key, margin=ct_margin,
      feature_weight=ct_feature_weight)
  loss = w_loss + gp_lambda * gp + ct_lambda * ct
  metrics.update(gp_metrics)
  metrics.update(ct_metrics)
  metrics["critic_loss"] = loss
  return loss, metrics


generator_loss = wgan.generator_loss


def make(config) -> base.Objective:
  """Binds ``gp_lambda`` (0.5), ``ct_lambda`` (2), ``ct_margin`` (0.2),
  ``ct_feature_weight`` (0.1) and ``penalty_dropout`` (True) from ``config``."""
  return base.Objective(
      name="ctgan",
      critic_loss=functools.partial(
          critic_loss,
          gp_lambda=float(config.get("gp_lambda", 0.5)),
          ct_lambda=float(config.get("ct_lambda", 2.0)),
          ct_margin=float(config.get("ct_margin", 0.2)),
          ct_feature_weight=float(config.get("ct_feature_weight", 0.1)),
          penalty_dropout=bool(config.get("penalty_dropout", True))),
      generator_loss=generator_loss,
      project=base.identity_projection,
  )
