"""Adversarial objectives, chosen by name through :data:`REGISTRY`.

Adding an objective = one module with a ``make(config) -> Objective`` function and
one entry below.
"""

from typing import Callable, Dict

from bdi_jax.objectives import ctgan
from bdi_jax.objectives import gan
from bdi_jax.objectives import sinkhorn
from bdi_jax.objectives import wgan
from bdi_jax.objectives import wgangp
from bdi_jax.objectives.base import Objective

REGISTRY: Dict[str, Callable[..., Objective]] = {
    "gan": gan.make,
    "wgan": wgan.make,
    "wgangp": wgangp.make,
    "ctgan": ctgan.make,
    # Critic-free: the Sinkhorn divergence between batches (needs_critic=False).
    "sinkhorn": sinkhorn.make,
}


def get_objective(name: str, config) -> Objective:
  """Builds the objective ``name`` with hyper-parameters from ``config``."""
  try:
    factory = REGISTRY[name]
  except KeyError:
    raise ValueError(
        f"Unknown objective {name!r}; known: {sorted(REGISTRY)}") from None
  return factory(config)
