"""Critics on a ring of 8 Gaussians: weight clipping vs gradient penalty.

Gulrajani et al. 2017 ("Improved training of Wasserstein GANs"), Sec. 3 and
Fig. 1: with the generator held fixed, a critic trained under weight clipping
learns an overly simple value surface and pushes its weights to the two ends
of the clipping box ``[-c, c]``, while a gradient-penalty critic (and CT-GAN's,
Wei et al. 2018) models the real distribution's structure with weights spread
over a smooth range.

Here the "real" distribution is 8 Gaussians on a circle of radius 2 (std 0.05)
and the fixed "generator" is a Gaussian blob at the centre (std 0.5). Outputs:
the critic value surface with both samples, and histograms of the critics'
kernel weights (``ring_critics.png``).

Run: ``python -m experiments.toy.ring --workdir /tmp/toy_lab``.
"""

import argparse
import os
import time
from typing import Dict

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import models
from bdi_jax.objectives import wgangp
from experiments.toy import common

__all__ = ["RING_MODES", "RING_RADIUS", "RING_STD", "ring_centres",
           "sample_ring", "sample_blob", "kernel_weights", "critic_summary",
           "plot_critics", "main"]

RING_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.05
BLOB_STD = 0.5


def ring_centres(n_modes: int = RING_MODES,
                 radius: float = RING_RADIUS) -> jax.Array:
  """``[n_modes, 2]`` centres evenly spaced on a circle."""
  angles = 2.0 * jnp.pi * jnp.arange(n_modes) / n_modes
  return radius * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)


def sample_ring(key: jax.Array, n: int, std: float = RING_STD) -> jax.Array:
  """``n`` samples of the equal-weight mixture of Gaussians on the ring."""
  mode_key, noise_key = jax.random.split(key)
  centres = ring_centres()
  modes = jax.random.randint(mode_key, (n,), 0, centres.shape[0])
  return centres[modes] + std * jax.random.normal(noise_key, (n, 2))


def sample_blob(key: jax.Array, n: int, std: float = BLOB_STD) -> jax.Array:
  """The fixed "generator": ``N(0, std^2 I)``, ``[n, 2]``."""
  return std * jax.random.normal(key, (n, 2))


def kernel_weights(params) -> np.ndarray:
  """All dense-layer kernels of a critic, flattened (biases excluded)."""
  flat = jax.tree_util.tree_flatten_with_path(params)[0]
  return np.concatenate([
      np.asarray(leaf).ravel() for path, leaf in flat
      if getattr(path[-1], "key", None) == "kernel"])


def critic_summary(critic, params, key, clip: float,
                   n: int = 4096) -> Dict[str, float]:
  """Numbers that tell the critics apart, on fresh samples without dropout.

  Returns:
    ``w_estimate`` (mean real score minus mean fake score), ``grad_norm``
    (mean input-gradient norm at random real/fake interpolates, 1 for an
    ideal WGAN-GP critic), ``at_box`` (fraction of kernel weights with
    ``|w| >= 0.99 clip``) and ``weight_std``.
  """
  real_key, fake_key, gp_key = jax.random.split(key, 3)
  real, fake = sample_ring(real_key, n), sample_blob(fake_key, n)
  _, metrics = common.make_objective("wgan").critic_loss(
      critic, params, real, fake, None)
  # Interpolates without dropout: a critic's own gradient field.
  deterministic = lambda p, x, k: critic(p, x, None)  # noqa: E731
  _, gp_metrics = wgangp.gradient_penalty(deterministic, params, real, fake,
                                          gp_key)
  weights = kernel_weights(params)
  return {
      "w_estimate": float(metrics["w_estimate"]),
      "grad_norm": float(gp_metrics["grad_norm"]),
      "at_box": float(np.mean(np.abs(weights) >= 0.99 * clip)),
      "weight_std": float(np.std(weights)),
  }


def plot_critics(results, clip: float, path: str, extent: float = 3.0) -> None:
  """One column per objective: value surface (top), weight histogram (bottom).

  Args:
    results: ``{name: (critic, params)}``.
    clip: the clipping box, marked on the histograms.
    path: PNG to write.
    extent: the surface covers ``[-extent, extent]^2``.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  grid = np.linspace(-extent, extent, 121)
  xx, yy = np.meshgrid(grid, grid)
  points = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], -1), jnp.float32)
  real = np.asarray(sample_ring(jax.random.key(1), 512))
  fake = np.asarray(sample_blob(jax.random.key(2), 512))
  n = len(results)
  fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 8), squeeze=False)
  for col, (name, (critic, params)) in enumerate(results.items()):
    values = np.asarray(critic(params, points, None)[0]).reshape(xx.shape)
    ax = axes[0, col]
    contour = ax.contourf(xx, yy, values, levels=30, cmap="viridis")
    fig.colorbar(contour, ax=ax, fraction=0.046)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="orange", label="real (ring)")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="white", alpha=0.5,
               label="fake (blob)")
    ax.set_title(f"{name}: critic value")
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[1, col]
    ax.hist(kernel_weights(params), bins=80, color="steelblue")
    for sign in (-1, 1):
      ax.axvline(sign * clip, color="red", ls="--", lw=1)
    ax.set_title(f"{name}: kernel weights (red: +-{clip})")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--objectives", nargs="+",
                      default=["wgan", "wgangp", "ctgan"])
  parser.add_argument("--steps", type=int, default=3000)
  parser.add_argument("--hidden", type=int, default=128)
  parser.add_argument("--n_layers", type=int, default=3)
  parser.add_argument("--clip", type=float,
                      default=float(common.lab_config("wgan").clip))
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)

  workdir = common.ensure_workdir(args.workdir)
  key = jax.random.key(args.seed)
  clip = args.clip
  results, summaries = {}, {}
  for i, name in enumerate(args.objectives):
    start = time.time()
    objective = common.make_objective(
        name, {"clip": clip} if name == "wgan" else None)
    module = common.make_discriminator(name, hidden=args.hidden,
                                       n_layers=args.n_layers)
    critic = models.make_critic(module)
    train = jax.jit(lambda k, objective=objective, module=module:
                    common.train_critic(objective, module, sample_ring,
                                        sample_blob, k, steps=args.steps))
    params, _ = train(jax.random.fold_in(key, i))
    results[name] = (critic, params)
    summaries[name] = critic_summary(critic, params,
                                     jax.random.fold_in(key, 100 + i), clip)
    print(f"{name:7s} " + "  ".join(f"{k}={v:.4f}" for k, v in
                                     summaries[name].items())
          + f"  ({time.time() - start:.1f}s)")
  path = os.path.join(workdir, "ring_critics.png")
  plot_critics(results, clip, path)
  print(f"wrote {path}")
  return summaries


if __name__ == "__main__":
  main()
