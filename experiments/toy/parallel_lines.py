r"""Parallel lines: what each critic measures between disjoint distributions.

Arjovsky et al. 2017 ("Wasserstein GAN"), Example 1: ``P_0 = (0, Z)`` and
``P_theta = (theta, Z)`` with ``Z ~ U[0, 1]``. Their supports are disjoint
for every ``theta != 0``, so

* ``W(P_0, P_theta) = |theta|``: continuous, with a useful gradient in theta;
* ``JSD(P_0, P_theta) = log 2`` for ``theta != 0`` and ``0`` at ``theta = 0``:
  flat, hence no gradient for a generator;
* ``KL`` in either direction is infinite and ``TV = 1`` for ``theta != 0``
  (thesis Sec. 3.2), estimated by the f-GAN bounds of
  :mod:`experiments.toy.fdiv` (``kl``, ``reverse_kl``, ``tv``): the TV
  bound saturates at 1, the KL bounds grow with every critic step.

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
from bdi_jax import step as step_lib
from experiments.toy import common

__all__ = ["sample_line", "ESTIMATES", "wgangp_optimum", "estimate_curve",
           "learn_theta", "THETA_RUNS", "plot_trajectories", "plot_curves",
           "main"]

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


def _f_estimate(loss, metrics):
  del loss
  return metrics["f_estimate"]


# Which divergence each objective's critic estimates, read from its loss.
ESTIMATES: Dict[str, Callable] = {
    "gan": _js_estimate,
    "wgan": _w_estimate,
    "wgangp": _w_estimate,
    "ctgan": _w_estimate,
    "kl": _f_estimate,  # KL(P_0 || P_theta), experiments.toy.fdiv.
    "reverse_kl": _f_estimate,  # KL(P_theta || P_0).
    "tv": _f_estimate,
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


def learn_theta(objective_name: str, key: jax.Array, *, steps: int = 500,
                theta0: float = 1.0, critic_steps: int = 5,
                batch_size: int = 256, hidden: int = 32,
                critic_lr: float = 2e-3, theta_lr: float = 1e-2,
                overrides: Optional[Dict] = None) -> np.ndarray:
  """Learns the generator's offset ``theta`` against a critic; pure, jit-ed.

  The point of Arjovsky et al.'s example: the fake line ``(theta, Z)`` moves
  by the gradient of the objective's generator loss through the critic. A
  Wasserstein critic has slope ~1 between the lines, so ``theta`` follows it
  to 0; the JS critic saturates (``D -> 0`` on the fake line, flat between
  the lines), so the generator gets almost no gradient and ``theta`` stalls.

  Args:
    objective_name: registry name.
    key: the run's key.
    steps: generator updates; each follows ``critic_steps`` critic updates.
    theta0: the starting offset.
    critic_steps: critic updates per generator update.
    batch_size: samples of each line per update.
    hidden: critic width.
    critic_lr: the critic's Adam step size (b1 0.5, b2 0.9).
    theta_lr: plain SGD step size on ``theta`` (no adaptive rescaling, so a
      vanishing gradient shows as a stall).
    overrides: config fields replacing the lab's.

  Returns:
    ``[steps + 1]`` trajectory of ``theta``, starting at ``theta0``.
  """
  objective = common.make_objective(objective_name, overrides)
  module = common.make_discriminator(objective_name, hidden=hidden)
  critic = models.make_critic(module)
  tx = common.critic_optimizer(critic_lr)
  init_key, loop_key = jax.random.split(key)
  params = objective.project(common.init_critic(module, init_key))

  def step(carry, i):
    theta, params, opt_state = carry
    keys = jax.random.split(jax.random.fold_in(loop_key, i), critic_steps + 1)

    def critic_step(c, k):
      p, s = c
      k_real, k_fake, k_loss = jax.random.split(k, 3)
      p, s, _ = step_lib.critic_update(
          objective, critic, tx, p, s, sample_line(k_real, batch_size, 0.0),
          sample_line(k_fake, batch_size, jax.lax.stop_gradient(theta)),
          k_loss)
      return (p, s), None

    (params, opt_state), _ = jax.lax.scan(critic_step, (params, opt_state),
                                          keys[:-1])
    k_fake, k_loss = jax.random.split(keys[-1])
    grad = jax.grad(lambda t: objective.generator_loss(
        critic, params, sample_line(k_fake, batch_size, t), k_loss)[0])(theta)
    theta = theta - theta_lr * grad
    return (theta, params, opt_state), theta

  @jax.jit
  def run(theta0, params):
    _, path = jax.lax.scan(step, (theta0, params, tx.init(params)),
                           jnp.arange(steps))
    return path

  path = run(jnp.asarray(theta0, jnp.float32), params)
  return np.concatenate([[theta0], np.asarray(path)])


# Learned-theta runs: (label, objective, config overrides). The JS objective
# appears twice: the minimax loss log(1 - D(fake)) is the one whose gradient
# vanishes; the non-saturating -log D(fake) (Goodfellow et al.'s fix, the
# project's default) keeps a gradient and does move theta.
THETA_RUNS = (
    ("gan, minimax (JS)", "gan", {"non_saturating": False}),
    ("gan, non-saturating", "gan", {"non_saturating": True}),
    ("wgan (clip)", "wgan", None),
    ("wgangp", "wgangp", None),
)


def plot_trajectories(paths: Dict[str, np.ndarray], path: str) -> None:
  """Learned theta against generator steps, one line per objective."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  fig, ax = plt.subplots(figsize=(6.4, 3.8))
  for label, values in paths.items():
    ax.plot(np.arange(len(values)), values, label=label, lw=1.5)
  ax.axhline(0.0, color="grey", ls=":", lw=1)
  ax.set_xlabel("generator step (5 critic steps each)")
  ax.set_ylabel("theta")
  ax.set_title("Parallel lines: learned theta from theta = 1")
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)


def plot_curves(thetas: np.ndarray, curves: Dict[str, np.ndarray],
                path: str, *, kl_short: Optional[Dict[str, np.ndarray]] = None,
                steps: int = 0) -> None:
  """Three panels: JS and TV (bounded), KL both ways (log), the W critics.

  Args:
    thetas: ``[t]``.
    curves: ``{objective: [t] estimates}`` (any subset of :data:`ESTIMATES`).
    path: PNG to write.
    kl_short: the KL curves after fewer critic steps, drawn dashed: the
      estimate keeps growing with training (the divergence is infinite).
    steps: critic steps of ``curves``, for the labels.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  fig, (ax_b, ax_kl, ax_w) = plt.subplots(1, 3, figsize=(14, 4.0))
  labels = {"gan": "JS (gan critic)", "tv": "TV", "kl": "KL(P0 || P_theta)",
            "reverse_kl": "KL(P_theta || P0)"}
  for name in ("gan", "tv"):
    if name in curves:
      ax_b.plot(thetas, curves[name], "o-", ms=3, label=labels[name])
  ax_b.axhline(LOG2, color="grey", ls=":", lw=1, label="log 2")
  ax_b.axhline(1.0, color="grey", ls="--", lw=1, label="1")
  ax_b.set_title("Bounded: JS -> log 2, TV -> 1 for theta != 0", fontsize=9)
  ax_b.set_ylim(-0.05, 1.1)
  for name in ("kl", "reverse_kl"):
    if name in curves:
      line, = ax_kl.plot(thetas, curves[name], "o-", ms=3,
                         label=f"{labels[name]}, {steps} steps")
      if kl_short and name in kl_short:
        ax_kl.plot(thetas, kl_short[name], "o--", ms=2,
                   color=line.get_color(), lw=0.8,
                   label=f"{labels[name]}, {steps // 4} steps")
  # Linear below 1 so that the 0 at theta = 0 is drawn, log above.
  ax_kl.set_yscale("symlog", linthresh=1.0)
  ax_kl.set_title("KL both ways: infinite (estimate grows with training)",
                  fontsize=9)
  for name in ("wgangp", "ctgan"):
    if name in curves:
      ax_w.plot(thetas, curves[name], "o-", ms=3, label=f"{name} (W)")
  if "wgan" in curves:
    # Clipping estimates K W for an unknown K: divided by its fitted slope.
    k = float(np.dot(np.abs(thetas), curves["wgan"])
              / np.dot(thetas, thetas))
    ax_w.plot(thetas, curves["wgan"] / k, "o-", ms=3,
              label=f"wgan (clip) / K, K = {k:.1f}")
  ax_w.plot(thetas, np.abs(thetas), "k:", lw=1.2, label="W = |theta|")
  if "wgangp" in curves:
    gp_lambda = float(common.lab_config("wgangp").gp_lambda)
    ax_w.plot(thetas, wgangp_optimum(thetas, gp_lambda), "k--", lw=1,
              label=f"wgangp optimum, lambda={gp_lambda:g}")
  ax_w.set_title("Wasserstein critics: ~|theta|", fontsize=9)
  for ax in (ax_b, ax_kl, ax_w):
    ax.set_xlabel("theta")
    ax.legend(fontsize=7)
  ax_b.set_ylabel("critic estimate (nats for JS, KL)")
  fig.suptitle("Parallel lines P0 = (0, Z) vs P_theta = (theta, Z): one "
               "critic per theta", fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=72)
  plt.close(fig)


def main(argv=None) -> Dict[str, np.ndarray]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--objectives", nargs="+",
                      default=list(common.OBJECTIVES) + ["kl", "reverse_kl",
                                                         "tv"])
  parser.add_argument("--num_thetas", type=int, default=17)
  parser.add_argument("--steps", type=int, default=1000)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--theta_steps", type=int, default=300,
                      help="generator steps of the learned-theta runs "
                      "(parallel_lines_theta.png); 0 skips them")
  parser.add_argument("--theta_lr", type=float, default=1e-2)
  parser.add_argument("--npz", action=argparse.BooleanOptionalAction,
                      default=True, help="also write parallel_lines.npz")
  args = parser.parse_args(argv)

  workdir = common.ensure_workdir(args.workdir)
  if args.theta_steps > 0:
    paths = {}
    for label, name, overrides in THETA_RUNS:
      paths[label] = learn_theta(name, jax.random.fold_in(
          jax.random.key(args.seed), 1), steps=args.theta_steps,
                                 theta_lr=args.theta_lr, overrides=overrides)
      print(f"learned theta, {label}: {paths[label][-1]:+.4f} after "
            f"{args.theta_steps} steps")
    plot_trajectories(paths, os.path.join(workdir, "parallel_lines_theta.png"))
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
  # The KL bounds again after a quarter of the steps: they keep rising.
  kl_short = {name: estimate_curve(name, thetas, jax.random.fold_in(key, 0),
                                   max(args.steps // 4, 1))
              for name in ("kl", "reverse_kl") if name in curves}
  for name, values in kl_short.items():
    print(f"{name} after {max(args.steps // 4, 1)} steps: "
          + " ".join(f"{t:+.3f}:{v:.3f}" for t, v in zip(thetas, values)))
  path = os.path.join(workdir, "parallel_lines.png")
  plot_curves(thetas, curves, path, kl_short=kl_short, steps=args.steps)
  if args.npz:
    np.savez(os.path.join(workdir, "parallel_lines.npz"), thetas=thetas,
             **curves)
  print(f"wrote {path}")
  return curves


if __name__ == "__main__":
  main()
