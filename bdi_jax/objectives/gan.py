"""Vanilla GAN (Goodfellow et al. 2014): binary cross-entropy, i.e. the
Jensen-Shannon objective, with one-sided-free label smoothing as in Conneau et al.
2018 (both labels are pulled ``smoothing`` towards 1/2).

The critic loss combines the two halves' means by :data:`REDUCTIONS`:
``"mean"`` (default) averages them, so a balanced loss is on the scale of one
cross-entropy whatever the batch split; ``"sum"`` adds them, as the thesis
writes its loss (Sec. 5.2.2; ``gan_thesis_*``), which doubles the critic's
gradient at a given learning rate.

Generator losses:
  * ``non_saturating=True`` (default): train the mapping to make the critic call
    mapped words real, ``BCE(D(G(x)), 1 - s)``; this is the "flipped labels" form
    Goodfellow et al. recommend because it has strong gradients early on, and the
    form Conneau et al. use.
  * ``non_saturating=False``: the minimax form ``-BCE(D(G(x)), s)``, i.e.
    minimise ``log(1 - D(G(x)))`` (saturates when the critic wins).
"""

import functools

import jax
import jax.numpy as jnp
import optax

from bdi_jax.objectives import base

__all__ = ["REDUCTIONS", "critic_loss", "generator_loss", "make"]

# How the real and fake halves' mean losses are combined: the factor on their
# sum. A registry, so a config names a way and never spells a number.
REDUCTIONS = {"mean": 0.5, "sum": 1.0}


def _bce(logits: jax.Array, label: float) -> jax.Array:
  return optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label))


def critic_loss(critic, params, real, fake, key, *, smoothing: float = 0.1,
                reduction: str = "mean"):
  """``c * (mean BCE(D(real), 1 - s) + mean BCE(D(fake), s))``, with ``c``
  from :data:`REDUCTIONS` (1/2 for ``"mean"``, 1 for ``"sum"``)."""
  factor = REDUCTIONS[reduction]  # Static: a KeyError names a bad value.
  base.check_batch(real, fake)
  # One pass over the concatenated batch: one dropout mask draw, one matmul.
  x = jnp.concatenate([real, fake], axis=0)
  logits, _ = critic(params, x, key)
  real_logits, fake_logits = logits[: real.shape[0]], logits[real.shape[0]:]
  loss = factor * (jnp.mean(_bce(real_logits, 1.0 - smoothing))
                + jnp.mean(_bce(fake_logits, smoothing)))
  metrics = {
      "critic_loss": loss,
      "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
      "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
  }
  return loss, metrics


def generator_loss(critic, params, fake, key, *, smoothing: float = 0.1,
                   non_saturating: bool = True):
  """Loss for the mapping; gradients flow through ``fake``."""
  logits, _ = critic(params, fake, key)
  if non_saturating:
    loss = jnp.mean(_bce(logits, 1.0 - smoothing))
  else:
    loss = -jnp.mean(_bce(logits, smoothing))
  return loss, {"generator_loss": loss}


def make(config) -> base.Objective:
  """Binds hyper-parameters from ``config`` (fields: smoothing, non_saturating,
  gan_reduction)."""
  smoothing = float(config.get("smoothing", 0.1))
  non_saturating = bool(config.get("non_saturating", True))
  reduction = str(config.get("gan_reduction", "mean"))
  if reduction not in REDUCTIONS:
    raise ValueError(f"objective.gan_reduction={reduction!r}: use one of "
                     f"{sorted(REDUCTIONS)}")
  return base.Objective(
      name="gan",
      critic_loss=functools.partial(critic_loss, smoothing=smoothing,
                                    reduction=reduction),
      generator_loss=functools.partial(
          generator_loss, smoothing=smoothing, non_saturating=non_saturating),
      project=base.identity_projection,
  )
