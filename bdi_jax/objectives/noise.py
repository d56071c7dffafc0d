"""Instance noise for any adversarial objective (Arjovsky & Bottou 2017,
"Towards principled methods for training GANs", Sec. 4; Sønderby et al. 2017,
"Amortised MAP inference for image super-resolution", Sec. 3.2).

Adding independent Gaussian noise to real and fake samples before the critic
sees them makes the two distributions overlap, so the JS divergence stays
smooth and the critic's gradients stay informative even when the supports are
disjoint (as for word embeddings in two languages). The noise is annealed to
zero so that the final critic compares the clean distributions.

Usage inside a critic update, with any objective::

  std = instance_noise_std(step, initial_std, anneal_steps)
  real, fake = add_instance_noise(noise_key, real, fake, std)
  loss, metrics = objective.critic_loss(critic, params, real, fake, key)
"""

import jax
import jax.numpy as jnp

__all__ = ["instance_noise_std", "add_instance_noise"]


def instance_noise_std(step, initial_std: float,
                       anneal_steps: int) -> jax.Array:
  """Linear anneal ``initial_std * max(0, 1 - step / anneal_steps)``.

  Args:
    step: the iteration, a Python int or a traced integer scalar.
    initial_std: the standard deviation at step 0.
    anneal_steps: iterations until the noise reaches zero (static); ``<= 0``
      means no noise at all.

  Returns:
    a float32 scalar ``[]``.
  """
  if anneal_steps <= 0:
    return jnp.zeros((), jnp.float32)
  frac = jnp.asarray(step, jnp.float32) / float(anneal_steps)
  return initial_std * jnp.clip(1.0 - frac, 0.0, 1.0)


def add_instance_noise(key: jax.Array, real: jax.Array, fake: jax.Array,
                       std) -> tuple:
  """Adds ``N(0, std^2)`` noise to ``real`` and, independently, to ``fake``.

  Args:
    key: split into one key for each batch, so the two noises are independent.
    real: ``[b, d]``.
    fake: ``[b', d]``.
    std: scalar standard deviation (may be traced; 0 returns the inputs).

  Returns:
    ``(noisy_real [b, d], noisy_fake [b', d])`` in the inputs' dtypes.
  """
  real_key, fake_key = jax.random.split(key)
  std = jnp.asarray(std)
  real_noise = std * jax.random.normal(real_key, real.shape)
  fake_noise = std * jax.random.normal(fake_key, fake.shape)
  return (real + real_noise.astype(real.dtype),
          fake + fake_noise.astype(fake.dtype))
