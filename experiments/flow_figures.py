r"""Figures of the flow experiments from finished runs (docs/figures/flow_*).

  python -m experiments.flow_figures --runs=RUNS_DIR --out=docs/figures

``RUNS_DIR`` holds one workdir per config, named as the config (as written
by ``python -m experiments.flows --config=NAME --workdir=RUNS_DIR/NAME``).
Figures whose runs are missing are skipped with a line saying so. Plots use
seed index 0 of each run (the first seed of its ``--seeds``).
"""

import json
import pathlib

from absl import flags
import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from experiments import cli
from experiments.flow_configs import registry

_RUNS = flags.DEFINE_string("runs", "runs/flows", "Folder of the workdirs.")
_OUT = flags.DEFINE_string("out", "docs/figures", "Where the PNGs go.")
_TABLE = flags.DEFINE_bool(
    "table", False, "Print the Markdown tables (ours next to the thesis's) "
    "instead of drawing.")


def _pm(stats, fmt="{:.2f}"):
  if len(stats["values"]) == 1:
    return fmt.format(stats["mean"])
  return f"{fmt.format(stats['mean'])} ± {fmt.format(stats['std'])}"


def _num(x):
  if x == 0:
    return "-"
  return f"{x:.3g}" if abs(x) >= 1e5 else f"{x:g}"


def table(dataset: str) -> str:
  """Markdown rows for every finished run of ``dataset`` (config suffix)."""
  root = pathlib.Path(_RUNS.value)
  lines = ["| config | epochs | seeds | NLL (ours) | NLL (thesis) | "
           "ours / thesis | critic loss (ours / thesis) | dominant per seed "
           "(weights > 0.05) / thesis |", "|---|---|---|---|---|---|---|---|"]
  for name in sorted(registry.CONFIGS):
    if not name.endswith("_" + dataset):
      continue
    path = root / name / "summary.json"
    if not path.exists():
      continue
    s = json.loads(path.read_text())
    t = s["thesis"]
    per_image = dataset == "digits"
    nll = s["nll_per_row"] if per_image else s["nll_batch_sum"]
    ours = _pm(nll)
    if per_image:
      ours += f" / test {_pm(s['test_nll_per_row'])}"
    thesis = _num(t["nll"]) + (f" / test {_num(t['test_nll'])}"
                               if per_image and t["nll"] else "")
    # Digits (8x8, not MNIST) and the thesis's MNIST share no scale.
    ratio = (f"{nll['mean'] / t['nll']:.3f}" if t["nll"] and not per_image
             else "-")
    critic = (f"{_pm(s['critic_loss'], '{:.3f}')} / {_num(t['critic_loss'])}"
              if "critic_loss" in s else "-")
    dominant = " ".join(str(int(v)) for v in s["dominant_components"]["values"])
    above = " ".join(str(int(np.sum(np.asarray(w) > 0.05)))
                     for w in s["final_weights"])
    pre = f" (+{s['pretrain_epochs']} ML)" if s["pretrain_epochs"] and (
        "critic_loss" in s) else ""
    seeds = s["seeds"]
    seed_text = (f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 and seeds == list(
        range(seeds[0], seeds[-1] + 1)) else ",".join(map(str, seeds)))
    lines.append(f"| `{name}` | {s['epochs']}{pre} | {seed_text} | {ours} | "
                 f"{thesis} | {ratio} | {critic} | {dominant} ({above}) / "
                 f"{t['dominant'] or '-'} |")
  return "\n".join(lines)


def load_run(workdir: pathlib.Path):
  """``(config, spec, state of seed index 0, curves)`` of a finished run."""
  from bdi_jax.flows import datasets  # pylint: disable=g-import-not-at-top
  from bdi_jax.flows import experiment  # pylint: disable=g-import-not-at-top
  saved = json.loads((workdir / "config.json").read_text())
  config = registry.base_config()
  fields = dict(saved["config"])
  config.thesis = ml_collections.ConfigDict(fields.pop("thesis"))
  config.update(fields)
  data = datasets.load(config.dataset)
  spec = experiment.make_spec(config, data)
  states, _ = experiment.init_states(spec, saved["seeds"])
  template = {"flow": states.flow, "logits": states.logits,
              "critic": states.critic}
  params = flax.serialization.from_bytes(
      template, (workdir / "params.msgpack").read_bytes())
  first = jax.tree.map(lambda p: p[0], params)
  curves = dict(np.load(workdir / "curves.npz"))
  return config, spec, data, first, curves


def _grid(lim, n=200):
  g = np.linspace(-lim, lim, n)
  xx, yy = np.meshgrid(g, g)
  return xx, yy, np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def _contour_and_samples(ax, spec, data, params, title, lim):
  from bdi_jax.flows import mixflow  # pylint: disable=g-import-not-at-top
  xx, yy, pts = _grid(lim)
  lp = np.asarray(mixflow.log_prob(params["flow"], params["logits"], pts,
                                   spec.flow.base)).reshape(xx.shape)
  ax.contourf(xx, yy, np.maximum(lp, -15), levels=30, cmap="Greys")
  real = np.asarray(data.sampler(jax.random.key(99), 600, data.train))
  ax.scatter(real[:, 0], real[:, 1], s=2, c="black", alpha=0.35,
             label="data")
  x, c = mixflow.sample(params["flow"], params["logits"], jax.random.key(7),
                        600, spec.flow.base)
  x, c = np.asarray(x), np.asarray(c)
  ax.scatter(x[:, 0], x[:, 1], s=3, c=c, cmap="tab10", vmin=0, vmax=9)
  ax.set_xlim(-lim, lim)
  ax.set_ylim(-lim, lim)
  ax.set_title(title, fontsize=9)
  ax.set_aspect("equal")


def _critic_surface(ax, spec, params, title, lim):
  from bdi_jax.flows import train  # pylint: disable=g-import-not-at-top
  xx, yy, pts = _grid(lim)
  critic = train.make_critic(spec, params["flow"], params["logits"])
  f = np.asarray(critic(params["critic"], jnp.asarray(pts))[0])
  im = ax.contourf(xx, yy, f.reshape(xx.shape), levels=30, cmap="viridis")
  ax.figure.colorbar(im, ax=ax, fraction=0.046)
  ax.set_title(title, fontsize=9)
  ax.set_aspect("equal")


def _runs(names):
  root = pathlib.Path(_RUNS.value)
  found = {n: root / n for n in names if (root / n / "summary.json").exists()}
  missing = sorted(set(names) - set(found))
  if missing:
    print(f"skipped (no finished run): {', '.join(missing)}")
  return found


def panel_figure(names_titles, path, lim, kind="contour"):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  runs = _runs([n for n, _ in names_titles])
  items = [(n, t) for n, t in names_titles if n in runs]
  if not items:
    return
  fig, axes = plt.subplots(1, len(items), figsize=(4 * len(items), 4))
  for ax, (name, title) in zip(np.atleast_1d(axes), items):
    _, spec, data, params, _ = load_run(runs[name])
    if kind == "contour":
      _contour_and_samples(ax, spec, data, params, title, lim)
    else:
      _critic_surface(ax, spec, params, title, lim)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)
  print(f"wrote {path}")


def curve_figure(names_titles, path, truth=None):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  runs = _runs([n for n, _ in names_titles])
  fig, ax = plt.subplots(figsize=(6, 4))
  for name, title in names_titles:
    if name not in runs:
      continue
    nll = np.load(runs[name] / "curves.npz")["nll_sum"]  # [seeds, epochs]
    window = 50
    smooth = nll[:, : nll.shape[1] // window * window].reshape(
        nll.shape[0], -1, window).mean(-1)
    epochs = (np.arange(smooth.shape[1]) + 1) * window
    mean, std = smooth.mean(0), smooth.std(0)
    ax.plot(epochs, mean, label=f"{title} ({nll.shape[0]} seeds)")
    ax.fill_between(epochs, mean - std, mean + std, alpha=0.25)
  if truth is not None:
    ax.axhline(truth, color="k", ls="--", lw=1,
               label=f"true GMM, same batches ({truth:.0f})")
  ax.set_yscale("log")
  ax.set_xlabel("epoch")
  ax.set_ylabel("NLL, sum over a batch of 300")
  ax.set_title("NLL per epoch (mean of 50 epochs), mean +- std over seeds",
               fontsize=9)
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)
  print(f"wrote {path}")


def digits_figure(names_titles, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  from bdi_jax.flows import mixflow  # pylint: disable=g-import-not-at-top
  runs = _runs([n for n, _ in names_titles])
  items = [(n, t) for n, t in names_titles if n in runs]
  if not items:
    return
  fig, axes = plt.subplots(len(items), 1, figsize=(10, 1.3 * len(items)))
  for ax, (name, title) in zip(np.atleast_1d(axes), items):
    _, spec, _, params, _ = load_run(runs[name])
    x, _ = mixflow.sample(params["flow"], params["logits"], jax.random.key(3),
                          12, spec.flow.base)
    imgs = np.clip(np.asarray(x).reshape(12, 8, 8), 0, 1)
    ax.imshow(np.concatenate(list(imgs), axis=1), cmap="gray_r", vmin=0,
              vmax=1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)
  print(f"wrote {path}")


def main(argv):
  del argv
  if _TABLE.value:
    for dataset in ("gmm", "swissroll", "digits"):
      print(f"\n### {dataset}\n\n{table(dataset)}")
    return
  out = pathlib.Path(_OUT.value)
  out.mkdir(parents=True, exist_ok=True)
  truth = None
  gmm = _runs(["mle_mixflow_gmm"])
  if gmm:
    s = json.loads((gmm["mle_mixflow_gmm"] / "summary.json").read_text())
    truth = s["reference_nll_batch_sum"]["mean"]
  panel_figure([("mle_single_gmm", "ML, single flow"),
                ("mle_mixflow_gmm", "ML, Mixflow (colour: component)")],
               out / "flow_gmm_ml.png", 7.5)
  curve_figure([("mle_single_gmm", "ML single flow"),
                ("mle_mixflow_gmm", "ML Mixflow"),
                ("gan_ml_single_gmm", "GAN+ML single flow"),
                ("gan_ml_mixflow_gmm", "GAN+ML Mixflow"),
                ("pgan_gmm", "PGAN")],
               out / "flow_gmm_curves.png", truth)
  panel_figure([("gan_single_gmm", "GAN, single flow"),
                ("gan_ml_single_gmm", "GAN+ML, single flow")],
               out / "flow_gmm_gan.png", 7.5)
  panel_figure([("mle_single_swissroll", "ML, single flow"),
                ("mle_mixflow_swissroll", "ML, Mixflow"),
                ("pgan_swissroll", "PGAN")],
               out / "flow_swissroll.png", 9.0)
  panel_figure([("gan_ml_mixflow_swissroll", "single critic (Mixflow GAN+ML)"),
                ("pgan_swissroll", "PGAN posterior-mixed critic")],
               out / "flow_swissroll_critics.png", 9.0, kind="critic")
  digits_figure([(f"{m}_digits", m) for m in
                 ("mle_single", "gan_single", "gan_ml_single", "mle_mixflow",
                  "gan_ml_mixflow")], out / "flow_digits.png")


if __name__ == "__main__":
  cli.run(main)
