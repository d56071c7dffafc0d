"""A small generator on the ring of 8 Gaussians, trained with each objective.

The classic mode-collapse test (Metz et al. 2017, "Unrolled GANs"; Srivastava
et al. 2017, VEEGAN; Gulrajani et al. 2017, Fig. 2): a generator MLP maps 2-d
standard normal noise to the plane and must cover all 8 modes of the ring
(radius 2, std 0.05, from :mod:`experiments.toy.ring`). The critic is the
library's :class:`~bdi_jax.models.Discriminator` and the losses come from the
registry, with the lab configs of :mod:`experiments.toy.common`.

Metrics on ``N = 2500`` generator samples, with ``sigma`` the ring's std:

* ``high_quality``: the fraction of samples within ``3 sigma`` of their
  nearest mode centre (the VEEGAN / unrolled-GAN "high quality" criterion);
* ``modes_covered``: the number of modes that hold at least a quarter of a
  fair share of the samples within ``3 sigma``, i.e. ``>= N / (4 * 8)``
  samples (about 78); a quarter tolerates uneven but real coverage while
  ignoring a few stray samples.

Run: ``python -m experiments.toy.ring_gan --workdir /tmp/toy_lab``.
"""

import argparse
import functools
import os
import time
from typing import Dict, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from bdi_jax import models
from bdi_jax import step as step_lib
from experiments.toy import common
from experiments.toy import ring

__all__ = ["Generator", "GanState", "mode_statistics", "train_gan",
           "plot_samples", "main"]

LATENT_DIM = 2


class Generator(nn.Module):
  """MLP ``[n, 2] noise -> [n, 2] points``; ReLU hidden layers."""

  hidden: int = 128
  n_layers: int = 3

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    h = z
    for i in range(self.n_layers):
      h = nn.relu(nn.Dense(self.hidden, name=f"dense_{i}")(h))
    return nn.Dense(2, name="out")(h)


class GanState(NamedTuple):
  gen_params: object
  gen_opt_state: object
  critic_params: object
  critic_opt_state: object


def mode_statistics(samples, centres, std: float,
                    min_share: float = 0.25) -> Dict[str, float]:
  """Mode coverage and sample quality (see the module docstring).

  Args:
    samples: ``[n, 2]`` generated points.
    centres: ``[m, 2]`` mode centres.
    std: the modes' standard deviation; "near" means within ``3 std``.
    min_share: a mode is covered if it holds ``>= min_share * n / m`` near
      samples.

  Returns:
    ``{"modes_covered": int, "high_quality": float in [0, 1]}``.
  """
  samples, centres = np.asarray(samples), np.asarray(centres)
  dists = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)
  nearest = np.argmin(dists, axis=1)
  near = dists[np.arange(len(samples)), nearest] <= 3.0 * std
  counts = np.bincount(nearest[near], minlength=len(centres))
  threshold = min_share * len(samples) / len(centres)
  return {"modes_covered": int(np.sum(counts >= threshold)),
          "high_quality": float(np.mean(near))}


def train_gan(objective_name: str, key: jax.Array, *, steps: int = 2000,
              critic_steps: int = 5, batch_size: int = 256,
              learning_rate: float = 1e-3, gen_hidden: int = 128,
              critic_hidden: int = 128, chunk: int = 500):
  """Trains generator and critic; yields ``(step, state, metrics)`` per chunk.

  One generator step follows ``critic_steps`` critic updates (the same
  schedule for every objective, as in Gulrajani et al.'s toy experiments).
  Steps run in compiled chunks of ``chunk`` (a ``lax.scan``), so the host only
  sees the state between chunks.

  Args:
    objective_name: registry name.
    key: the run's key; ``fold_in(key, step)`` drives each step.
    steps: generator updates (rounded up to a multiple of ``chunk``).
    critic_steps: critic updates per generator update.
    batch_size: real and fake samples per update.
    learning_rate: Adam's step size for both players.
    gen_hidden: generator width.
    critic_hidden: discriminator width.
    chunk: steps per compiled chunk.

  Yields:
    ``(steps_done, GanState, metrics)``, metrics averaged over the chunk.
  """
  objective = common.make_objective(objective_name)
  module = common.make_discriminator(objective_name, hidden=critic_hidden)
  critic = models.make_critic(module)
  generator = Generator(hidden=gen_hidden)
  gen_tx = common.critic_optimizer(learning_rate)  # Same Adam for both.
  critic_tx = common.critic_optimizer(learning_rate)

  init_key, run_key = jax.random.split(key)
  gen_key, critic_key = jax.random.split(init_key)
  gen_params = generator.init(gen_key, jnp.zeros((1, LATENT_DIM)))["params"]
  critic_params = objective.project(common.init_critic(module, critic_key))
  state = GanState(gen_params, gen_tx.init(gen_params), critic_params,
                   critic_tx.init(critic_params))

  def generate(params, k):
    z = jax.random.normal(k, (batch_size, LATENT_DIM))
    return generator.apply({"params": params}, z)

  def step(state: GanState, step_index):
    keys = jax.random.split(jax.random.fold_in(run_key, step_index),
                            critic_steps + 1)
    fake_gen = functools.partial(generate, state.gen_params)

    def critic_update(carry, k):
      params, opt_state = carry
      k_real, k_fake, k_loss = jax.random.split(k, 3)
      real = ring.sample_ring(k_real, batch_size)
      fake = fake_gen(k_fake)  # A constant for the critic.
      params, opt_state, metrics = step_lib.critic_update(
          objective, critic, critic_tx, params, opt_state, real, fake, k_loss)
      return (params, opt_state), metrics

    (critic_params, critic_opt_state), critic_metrics = jax.lax.scan(
        critic_update, (state.critic_params, state.critic_opt_state),
        keys[:-1])
    k_fake, k_loss = jax.random.split(keys[-1])
    (_, gen_metrics), grads = jax.value_and_grad(
        lambda p: objective.generator_loss(critic, critic_params,
                                           generate(p, k_fake), k_loss),
        has_aux=True)(state.gen_params)
    updates, gen_opt_state = gen_tx.update(grads, state.gen_opt_state,
                                           state.gen_params)
    gen_params = optax.apply_updates(state.gen_params, updates)
    metrics = dict(jax.tree.map(jnp.mean, critic_metrics), **gen_metrics)
    return GanState(gen_params, gen_opt_state, critic_params,
                    critic_opt_state), metrics

  @jax.jit
  def run_chunk(state, start):
    state, metrics = jax.lax.scan(step, state, start + jnp.arange(chunk))
    return state, jax.tree.map(jnp.mean, metrics)

  done = 0
  while done < steps:
    state, metrics = run_chunk(state, done)
    done += chunk
    yield done, state, {k: float(v) for k, v in metrics.items()}


def sample_generator(gen_params, key, n: int, hidden: int = 128) -> np.ndarray:
  z = jax.random.normal(key, (n, LATENT_DIM))
  return np.asarray(Generator(hidden=hidden).apply({"params": gen_params}, z))


def plot_samples(samples: Dict[str, np.ndarray], stats: Dict[str, Dict],
                 path: str) -> None:
  """One panel per objective: samples, mode centres and their 3-sigma discs."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  centres = np.asarray(ring.ring_centres())
  n = len(samples)
  fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.8), squeeze=False)
  for ax, (name, points) in zip(axes[0], samples.items()):
    ax.scatter(points[:, 0], points[:, 1], s=1, alpha=0.4)
    for c in centres:
      ax.add_patch(plt.Circle(c, 3 * ring.RING_STD, color="red", fill=False,
                              lw=1))
    s = stats[name]
    ax.set_title(f"{name}: {s['modes_covered']}/8 modes, "
                 f"HQ {s['high_quality']:.2f}", fontsize=9)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--objectives", nargs="+",
                      default=list(common.OBJECTIVES))
  parser.add_argument("--steps", type=int, default=2000)
  parser.add_argument("--critic_steps", type=int, default=5)
  parser.add_argument("--learning_rate", type=float, default=1e-3)
  parser.add_argument("--num_samples", type=int, default=2500)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)

  workdir = common.ensure_workdir(args.workdir)
  key = jax.random.key(args.seed)
  samples, stats = {}, {}
  for i, name in enumerate(args.objectives):
    start = time.time()
    for done, state, metrics in train_gan(
        name, jax.random.fold_in(key, i), steps=args.steps,
        critic_steps=args.critic_steps, learning_rate=args.learning_rate):
      print(f"  {name} step {done}: " + " ".join(
          f"{k}={v:.3f}" for k, v in sorted(metrics.items())))
    points = sample_generator(state.gen_params,
                              jax.random.fold_in(key, 1000 + i),
                              args.num_samples)
    samples[name] = points
    stats[name] = mode_statistics(points, ring.ring_centres(), ring.RING_STD)
    print(f"{name:7s} modes_covered={stats[name]['modes_covered']}/8 "
          f"high_quality={stats[name]['high_quality']:.3f} "
          f"({time.time() - start:.1f}s)")
  path = os.path.join(workdir, "ring_gan.png")
  plot_samples(samples, stats, path)
  print(f"wrote {path}")
  return stats


if __name__ == "__main__":
  main()
