"""Critics on a 7-component Gaussian mixture, in seed 003's setup.

Seed 003, Sec. 2.3.3 (after Gulrajani et al. 2017, Fig. 1a and 1c): the
"real" distribution is a mixture of 7 Gaussians and the fixed "fake" one is
the real sample plus ``N(0, 0.1^2 I)`` noise, shuffled (so a fake row is not
paired with the real row it came from, and the gradient-penalty interpolates
span the space between modes). A critic is trained under weight clipping
``c = 0.01`` and one under a gradient penalty ``lambda = 10``; a second row
repeats both with this project's values (``c = 0.25``, ``lambda = 0.5``).

The figure (``mixture_critics.png``) shows, per row, each critic's value
surface with both samples and the histogram of its kernel weights with the
clipping box marked: clipping piles the weights at ``+-c`` and learns a
simple surface; the penalty keeps a spread of weights and a surface that
follows the modes.

The 7 centres lie evenly on a circle (``--radius``, ``--mode_std``); every
value of the setup is a flag.

Run: ``python -m experiments.toy.mixture --workdir /tmp/toy_lab``.
"""

import argparse
import os
import time
from typing import Dict, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import models
from bdi_jax.objectives import wgangp
from experiments.toy import common
from experiments.toy import ring

__all__ = ["mixture_centres", "sample_mixture", "sample_swiss_roll",
           "noisy_shuffled", "pair_sampler", "critic_summary", "train_pair",
           "plot_rows", "main"]


def mixture_centres(n_modes: int = 7, radius: float = 2.0) -> jax.Array:
  """``[n_modes, 2]`` centres evenly spaced on a circle."""
  return ring.ring_centres(n_modes, radius)


def sample_mixture(key: jax.Array, n: int, *, n_modes: int = 7,
                   radius: float = 2.0, std: float = 0.1) -> jax.Array:
  """``n`` samples of the equal-weight mixture, ``[n, 2]``."""
  mode_key, noise_key = jax.random.split(key)
  centres = mixture_centres(n_modes, radius)
  modes = jax.random.randint(mode_key, (n,), 0, n_modes)
  return centres[modes] + std * jax.random.normal(noise_key, (n, 2))


def sample_swiss_roll(key: jax.Array, n: int, *, noise: float = 0.25,
                      scale: float = 7.5) -> jax.Array:
  """The 2-D Swiss roll of Gulrajani et al.'s toy code, ``[n, 2]``.

  ``t ~ U[1.5 pi, 4.5 pi]``, the point ``(t cos t, t sin t)`` plus
  ``N(0, noise^2 I)``, divided by ``scale`` (their 7.5): the
  ``(x, z)`` coordinates of scikit-learn's ``make_swiss_roll(n, noise)``.
  """
  t_key, noise_key = jax.random.split(key)
  t = 1.5 * jnp.pi * (1.0 + 2.0 * jax.random.uniform(t_key, (n,)))
  points = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], axis=-1)
  return (points + noise * jax.random.normal(noise_key, (n, 2))) / scale


def noisy_shuffled(key: jax.Array, real: jax.Array,
                   noise_std: float) -> jax.Array:
  """Seed 003's fake batch: ``real + N(0, noise_std^2 I)``, rows permuted."""
  noise_key, perm_key = jax.random.split(key)
  noisy = real + noise_std * jax.random.normal(noise_key, real.shape,
                                               real.dtype)
  return jax.random.permutation(perm_key, noisy, axis=0)


def pair_sampler(sample_real, noise_std: float):
  """``(key, n) -> (real [n, 2], fake [n, 2])`` with :func:`noisy_shuffled`."""

  def sample_batch(key, n):
    real_key, fake_key = jax.random.split(key)
    real = sample_real(real_key, n)
    return real, noisy_shuffled(fake_key, real, noise_std)

  return sample_batch


def critic_summary(critic, params, real, fake, key,
                   clip: float) -> Dict[str, float]:
  """Numbers that tell the critics apart, without dropout.

  Args:
    critic: ``critic(params, x, key)``.
    params: its parameters.
    real: ``[n, 2]`` fresh real rows.
    fake: ``[n, 2]`` the matching fake rows.
    key: draws the interpolates.
    clip: the clipping box used for ``at_box``.

  Returns:
    ``w_estimate`` (mean real score minus mean fake score), ``grad_norm``
    (mean input-gradient norm at real/fake interpolates: 1 for an ideal
    WGAN-GP critic), ``at_box`` (fraction of kernel weights with
    ``|w| >= 0.99 clip``) and ``weight_std``.
  """
  _, metrics = common.make_objective("wgan").critic_loss(
      critic, params, real, fake, None)
  deterministic = lambda p, x, k: critic(p, x, None)  # noqa: E731
  _, gp_metrics = wgangp.gradient_penalty(deterministic, params, real, fake,
                                          key)
  weights = ring.kernel_weights(params)
  return {
      "w_estimate": float(metrics["w_estimate"]),
      "grad_norm": float(gp_metrics["grad_norm"]),
      "at_box": float(np.mean(np.abs(weights) >= 0.99 * clip)),
      "weight_std": float(np.std(weights)),
  }


def train_pair(sample_batch, key: jax.Array, *, clip: float,
               gp_lambda: float, steps: int, hidden: int, n_layers: int,
               learning_rate: float = 1e-3, batch_size: int = 256):
  """Trains a clipped (``wgan``) and a penalised (``wgangp``) critic.

  Returns:
    ``{"wgan": (critic, params), "wgangp": (critic, params)}``.
  """
  out = {}
  for i, (name, overrides) in enumerate((("wgan", {"clip": clip}),
                                         ("wgangp", {"gp_lambda": gp_lambda}))):
    objective = common.make_objective(name, overrides)
    module = common.make_discriminator(name, hidden=hidden,
                                       n_layers=n_layers)
    params, _ = jax.jit(lambda k, objective=objective, module=module:
                        common.train_critic_on_pairs(
                            objective, module, sample_batch, k, steps=steps,
                            batch_size=batch_size,
                            learning_rate=learning_rate))(
                                jax.random.fold_in(key, i))
    out[name] = (models.make_critic(module), params)
  return out


def plot_rows(rows: Sequence[Tuple[str, float, float, Dict]], real, fake,
              path: str, extent: float = 3.0) -> None:
  """One row per setting: clip surface, clip weights, GP surface, GP weights.

  Args:
    rows: ``(label, clip, gp_lambda, {name: (critic, params)})`` per row.
    real: ``[n, 2]`` real points drawn on the surfaces.
    fake: ``[n, 2]`` fake points.
    path: PNG to write.
    extent: the surfaces cover ``[-extent, extent]^2``.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  grid = np.linspace(-extent, extent, 101)
  xx, yy = np.meshgrid(grid, grid)
  points = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], -1), jnp.float32)
  fig, axes = plt.subplots(len(rows), 4, figsize=(15, 3.6 * len(rows)),
                           squeeze=False)
  for r, (label, clip, gp_lambda, critics) in enumerate(rows):
    for c, name in enumerate(("wgan", "wgangp")):
      critic, params = critics[name]
      setting = f"clip c={clip:g}" if name == "wgan" else (
          f"penalty lambda={gp_lambda:g}")
      values = np.asarray(critic(params, points, None)[0]).reshape(xx.shape)
      ax = axes[r, 2 * c]
      contour = ax.contourf(xx, yy, values, levels=30, cmap="viridis")
      fig.colorbar(contour, ax=ax, fraction=0.046)
      ax.scatter(fake[:, 0], fake[:, 1], s=1, c="white", alpha=0.4,
                 label="fake = real + noise")
      ax.scatter(real[:, 0], real[:, 1], s=1, c="orange", label="real")
      ax.set_title(f"{label}: {setting}", fontsize=9)
      ax.set_aspect("equal")
      ax.set_xticks([])
      ax.set_yticks([])
      if r == 0 and c == 0:
        ax.legend(fontsize=6, loc="lower left", markerscale=4)
      ax = axes[r, 2 * c + 1]
      ax.hist(ring.kernel_weights(params), bins=80, color="steelblue")
      for sign in (-1, 1):
        ax.axvline(sign * clip, color="red", ls="--", lw=0.8)
      ax.set_title(f"kernel weights, {setting} (red: +-{clip:g})", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=72)
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--modes", type=int, default=7)
  parser.add_argument("--radius", type=float, default=2.0)
  parser.add_argument("--mode_std", type=float, default=0.05)
  parser.add_argument("--noise_std", type=float, default=0.1,
                      help="fake = real + N(0, noise_std^2), shuffled")
  parser.add_argument("--clip", type=float, default=0.01,
                      help="seed 003's weight-clipping box (first row)")
  parser.add_argument("--gp_lambda", type=float, default=10.0,
                      help="seed 003's penalty weight (first row)")
  parser.add_argument("--project_clip", type=float,
                      default=float(common.lab_config("wgan").clip),
                      help="the project's box (second row)")
  parser.add_argument("--project_gp_lambda", type=float,
                      default=float(common.lab_config("wgangp").gp_lambda),
                      help="the project's penalty weight (second row)")
  parser.add_argument("--steps", type=int, default=2000)
  parser.add_argument("--hidden", type=int, default=128)
  parser.add_argument("--n_layers", type=int, default=3)
  parser.add_argument("--learning_rate", type=float, default=1e-3)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)

  workdir = common.ensure_workdir(args.workdir)
  key = jax.random.key(args.seed)
  sample_real = lambda k, n: sample_mixture(  # noqa: E731
      k, n, n_modes=args.modes, radius=args.radius, std=args.mode_std)
  sample_batch = pair_sampler(sample_real, args.noise_std)
  real, fake = sample_batch(jax.random.fold_in(key, 1000), 4096)
  rows, summaries = [], {}
  settings = (("seed 003", args.clip, args.gp_lambda),
              ("project", args.project_clip, args.project_gp_lambda))
  for r, (label, clip, gp_lambda) in enumerate(settings):
    start = time.time()
    critics = train_pair(sample_batch, jax.random.fold_in(key, r), clip=clip,
                         gp_lambda=gp_lambda, steps=args.steps,
                         hidden=args.hidden, n_layers=args.n_layers,
                         learning_rate=args.learning_rate)
    rows.append((label, clip, gp_lambda, critics))
    for name, (critic, params) in critics.items():
      summary = critic_summary(critic, params, real, fake,
                               jax.random.fold_in(key, 2000 + r), clip)
      summaries[f"{label}/{name}"] = summary
      print(f"{label:8s} {name:7s} (c={clip:g}, lambda={gp_lambda:g}) "
            + "  ".join(f"{k}={v:.4f}" for k, v in summary.items()))
    print(f"  row {label}: {time.time() - start:.1f}s")
  path = os.path.join(workdir, "mixture_critics.png")
  plot_rows(rows, np.asarray(real[:600]), np.asarray(fake[:600]), path,
            extent=args.radius + 1.0)
  print(f"wrote {path}")
  return summaries


if __name__ == "__main__":
  main()
