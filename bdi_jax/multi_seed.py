"""Builds the compiled adversarial trainer from a config, over many seeds.

The step itself (step.py) knows nothing of configs; this module binds a config's
choices (critic, objective, optimisers, schedule constants) into it, vmaps the
result over a leading *seed* axis so N independent runs train in one compiled
program, and shards that axis over the local devices when it divides evenly.
"""

import functools
import json
from typing import Callable, Dict, List, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import config_schema
from bdi_jax import errors
from bdi_jax import models
from bdi_jax import step as step_lib
from bdi_jax.objectives import get_objective

__all__ = ["Trainer", "build_trainer", "build_chunk", "init_seeds",
           "seed_keys", "seed_sharding", "step_config"]


def step_config(config) -> step_lib.StepConfig:
  """The step's static settings from ``config.train``.

  ``train.dis_most_frequent = N`` means the N most frequent words of each side
  (each capped at its own vocabulary by the step, which sees both sizes); 0 or
  None means every word of each side.

  Raises:
    ConfigError: ``train.dis_most_frequent`` is negative.
  """
  t = config.train
  most_frequent = t.dis_most_frequent or None  # 0 / None: all of each side.
  if most_frequent is not None and most_frequent < 0:
    raise errors.ConfigError(
        f"train.dis_most_frequent={most_frequent}: must be 0 (every word of "
        "each side) or a positive number of most frequent words per side")
  return step_lib.StepConfig(
      batch_size=t.batch_size, dis_steps=t.dis_steps,
      dis_most_frequent=most_frequent,
      map_beta=t.map_beta, map_grad_clip=t.get("map_grad_clip", 0.0),
      noise_std=t.noise_std,
      noise_anneal_steps=max(1, t.noise_anneal_steps))


def seed_sharding(n_seeds: int):
  """Shards the leading (seed) axis over local devices when it divides evenly."""
  devices = jax.local_devices()
  if len(devices) <= 1 or n_seeds % len(devices):
    return None
  mesh = jax.sharding.Mesh(np.asarray(devices), ("seed",))
  return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("seed"))


def _bind(config, dim: int):
  """The critic module, both optimisers and the step, bound to ``config``."""
  t = config.train
  module = models.discriminator_from_config(config.model)
  objective = get_objective(config.method, config.objective)
  map_tx = step_lib.make_optimizer(t.map_optimizer, t.map_lr,
                                    **dict(t.map_optimizer_kwargs))
  dis_tx = step_lib.make_optimizer(t.dis_optimizer, t.dis_lr,
                                    **dict(t.dis_optimizer_kwargs))
  step_fn = step_lib.bind_step(
      objective=objective, critic=models.make_critic(module), map_tx=map_tx,
      dis_tx=dis_tx, config=step_config(config))
  init_one = functools.partial(step_lib.create_train_state, dim=dim,
                               module=module, map_tx=map_tx, dis_tx=dis_tx)
  return init_one, step_fn


# Fields of config.train that only the host-side loop reads (declared with
# compiled=False in bdi_jax/config_schema.py): two configs that differ in
# these alone compile to the same chunk.
_HOST_ONLY_TRAIN_FIELDS = config_schema.host_only_fields("train")

# Compiled chunks by (step settings, dim, n_steps): a study that runs several
# configs or seed ranges of the same shapes in one process compiles each once.
_CHUNKS: Dict[str, Callable] = {}


def _chunk_key(config, dim: int, n_steps: int) -> str:
  train = {k: v for k, v in config.train.to_dict().items()
           if k not in _HOST_ONLY_TRAIN_FIELDS}
  return json.dumps({"method": config.method,
                     "model": config.model.to_dict(),
                     "objective": config.objective.to_dict(),
                     "train": train, "dim": int(dim),
                     "n_steps": int(n_steps)}, sort_keys=True, default=str)


def build_chunk(config, dim: int, n_steps: int):
  """A jitted ``chunk_fn(state, keys, data)`` of exactly ``n_steps`` iterations
  over a leading seed axis (e.g. an epoch's last, shorter chunk).

  The same step settings, dimension and length give the same function object
  (cached), so its compilations are reused across runs in one process.
  The input state is not donated: the caller keeps it to roll a diverged seed
  back to it (one extra copy of the state, small next to the embeddings).
  """
  key = _chunk_key(config, dim, n_steps)
  if key not in _CHUNKS:
    _, step_fn = _bind(config, dim)
    chunk_one = functools.partial(step_lib.train_chunk,
                                  n_steps=int(n_steps), step_fn=step_fn)
    _CHUNKS[key] = jax.jit(_over_seeds(chunk_one, in_axes=(0, 0, None)))
  return _CHUNKS[key]


class Trainer(NamedTuple):
  """The compiled functions of the adversarial phase, over a seed axis."""
  init_fn: Callable  # (init keys [S]) -> TrainState with a leading S.
  chunk_fn: Callable  # (n_steps) -> jitted (state, keys, data) -> (state, m).
  chunk_steps: int  # Steps of a full chunk.


def build_trainer(config, dim: int) -> Trainer:
  """Everything the adversarial phase needs, bound to ``config`` (a full
  config: ``model``, ``objective``, ``train``, ``method``) for embeddings of
  dimension ``dim``; the init function is jitted, chunks are compiled on
  first use and cached (:func:`build_chunk`)."""
  init_one, _ = _bind(config, dim)
  return Trainer(init_fn=jax.jit(_over_seeds(init_one, in_axes=0)),
                 chunk_fn=functools.partial(build_chunk, config, dim),
                 chunk_steps=max(1, int(config.train.chunk_steps)))


def _over_seeds(fn, in_axes):
  """``vmap(fn)`` over a leading seed axis, without batching a single seed.

  With one seed, a vmap still turns every matrix product into a batched one,
  which XLA:CPU runs ~40% slower than the plain product (measured at 300-d,
  2 x 2048 critic). So one seed runs the unbatched function, with the seed
  axis dropped on the way in and restored on the way out (free reshapes).
  """
  batched = jax.vmap(fn, in_axes=in_axes)
  axes = in_axes if isinstance(in_axes, tuple) else (in_axes,)

  def run(*args):
    seeds = {jax.tree.leaves(a)[0].shape[0]
             for a, ax in zip(args, axes) if ax is not None}
    if seeds != {1}:
      return batched(*args)
    squeezed = [a if ax is None else jax.tree.map(lambda x: x[0], a)
                for a, ax in zip(args, axes)]
    return jax.tree.map(lambda x: x[None], fn(*squeezed))

  return run


def seed_keys(seeds: List[int]):
  """One root key per seed, split into named keys (init, train)."""
  roots = [jax.random.key(s) for s in seeds]
  init = jnp.stack([jax.random.fold_in(k, 0) for k in roots])
  run = jnp.stack([jax.random.fold_in(k, 1) for k in roots])
  return init, run


def init_seeds(init_fn, seeds: List[int]):
  """Initial states and run keys of ``seeds``, sharded over local devices."""
  init_keys, run_keys = seed_keys(seeds)
  state = init_fn(init_keys)
  sharding = seed_sharding(len(seeds))
  if sharding is not None:
    state, run_keys = jax.device_put((state, run_keys), sharding)
  return state, run_keys
