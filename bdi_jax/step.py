"""Adversarial training: the state, one pure step, and fused chunks of steps.

One *iteration* (``train_step``) is what Conneau et al. 2018 call one step of the
adversarial game: ``dis_steps`` critic updates on fresh batches, then one update of
the mapping ``W`` followed by the orthogonality update. Everything about a run
lives in :class:`TrainState`; the step is a pure function
``(state, key, data) -> (state, metrics)`` whose batches are drawn *inside* the
compiled code from embeddings that stay on the device, so a chunk of many
iterations (``train_chunk``, a ``lax.scan``) needs no host round trip.

Randomness: the step derives its key as ``fold_in(run_key, state.step)``, so the
numbers depend only on the run key and the iteration count, never on how the
iterations were grouped into chunks (tested: fused == step by step).
"""

import functools
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

import flax
import jax
import jax.numpy as jnp
import optax

from bdi_jax import models
from bdi_jax.objectives import base as objectives_base
from bdi_jax.objectives import noise as noise_lib

__all__ = [
    "TrainState", "EmbeddingData", "StepConfig", "OPTIMIZERS", "make_optimizer",
    "create_train_state", "critic_update", "train_step", "train_chunk",
    "learning_rate", "set_learning_rate",
]

Metrics = Dict[str, jax.Array]


class EmbeddingData(NamedTuple):
  """Device-resident embeddings the step samples from."""
  src: jax.Array  # [n_src, d]
  tgt: jax.Array  # [n_tgt, d]


class StepConfig(NamedTuple):
  """Static (hashable) settings of the step; bound before ``jax.jit``."""
  batch_size: int = 32
  dis_steps: int = 5
  # Batches come from the N most frequent rows of *each side* (capped at that
  # side's size); None: every row of each side.
  dis_most_frequent: Optional[int] = None
  map_beta: float = 0.001
  # Cap on the norm of W's gradient (0 = none). The critic's slope sets that
  # gradient's scale; a capped step cannot throw W past where the
  # orthogonalisation step converges (singular values below sqrt(3)).
  map_grad_clip: float = 0.0
  noise_std: float = 0.0  # Instance noise at step 0, annealed linearly ...
  noise_anneal_steps: int = 1  # ... to zero over this many iterations.
  # The mapping update scores fakes with the critic in inference mode (no
  # dropout), as Conneau et al. do; True samples a dropout mask there too.
  generator_dropout: bool = False


class TrainState(flax.struct.PyTreeNode):
  """Everything that changes during adversarial training."""
  step: jax.Array  # int32 [], iterations done.
  mapping: jax.Array  # W [d, d].
  map_opt_state: Any
  dis_params: Any
  dis_opt_state: Any


# ---------------------------------------------------------------------------
# Optimisers. Wrapped in ``inject_hyperparams`` so that the learning rate lives
# in the optimiser state: the host-side schedule (decay, shrink) changes it
# between chunks without recompiling, and per seed when seeds are vmapped.
# ---------------------------------------------------------------------------
OPTIMIZERS: Dict[str, Callable[..., optax.GradientTransformation]] = {
    "sgd": optax.inject_hyperparams(optax.sgd),
    "adam": optax.inject_hyperparams(optax.adam),
    "rmsprop": optax.inject_hyperparams(optax.rmsprop),
}


def make_optimizer(name: str, learning_rate: float,
                   **kwargs) -> optax.GradientTransformation:
  try:
    factory = OPTIMIZERS[name]
  except KeyError:
    raise ValueError(
        f"Unknown optimizer {name!r}; known: {sorted(OPTIMIZERS)}") from None
  return factory(learning_rate=learning_rate, **kwargs)


def learning_rate(opt_state) -> jax.Array:
  return opt_state.hyperparams["learning_rate"]


def set_learning_rate(opt_state, lr) -> Any:
  """Returns a copy of ``opt_state`` with a new learning rate (scalar or [seeds])."""
  hyperparams = dict(opt_state.hyperparams)
  old = hyperparams["learning_rate"]
  hyperparams["learning_rate"] = jnp.asarray(lr, dtype=old.dtype).reshape(old.shape)
  return opt_state._replace(hyperparams=hyperparams)


def create_train_state(key: jax.Array, dim: int, module: models.Discriminator,
                       map_tx: optax.GradientTransformation,
                       dis_tx: optax.GradientTransformation) -> TrainState:
  """Identity mapping and freshly initialised critic; pure in ``key``."""
  mapping = models.init_mapping(dim)
  dis_params = module.init(key, jnp.zeros((1, dim), jnp.float32))["params"]
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      mapping=mapping,
      map_opt_state=map_tx.init(mapping),
      dis_params=dis_params,
      dis_opt_state=dis_tx.init(dis_params),
  )


def critic_update(objective: objectives_base.Objective,
                  critic: objectives_base.Critic,
                  tx: optax.GradientTransformation, params, opt_state,
                  real: jax.Array, fake: jax.Array, key: jax.Array):
  """One critic step: the objective's loss, an optimiser update, then the
  objective's projection (e.g. WGAN clipping). Returns
  ``(params, opt_state, metrics)``; shared by training and the 2-D lab."""
  (_, metrics), grads = jax.value_and_grad(
      lambda p: objective.critic_loss(critic, p, real, fake, key),
      has_aux=True)(params)
  updates, opt_state = tx.update(grads, opt_state, params)
  params = objective.project(optax.apply_updates(params, updates))
  return params, opt_state, {**metrics,
                             "critic_grad_norm": optax.tree.norm(grads)}


def _sample_ids(key, n_rows: int, most_frequent: Optional[int],
                batch_size: int):
  """[batch_size] row ids of one side, uniform over its `most_frequent` rows.

  Each side is capped at its own size `n_rows` (static), so a limit above a
  side's vocabulary simply means "all of it" (MUSE asserts instead).
  """
  if most_frequent is not None and most_frequent < 1:
    raise ValueError(f"StepConfig.dis_most_frequent={most_frequent}: use None "
                     "for every row, or a positive number of rows")
  limit = n_rows if most_frequent is None else min(most_frequent, n_rows)
  return jax.random.randint(key, (batch_size,), 0, limit)


def train_step(state: TrainState, key: jax.Array, data: EmbeddingData, *,
               objective: objectives_base.Objective,
               critic: objectives_base.Critic,
               map_tx: optax.GradientTransformation,
               dis_tx: optax.GradientTransformation,
               config: StepConfig) -> Tuple[TrainState, Metrics]:
  """One adversarial iteration: ``dis_steps`` critic updates, one mapping update.

  Args:
    state: the current state.
    key: the run's key; this iteration uses ``fold_in(key, state.step)``.
    data: embeddings to sample batches from.
    objective, critic, map_tx, dis_tx, config: bound with ``functools.partial``.

  Returns:
    ``(new_state, metrics)``; metrics are scalars averaged over the critic steps
    (critic metrics) or from the mapping update (generator metrics).
  """
  step_key = jax.random.fold_in(key, state.step)
  dis_keys = jax.random.split(step_key, config.dis_steps + 1)
  noise_std = noise_lib.instance_noise_std(
      state.step, config.noise_std, config.noise_anneal_steps)
  n_src, n_tgt = data.src.shape[0], data.tgt.shape[0]
  # The critic sees the current mapping as a constant.
  frozen_w = jax.lax.stop_gradient(state.mapping)

  def dis_update(carry, k):
    params, opt_state = carry
    k_src, k_tgt, k_noise, k_loss = jax.random.split(k, 4)
    src_ids = _sample_ids(k_src, n_src, config.dis_most_frequent, config.batch_size)
    tgt_ids = _sample_ids(k_tgt, n_tgt, config.dis_most_frequent, config.batch_size)
    fake = models.apply_mapping(frozen_w, data.src[src_ids])
    real = data.tgt[tgt_ids]
    if config.noise_std > 0:  # Static: no RNG work at all when it is off.
      real, fake = noise_lib.add_instance_noise(k_noise, real, fake, noise_std)
    params, opt_state, metrics = critic_update(
        objective, critic, dis_tx, params, opt_state, real, fake, k_loss)
    return (params, opt_state), metrics

  if objective.needs_critic:
    (dis_params, dis_opt_state), dis_metrics = jax.lax.scan(
        dis_update, (state.dis_params, state.dis_opt_state), dis_keys[:-1])
    dis_metrics = jax.tree.map(jnp.mean, dis_metrics)
  else:  # Critic-free (static): no critic work at all, its state unchanged.
    dis_params, dis_opt_state = state.dis_params, state.dis_opt_state
    dis_metrics = {}

  k_src, k_noise, k_loss = jax.random.split(dis_keys[-1], 3)
  src_ids = _sample_ids(k_src, n_src, config.dis_most_frequent, config.batch_size)
  src_batch = data.src[src_ids]

  def map_loss(w):
    fake = models.apply_mapping(w, src_batch)
    if config.noise_std > 0:
      fake = fake + noise_std * jax.random.normal(k_noise, fake.shape, fake.dtype)
    if not objective.needs_critic:
      # A critic-free objective compares the batch with target words itself.
      k_tgt = jax.random.fold_in(k_src, 1)
      tgt_ids = _sample_ids(k_tgt, n_tgt, config.dis_most_frequent,
                            config.batch_size)
      return objective.generator_loss(None, None, fake, k_loss,
                                      real=data.tgt[tgt_ids])
    return objective.generator_loss(
        critic, dis_params, fake, k_loss if config.generator_dropout else None)

  (_, gen_metrics), grad_w = jax.value_and_grad(map_loss, has_aux=True)(
      state.mapping)
  grad_norm = jnp.linalg.norm(grad_w)
  if config.map_grad_clip > 0:
    grad_w = grad_w * jnp.minimum(
        1.0, config.map_grad_clip / jnp.maximum(grad_norm, 1e-12))
  gen_metrics = {**gen_metrics, "map_grad_norm": grad_norm}
  updates, map_opt_state = map_tx.update(grad_w, state.map_opt_state,
                                         state.mapping)
  mapping = models.orthogonalize(optax.apply_updates(state.mapping, updates),
                                 config.map_beta)

  new_state = state.replace(
      step=state.step + 1, mapping=mapping, map_opt_state=map_opt_state,
      dis_params=dis_params, dis_opt_state=dis_opt_state)
  return new_state, {**dis_metrics, **gen_metrics}


def train_chunk(state: TrainState, key: jax.Array, data: EmbeddingData, *,
                n_steps: int, step_fn: Callable) -> Tuple[TrainState, Metrics]:
  """``n_steps`` iterations fused in one ``lax.scan``; metrics averaged.

  Besides the step's metrics (averaged over the chunk) it returns
  ``orth_error`` (``||W W^T - I||_F`` at the end) and ``finite`` (bool: every
  metric of every step and the final mapping are finite), so that divergence
  is caught inside the compiled chunk, with no extra host sync per step.
  """

  def body(s, _):
    return step_fn(s, key, data)

  state, metrics = jax.lax.scan(body, state, None, length=n_steps)
  finite = jnp.all(jnp.isfinite(state.mapping))
  for v in jax.tree.leaves(metrics):
    finite &= jnp.all(jnp.isfinite(v))
  w = state.mapping
  orth = jnp.linalg.norm(w @ w.T - jnp.eye(w.shape[0], dtype=w.dtype))
  return state, {**jax.tree.map(jnp.mean, metrics), "orth_error": orth,
                 "finite": finite}


def bind_step(*, objective, critic, map_tx, dis_tx, config: StepConfig):
  """Binds the non-array arguments of :func:`train_step`."""
  return functools.partial(train_step, objective=objective, critic=critic,
                           map_tx=map_tx, dis_tx=dis_tx, config=config)
