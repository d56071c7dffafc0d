r"""Parallel lines: what each critic measures between disjoint distributions.

Arjovsky et al. 2017 ("Wasserstein GAN"), Example 1: ``P_0 = (0, Z)`` and
``P_theta = (theta, Z)`` with ``Z ~ U[0, 1]``. Their supports are disjoint
for every ``theta != 0``, so

* ``W(P_0, P_theta) = |theta|``: continuous, with a useful gradient in theta;
* ``JSD(P_0, P_theta) = log 2`` for ``theta != 0`` and ``0`` at ``theta = 0``:
  flat, hence no gradient for a generator.

For each ``theta`` a fresh critic is trained against the fixed pair and its
estimate is read on fresh samples without dropout:

* Wasserstein critics (``wgan``, ``wgangp``, ``ctgan``): ``w_estimate =
  mean f(real) - mean f(fake)``. With weight clipping this is ``K * W`` for an
  unknown Lipschitz constant ``K``, so only proportionality to ``|theta|``
  is expected. A soft penalty lets the slope exceed 1: see
  :func:`wgangp_optimum` (``|theta| + theta^2`` at the lab's ``lambda = 0.5``).
* Vanilla GAN, trained *without* label smoothing: its critic loss is
  ``L(D) = -1/2 (E_real log D + E_fake log(1 - D))``. The optimal critic
  ``D* = p_real / (p_real + p_fake)`` gives (Goodfellow et al. 2014, Thm. 1)
  ``E_real log D* + E_fake log(1 - D*) = 2 JSD - log 4``, so
  ``L(D*) = log 2 - JSD`` and the estimate is ``JSD_hat = log 2 - L(D)``
  (natural log; at most ``log 2``; a lower bound for a sub-optimal critic).

Run: ``python -m experiments.toy.parallel_lines --workdir /tmp/toy_lab``.
"""

import argparse
import math
import os
import time
from typing import Callable, Dict, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import models
from experiments.toy import common

__all__ = ["sample_line", "ESTIMATES", "wgangp_optimum", "estimate_curve",
           "plot_curves", "main"]

LOG2 = math.log(2.0)


def sample_line(key: jax.Array, n: int, theta) -> jax.Array:
  """``n`` samples of ``(theta, Z)``, ``Z ~ U[0, 1]``: ``[n, 2]``."""
  z = jax.random.uniform(key, (n,))
  return jnp.stack([jnp.full((n,), theta, z.dtype), z], axis=-1)


def _js_estimate(loss, metrics):
  del metrics
  return LOG2 - loss


def _w_estimate(loss, metrics):
  del loss
  return metrics["w_estimate"]


# Which divergence each objective's critic estimates, read from its loss.
ESTIMATES: Dict[str, Callable] = {
    "gan": _js_estimate,
    "wgan": _w_estimate,
    "wgangp": _w_estimate,
    "ctgan": _w_estimate,
}


def wgangp_optimum(thetas, gp_lambda: float) -> np.ndarray:
  """The WGAN-GP critic's optimal ``w_estimate`` on the parallel lines.

  The interpolates fill the strip between the lines uniformly, so the best
  critic has a constant slope ``a`` across it; maximising
  ``a |theta| - lambda (a - 1)^2`` gives ``a = 1 + |theta| / (2 lambda)`` and
  the estimate ``|theta| + theta^2 / (2 lambda)``: ``W`` itself only as
  ``lambda -> inf`` (nearly so at the image literature's 10).
  """
  thetas = np.abs(np.asarray(thetas, np.float64))
  return thetas + thetas ** 2 / (2.0 * gp_lambda)


def estimate_curve(objective_name: str, thetas: Sequence[float],
                   key: jax.Array, steps: int = 1000, *, batch_size: int = 256,
                   hidden: int = 32, learning_rate: float = 2e-3,
                   eval_size: int = 4096,
                   overrides: Optional[Dict] = None) -> np.ndarray:
  """Trains one critic per ``theta`` and returns its divergence estimate.

  All ``theta`` are trained at once (``vmap`` over one compiled ``lax.scan``).

  Args:
    objective_name: a registry name with an entry in :data:`ESTIMATES`.
    thetas: ``[t]`` offsets of the fake line.
    key: split into one key per ``theta``.
    steps: critic updates per ``theta``.
    batch_size: samples of each line per update.
    hidden: width of the discriminator's two hidden layers.
    learning_rate: the critic's Adam step size.
    eval_size: fresh samples of each line for the final estimate.
    overrides: config fields replacing the lab's (e.g. ``{"clip": 0.1}``).

  Returns:
    ``[t]`` estimates (``W`` up to a constant, or ``JSD`` in nats).
  """
  objective = common.make_objective(objective_name, overrides)
  module = common.make_discriminator(objective_name, hidden=hidden)
  critic = models.make_critic(module)
  estimate = ESTIMATES[objective_name]

  def one(theta, key):
    train_key, real_key, fake_key = jax.random.split(key, 3)
    params, _ = common.train_critic(
        objective, module, lambda k, n: sample_line(k, n, 0.0),
        lambda k, n: sample_line(k, n, theta), train_key, steps=steps,
        batch_size=batch_size, learning_rate=learning_rate)
    real = sample_line(real_key, eval_size, 0.0)
    fake = sample_line(fake_key, eval_size, theta)
    loss, metrics = objective.critic_loss(critic, params, real, fake, None)
    return estimate(loss, metrics)

  thetas = jnp.asarray(thetas, jnp.float32)
  keys = jax.random.split(key, thetas.shape[0])
  return np.asarray(jax.jit(jax.vmap(one))(thetas, keys))


def plot_curves(thetas: np.ndarray, curves: Dict[str, np.ndarray],
                path: str) -> None:
  """Raw estimates (left) and each curve scaled to its maximum (right)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  fig, (ax_raw, ax_scaled) = plt.subplots(1, 2, figsize=(11, 4.2))
  for name, values in curves.items():
    label = "gan (JSD, nats)" if name == "gan" else f"{name} (W)"
    ax_raw.plot(thetas, values, "o-", label=label, ms=3)
    ax_scaled.plot(thetas, values / np.max(np.abs(values)), "o-", label=name,
                   ms=3)
  ax_scaled.plot(thetas, np.abs(thetas) / np.max(np.abs(thetas)), "k--",
                 lw=1, label="|theta| (scaled)")
  if "wgangp" in curves:
    gp_lambda = float(common.lab_config("wgangp").gp_lambda)
    ax_raw.plot(thetas, wgangp_optimum(thetas, gp_lambda), "k--", lw=1,
                label=f"wgangp optimum, lambda={gp_lambda:g}")
  for ax in (ax_raw, ax_scaled):
    ax.axhline(LOG2 if ax is ax_raw else 1.0, color="grey", ls=":", lw=1)
    ax.set_xlabel("theta")
    ax.legend(fontsize=8)
  ax_raw.set_ylabel("critic estimate")
  ax_raw.set_title("Estimates (dotted: log 2)")
  ax_scaled.set_title("Scaled to max |estimate|")
  fig.suptitle("Parallel lines P0=(0,Z) vs P_theta=(theta,Z)")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv=None) -> Dict[str, np.ndarray]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--objectives", nargs="+",
                      default=list(common.OBJECTIVES))
  parser.add_argument("--num_thetas", type=int, default=17)
  parser.add_argument("--steps", type=int, default=1000)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)

  workdir = common.ensure_workdir(args.workdir)
  thetas = np.linspace(-1.0, 1.0, args.num_thetas)
  key = jax.random.key(args.seed)
  curves = {}
  for name in args.objectives:
    start = time.time()
    curves[name] = estimate_curve(name, thetas, jax.random.fold_in(key, 0),
                                  args.steps)
    corr = np.corrcoef(np.abs(thetas), curves[name])[0, 1]
    print(f"{name:7s} pearson(|theta|, estimate)={corr:.4f}  "
          f"estimate at theta=+-1: {curves[name][0]:.4f} {curves[name][-1]:.4f}"
          f"  ({time.time() - start:.1f}s)")
    print("  " + " ".join(f"{t:+.3f}:{v:.3f}" for t, v in
                          zip(thetas, curves[name])))
  path = os.path.join(workdir, "parallel_lines.png")
  plot_curves(thetas, curves, path)
  np.savez(os.path.join(workdir, "parallel_lines.npz"), thetas=thetas,
           **curves)
  print(f"wrote {path}")
  return curves


if __name__ == "__main__":
  main()
