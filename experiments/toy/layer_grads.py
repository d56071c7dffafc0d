"""Gradient norm per layer of a deep critic: weight clipping vs penalty.

Gulrajani et al. 2017, Fig. 1b (thesis Figs. 10-11): in a deep critic (12
layers, no normalisation) trained under weight clipping, the gradient of the
critic's output with respect to each layer's input shrinks (or grows)
geometrically towards the input, layer after layer, because every clipped
layer scales it by roughly the same factor; under a gradient penalty it stays
of order 1 at every depth.

For each layer ``l`` the figure (``layer_grads.png``) shows the mean over
samples of ``||d f(x) / d h_l(x)||_2``, where ``h_0 = x`` is the critic's
input and ``h_l`` the input of dense layer ``l`` (the last one is the
input of the output layer), on a log scale. The samples are the
gradient-penalty interpolates between fresh real and fake rows, i.e. where
the penalty looks. ``h_0``'s value is the penalty's own gradient norm.

Data (each a flag): the Swiss roll of Gulrajani et al.'s toy code and seed
003's 7-component mixture, with seed 003's fake = real + ``N(0, 0.1^2)``
noise, shuffled. The critic is :class:`bdi_jax.models.Discriminator` (LeakyReLU
0.2, no dropout) with ``--n_layers`` hidden layers of width ``--hidden``.

Run: ``python -m experiments.toy.layer_grads --workdir /tmp/toy_lab``.
"""

import argparse
import functools
import os
import time
from typing import Dict, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import models
from experiments.toy import common
from experiments.toy import mixture

__all__ = ["DATASETS", "forward_with_perturbations", "layer_grad_norms",
           "critic_settings", "train_deep_critics", "plot_layer_grads",
           "main"]


def _mixture(key, n):
  return mixture.sample_mixture(key, n, n_modes=7, radius=2.0, std=0.05)


# name -> (key, n) -> [n, 2] real rows.
DATASETS = {
    "swiss_roll": mixture.sample_swiss_roll,
    "mixture": _mixture,
}


def forward_with_perturbations(params, x, perturbations, *, n_layers: int,
                               leaky_slope: float = 0.2):
  """The Discriminator's forward pass with ``perturbations[l]`` added to
  ``h_l``, the input of dense layer ``l`` (``l = n_layers``: of the output).

  With zero perturbations this is ``Discriminator.apply`` (no layer norm, no
  dropout); its gradient with respect to ``perturbations[l]`` is
  ``d f / d h_l`` in one backward pass.

  Args:
    params: the Discriminator's parameters.
    x: ``[b, d]`` inputs.
    perturbations: ``n_layers + 1`` arrays, ``[b, d]`` then ``[b, hidden]``.
    n_layers: the Discriminator's hidden layers.
    leaky_slope: its LeakyReLU slope.

  Returns:
    ``[b]`` logits.
  """
  h = x
  for i in range(n_layers):
    h = h + perturbations[i]
    layer = params[f"dense_{i}"]
    h = jax.nn.leaky_relu(h @ layer["kernel"] + layer["bias"], leaky_slope)
  h = h + perturbations[n_layers]
  return (h @ params["out"]["kernel"] + params["out"]["bias"])[..., 0]


def layer_grad_norms(params, x, *, n_layers: int, hidden: int,
                     leaky_slope: float = 0.2) -> jax.Array:
  """``[n_layers + 1]`` mean over rows of ``||d f(x) / d h_l(x)||_2``.

  Each score depends on its own row only, so the gradient of the summed
  scores with respect to a batch of perturbations holds the per-row
  gradients (as in the gradient penalty).
  """
  b = x.shape[0]
  zeros = [jnp.zeros_like(x)] + [jnp.zeros((b, hidden), x.dtype)
                                 for _ in range(n_layers)]
  grads = jax.grad(lambda ps: jnp.sum(forward_with_perturbations(
      params, x, ps, n_layers=n_layers, leaky_slope=leaky_slope)))(zeros)
  return jnp.stack([jnp.mean(jnp.linalg.norm(g, axis=-1)) for g in grads])


def critic_settings(clips: Sequence[float],
                    gp_lambda: float) -> Dict[str, tuple]:
  """``{label: (objective name, overrides)}``: one per clip, one penalty."""
  settings = {f"clip c={c:g}": ("wgan", {"clip": c}) for c in clips}
  settings[f"penalty lambda={gp_lambda:g}"] = ("wgangp",
                                               {"gp_lambda": gp_lambda})
  return settings


def train_deep_critics(datasets: Sequence[str], keys: jax.Array, *,
                       settings, steps: int, hidden: int, n_layers: int,
                       noise_std: float = 0.1, learning_rate: float = 1e-4,
                       batch_size: int = 256,
                       eval_size: int = 2048) -> Dict[str, np.ndarray]:
  """Trains one deep critic per setting, dataset and key; per-layer norms.

  Datasets and keys are ``vmap``-ed (the dataset through ``lax.switch``), so
  each setting compiles once for every run.

  Args:
    datasets: keys of :data:`DATASETS`.
    keys: ``[k]`` run keys; each gives the data stream, the critic's init
      and the measured rows, the same for every setting.
    settings: from :func:`critic_settings`.
    steps: critic updates.
    hidden: critic width.
    n_layers: hidden layers.
    noise_std: fake = real + ``N(0, noise_std^2)``, shuffled.
    learning_rate: Adam's step size (b1 0.5, b2 0.9).
    batch_size: rows per side per update.
    eval_size: fresh rows whose interpolates are measured.

  Returns:
    ``{label: [len(datasets), k, n_layers + 1] mean gradient norms}``,
    layer 0 = the input.
  """
  samplers = [DATASETS[name] for name in datasets]
  module = models.Discriminator(hidden=hidden, n_layers=n_layers,
                                input_dropout=0.0)

  def run(objective, index, key):
    sample_real = lambda k, n: jax.lax.switch(  # noqa: E731
        index, [functools.partial(f, n=n) for f in samplers], k)
    sample_batch = mixture.pair_sampler(sample_real, noise_std)
    train_key, eval_key = jax.random.split(key)
    params, _ = common.train_critic_on_pairs(
        objective, module, sample_batch, train_key, steps=steps,
        batch_size=batch_size, learning_rate=learning_rate)
    real, fake = sample_batch(eval_key, eval_size)
    eps = jax.random.uniform(jax.random.fold_in(eval_key, 1),
                             (eval_size, 1))
    x_hat = eps * real + (1.0 - eps) * fake
    return layer_grad_norms(params, x_hat, n_layers=n_layers, hidden=hidden)

  indices = jnp.arange(len(samplers))
  out = {}
  for label, (name, overrides) in settings.items():
    objective = common.make_objective(name, overrides)
    per_key = jax.vmap(lambda i, k, objective=objective: run(objective, i, k),
                       in_axes=(None, 0))
    out[label] = np.asarray(jax.jit(jax.vmap(per_key, in_axes=(0, None)))(
        indices, keys))
  return out


def plot_layer_grads(results: Dict[str, Dict[str, np.ndarray]],
                     path: str) -> None:
  """One panel per dataset: log10 gradient norm against layer."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 3.8),
                           squeeze=False)
  for ax, (dataset, norms) in zip(axes[0], results.items()):
    for label, values in norms.items():
      # float32 underflows to 0 below ~1e-38 (tiny clips): floor for the log.
      logs = np.log10(np.maximum(values, 1e-38))  # [k, layers]
      layers = np.arange(logs.shape[1])
      style = "k-o" if label.startswith("penalty") else "-o"
      line, = ax.plot(layers, logs.mean(0), style, ms=3, lw=1.2, label=label)
      if logs.shape[0] > 1:
        ax.fill_between(layers, logs.min(0), logs.max(0), alpha=0.2,
                        color=line.get_color())
    ax.axhline(0.0, color="grey", ls=":", lw=1)
    ax.set_xlabel("layer (0 = critic input)")
    ax.set_ylabel("log10 ||d f / d h_layer||")
    ax.set_title(f"{dataset.replace('_', ' ')} ({logs.shape[0]} seeds: "
                 "mean, band = min..max)", fontsize=9)
    ax.legend(fontsize=7)
  fig.suptitle("Deep critic: gradient norm per layer, clipping vs penalty",
               fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
  parser.add_argument("--clips", type=float, nargs="+",
                      default=[0.25, 0.1, 0.01],
                      help="0.25: the project's box; 0.01: seed 003's")
  parser.add_argument("--gp_lambda", type=float, default=10.0)
  parser.add_argument("--noise_std", type=float, default=0.1)
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument("--hidden", type=int, default=64)
  parser.add_argument("--n_layers", type=int, default=12)
  parser.add_argument("--learning_rate", type=float, default=1e-4)
  parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
  args = parser.parse_args(argv)

  workdir = common.ensure_workdir(args.workdir)
  settings = critic_settings(args.clips, args.gp_lambda)
  start = time.time()
  keys = jnp.stack([jax.random.key(seed) for seed in args.seeds])
  norms = train_deep_critics(
      args.datasets, keys, settings=settings, steps=args.steps,
      hidden=args.hidden, n_layers=args.n_layers, noise_std=args.noise_std,
      learning_rate=args.learning_rate)
  results = {dataset: {label: values[i] for label, values in norms.items()}
             for i, dataset in enumerate(args.datasets)}
  for dataset, by_label in results.items():
    for label, values in by_label.items():
      for seed, row in zip(args.seeds, values):
        print(f"{dataset:10s} {label:18s} seed {seed}: log10 norm by layer "
              + " ".join(f"{v:+.1f}" for v in np.log10(np.maximum(row, 1e-38)))
              + f"  (last / first {row[-1] / max(row[0], 1e-38):.3g})")
  print(f"  {time.time() - start:.1f}s")
  path = os.path.join(workdir, "layer_grads.png")
  plot_layer_grads(results, path)
  print(f"wrote {path}")
  return results


if __name__ == "__main__":
  main()
