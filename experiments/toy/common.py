"""Shared pieces of the 2-D lab: the critic adapter, a fused critic trainer,
per-objective lab configurations and the workdir / plotting helpers.

Everything here is the library's code path: objectives come from
:func:`bdi_jax.objectives.get_objective` and critics are
:class:`bdi_jax.models.Discriminator`; only sizes and step counts are toy-sized.
The one exception is :mod:`experiments.toy.fdiv` (KL and TV bounds, for the
parallel-lines figure only).
"""

import os
from typing import Callable, Dict, Optional, Tuple

import jax
import jax.numpy as jnp
import ml_collections
import optax

from bdi_jax import models
from bdi_jax import step as step_lib
from bdi_jax.objectives import base
from bdi_jax.objectives import get_objective
from experiments.toy import fdiv

__all__ = ["OBJECTIVES", "lab_config", "make_objective",
           "make_discriminator", "critic_optimizer", "init_critic",
           "train_critic", "train_critic_on_pairs", "ensure_workdir"]

OBJECTIVES = ("gan", "wgan", "wgangp", "ctgan")

Sampler = Callable[[jax.Array, int], jax.Array]  # (key, n) -> [n, 2]
# (key, n) -> (real [n, 2], fake [n, 2])
PairSampler = Callable[[jax.Array, int], Tuple[jax.Array, jax.Array]]


def lab_config(name: str) -> ml_collections.ConfigDict:
  """The lab's hyper-parameters for objective ``name``.

  The lab keeps the project's defaults (clip 0.25, gp_lambda 0.5, ct_lambda 2,
  ct_margin 0.2) except that the vanilla GAN is trained without label
  smoothing: only then is the optimal critic's loss ``log 2 - JSD`` (see
  :mod:`experiments.toy.parallel_lines`).
  """
  fields: Dict[str, Dict] = {
      "gan": {"smoothing": 0.0, "non_saturating": True},
      "wgan": {"clip": 0.25},
      "wgangp": {"gp_lambda": 0.5},
      "ctgan": {"gp_lambda": 0.5, "ct_lambda": 2.0, "ct_margin": 0.2,
                "ct_feature_weight": 0.1},
  }
  return ml_collections.ConfigDict(fields[name])


def make_objective(name: str,
                   overrides: Optional[Dict] = None) -> base.Objective:
  """The registry's objective with the lab config, plus ``overrides``.

  The lab-only bounds of :mod:`experiments.toy.fdiv` (``kl``,
  ``reverse_kl``, ``tv``) take no config.
  """
  if name in fdiv.LAB_OBJECTIVES:
    return fdiv.make(name)
  config = lab_config(name)
  config.update(overrides or {})
  return get_objective(name, config)


def make_discriminator(name: str, hidden: int = 64,
                       n_layers: int = 2) -> models.Discriminator:
  """A small library discriminator for the 2-D data.

  Input dropout is what perturbs the two CT-GAN passes, so CT-GAN keeps a 0.1
  rate; the other objectives see clean 2-d inputs (dropping one of only two
  coordinates is a large perturbation that would blur their critics).
  """
  return models.Discriminator(
      hidden=hidden, n_layers=n_layers,
      input_dropout=0.1 if name == "ctgan" else 0.0)


def critic_optimizer(
    learning_rate: float = 1e-3) -> optax.GradientTransformation:
  """Adam with ``b1 = 0.5, b2 = 0.9``, the setting of Gulrajani et al. 2017."""
  return optax.adam(learning_rate, b1=0.5, b2=0.9)


def init_critic(module: models.Discriminator, key: jax.Array, dim: int = 2):
  return module.init(key, jnp.zeros((1, dim)))["params"]


def train_critic(objective: base.Objective, module: models.Discriminator,
                 sample_real: Sampler, sample_fake: Sampler, key: jax.Array, *,
                 steps: int, batch_size: int = 256,
                 learning_rate: float = 1e-3):
  """Trains a critic against two fixed, independent distributions.

  Pure and jit-able; see :func:`train_critic_on_pairs`, which it calls with
  independent draws of ``sample_real`` and ``sample_fake``.

  Args:
    objective: from the registry.
    module: the discriminator.
    sample_real: ``(key, n) -> [n, 2]`` samples of the "real" distribution.
    sample_fake: the same for the fixed "fake" distribution.
    key: the run's key.
    steps: critic updates.
    batch_size: samples of each distribution per update.
    learning_rate: Adam's step size.

  Returns:
    ``(params, metrics)``, metrics stacked over steps ``[steps]``.
  """

  def sample_batch(k, n):
    # The first two of train_critic_on_pairs's three step keys: the same
    # streams as before the pair sampler existed, so old tables reproduce.
    k_real, k_fake, _ = jax.random.split(k, 3)
    return sample_real(k_real, n), sample_fake(k_fake, n)

  return train_critic_on_pairs(objective, module, sample_batch, key,
                               steps=steps, batch_size=batch_size,
                               learning_rate=learning_rate)


def train_critic_on_pairs(objective: base.Objective,
                          module: models.Discriminator,
                          sample_batch: PairSampler, key: jax.Array, *,
                          steps: int, batch_size: int = 256,
                          learning_rate: float = 1e-3):
  """Trains a critic on ``(real, fake)`` batches drawn together; pure.

  For fakes built from the real batch itself (seed 003's "real plus noise,
  shuffled"). The loop is a ``lax.scan`` over :func:`bdi_jax.step_lib.critic_update`,
  so the run compiles once and can be ``vmap``-ed over keys or over the
  parameters the sampler closes over.

  Args:
    objective: from the registry (or :func:`make_objective`).
    module: the discriminator.
    sample_batch: ``(key, n) -> (real [n, 2], fake [n, 2])``.
    key: the run's key.
    steps: critic updates.
    batch_size: rows of each side per update.
    learning_rate: Adam's step size.

  Returns:
    ``(params, metrics)``, metrics stacked over steps ``[steps]``.
  """
  critic = models.make_critic(module)
  tx = critic_optimizer(learning_rate)
  init_key, loop_key = jax.random.split(key)
  params = objective.project(init_critic(module, init_key))

  def update(carry, step):
    params, opt_state = carry
    step_key = jax.random.fold_in(loop_key, step)
    k_loss = jax.random.split(step_key, 3)[2]
    real, fake = sample_batch(step_key, batch_size)
    params, opt_state, metrics = step_lib.critic_update(
        objective, critic, tx, params, opt_state, real, fake, k_loss)
    return (params, opt_state), metrics

  (params, _), metrics = jax.lax.scan(
      update, (params, tx.init(params)), jnp.arange(steps))
  return params, metrics


def ensure_workdir(workdir: str) -> str:
  os.makedirs(workdir, exist_ok=True)
  return workdir
