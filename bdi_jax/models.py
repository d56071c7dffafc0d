"""The two players: a linear mapping ``W`` and a Flax discriminator.

Conventions used across the package:
  * embeddings are row matrices ``X: [n, d]``;
  * the mapping is a square matrix ``W: [d, d]`` acting on column vectors, so the
    mapped source embeddings are ``X @ W.T`` (see :func:`apply_mapping`).

Sources: Conneau et al. 2018 ("Word translation without parallel data"), Sec. 2-3,
for the identity init and the orthogonality update; Cisse et al. 2017 (Parseval
networks) for the update rule itself.
"""

from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

__all__ = ["init_mapping", "orthogonalize", "apply_mapping", "Discriminator",
           "discriminator_from_config", "make_critic"]


def init_mapping(dim: int, dtype=jnp.float32) -> jax.Array:
  """Identity initialisation of the mapping, ``[dim, dim]``."""
  return jnp.eye(dim, dtype=dtype)


def orthogonalize(w: jax.Array, beta: float) -> jax.Array:
  """One step of ``W <- (1 + b) W - b (W W^T) W``; returns a new matrix.

  With a small ``beta`` this pulls ``W`` towards the orthogonal manifold after
  each gradient step without an SVD. Conneau et al. 2018 report 0.01, as does
  the thesis (Sec. 5.2.4); MUSE's code defaults to 0.001, which the tuned
  presets keep.
  """
  if beta <= 0:
    return w
  return (1.0 + beta) * w - beta * (w @ w.T) @ w


def apply_mapping(w: jax.Array, x: jax.Array) -> jax.Array:
  """Maps source rows ``x: [n, d]`` into the target space, ``[n, d]``."""
  return x @ w.T


class Discriminator(nn.Module):
  """MLP critic: input dropout, ``n_layers`` x ``hidden`` LeakyReLU (each
  optionally followed by dropout), one logit.

  Returns raw logits (no sigmoid): the vanilla GAN loss applies the sigmoid
  inside a numerically stable cross-entropy, Wasserstein critics use the logit as
  the score directly.

  Attributes:
    hidden: width of each hidden layer (2048 in Conneau et al.).
    n_layers: number of hidden layers (2).
    input_dropout: dropout rate on the input (0.1); makes the critic noisy so
      that it cannot memorise individual words.
    hidden_dropout: dropout rate after each hidden layer's activation, so on
      the features the output layer sees (0 = off). The thesis perturbs
      CT-GAN's critic this way, "before the output", rather than at its input.
    leaky_slope: negative slope of the LeakyReLU (0.2).
    layer_norm: LayerNorm after each hidden linear layer (recommended for
      gradient-penalty critics, where BatchNorm would break the per-sample
      penalty; Gulrajani et al. 2017, Sec. 4).
    layer_norm_epsilon: added to the variance inside each LayerNorm (flax's
      default 1e-6). It caps how much a LayerNorm can amplify small
      pre-activations, ``1 / sqrt(epsilon)``: the slope that weight clipping
      is meant to bound and that a LayerNorm otherwise restores.
  """

  hidden: int = 2048
  n_layers: int = 2
  input_dropout: float = 0.1
  hidden_dropout: float = 0.0
  leaky_slope: float = 0.2
  layer_norm: bool = False
  layer_norm_epsilon: float = 1e-6

  @nn.compact
  def __call__(self, x: jax.Array, *, deterministic: bool = True,
               return_features: bool = False):
    """Scores a batch.

    Args:
      x: ``[b, d]`` inputs.
      deterministic: disables dropout when True; when False a ``'dropout'`` RNG
        must be passed to ``apply``.
      return_features: also return the last hidden activations ``[b, hidden]``,
        after their dropout (used by the CT-GAN consistency term).

    Returns:
      logits ``[b]``, or ``(logits, features)`` when ``return_features``.
    """
    h = nn.Dropout(rate=self.input_dropout, deterministic=deterministic)(x)
    for i in range(self.n_layers):
      h = nn.Dense(self.hidden, name=f"dense_{i}")(h)
      if self.layer_norm:
        h = nn.LayerNorm(epsilon=self.layer_norm_epsilon, name=f"norm_{i}")(h)
      h = nn.leaky_relu(h, negative_slope=self.leaky_slope)
      # A rate of 0 returns h unchanged and draws no key, so the input
      # dropout's masks (and every earlier run) stay as they were.
      h = nn.Dropout(rate=self.hidden_dropout, deterministic=deterministic,
                     name=f"hidden_dropout_{i}")(h)
    # The features are what the output layer sees, after the last dropout, so
    # that CT-GAN's feature distance measures the same perturbation.
    features: Optional[jax.Array] = h
    logits = nn.Dense(1, name="out")(h)[..., 0]
    if return_features:
      return logits, features
    return logits


def discriminator_from_config(model_config) -> Discriminator:
  """The critic of ``config.model`` (``experiments/configs/default.py``).

  One place that maps config fields to the module, so a new field cannot be
  forgotten by one of its callers. ``hidden_dropout`` and
  ``layer_norm_epsilon`` are newer than some saved configs (``config.json`` of
  earlier runs); absent, they take the values runs had then (0, 1e-6).
  """
  return Discriminator(
      hidden=model_config.hidden, n_layers=model_config.n_layers,
      input_dropout=model_config.input_dropout,
      hidden_dropout=model_config.get("hidden_dropout", 0.0),
      leaky_slope=model_config.leaky_slope,
      layer_norm=model_config.layer_norm,
      layer_norm_epsilon=model_config.get("layer_norm_epsilon", 1e-6))


def make_critic(module: Discriminator):
  """Adapts the module to the objectives' ``critic(params, x, key)`` contract.

  Returns a function giving ``(logits [b], features [b, hidden])``; ``key=None``
  runs without dropout, a key samples the dropout masks.
  """

  def critic(params, x, key):
    if key is None:
      return module.apply({"params": params}, x, deterministic=True,
                          return_features=True)
    return module.apply({"params": params}, x, deterministic=False,
                        return_features=True, rngs={"dropout": key})

  return critic
