"""The contract every adversarial objective follows.

An objective is three pure functions bundled in an :class:`Objective`:

* ``critic_loss(critic, params, real, fake, key) -> (loss, metrics)``: the loss the
  discriminator / critic minimises. ``real`` are target-language embeddings
  ``[b, d]``, ``fake`` are mapped source embeddings ``[b, d]``.
* ``generator_loss(critic, params, fake, key) -> (loss, metrics)``: the loss the
  mapping minimises (its gradient flows through ``fake``).
* ``project(params) -> params``: applied to the critic parameters after every
  critic update (weight clipping for WGAN, identity otherwise).

``critic(params, x, key) -> (logits [b], features [b, h])`` is the discriminator's
forward pass; ``key=None`` runs it deterministically (no dropout). Hyper-parameters
are bound with ``functools.partial`` by each module's ``make(config)`` so the
functions the training loop sees take arrays only. Objectives know nothing of the
training loop, the optimiser or the data.

Conventions: the critic scores *target* words high (label 1) and mapped source
words low (label 0). Every loss is a mean over the batch; metrics are scalars.
"""

from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

import jax

Params = Any
Metrics = Dict[str, jax.Array]
Critic = Callable[[Params, jax.Array, Optional[jax.Array]], Tuple[jax.Array, jax.Array]]


class Objective(NamedTuple):
  name: str
  critic_loss: Callable[..., Tuple[jax.Array, Metrics]]
  generator_loss: Callable[..., Tuple[jax.Array, Metrics]]
  project: Callable[[Params], Params]
  # False for critic-free objectives (e.g. the Sinkhorn divergence): the step
  # skips the critic updates entirely (static) and calls
  # ``generator_loss(None, None, fake, key, real=target_batch)``.
  needs_critic: bool = True


def identity_projection(params: Params) -> Params:
  return params


def check_batch(real: jax.Array, fake: jax.Array) -> None:
  """Shape contract shared by the critic losses (static, so free under jit)."""
  if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
    raise ValueError(
        f"real and fake must be [b, d] with the same d; got {real.shape} and "
        f"{fake.shape}")
