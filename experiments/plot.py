r"""Plots of finished (or running) runs, from their ``metrics.jsonl``.

  python -m experiments.plot --workdir=runs/gan_es_en
  python -m experiments.plot --workdir=runs/a,runs/b --output_dir=plots
  python -m experiments.plot runs/a runs/b --output_dir=plots

Writes PNGs (one line per run and seed):

* ``training.png``: the unsupervised criterion and P@1 (CSLS solid, NN dashed)
  per epoch of adversarial training;
* ``losses.png``: each loss per logged chunk (or per epoch in older runs);
* ``refinement.png``: the criterion and P@1 per refinement round.

Needs matplotlib (the ``lab`` extra: ``pip install -e ".[lab]"``).
"""

import json
import math
import pathlib
from typing import Any, Dict, List, Sequence, Tuple

from absl import app
from absl import flags

from bdi_jax import errors
from experiments import cli

FLAGS = flags.FLAGS
MISSING_MATPLOTLIB = (
    "plotting needs matplotlib, which comes with the `lab` extra: "
    "pip install -e \".[lab]\" (or: pip install matplotlib)")
# Keys of a metrics line that are not a loss.
_NOT_LOSSES = frozenset({
    "phase", "epoch", "seed", "step", "round", "criterion", "precision",
    "map_lr", "dis_lr", "seconds", "samples_per_s", "dictionary_size",
    "message"})


def define_flags() -> None:
  """This command's flags; defined only when it runs, since every command
  (and experiments.run) has its own ``--workdir``."""
  flags.DEFINE_list("workdir", [], "Run folder(s); also as arguments.")
  flags.DEFINE_string("output_dir", None, "Where to write the PNGs (default: "
                      "the workdir; required with several).")


def read_metrics(workdir) -> List[Dict[str, Any]]:
  """The lines of ``<workdir>/metrics.jsonl`` (non-finite values as NaN).

  Raises:
    WorkdirError: no such file, or a line that is not JSON.
  """
  path = pathlib.Path(workdir) / "metrics.jsonl"
  if not pathlib.Path(workdir).is_dir():
    raise errors.WorkdirError(
        f"{workdir}: no such folder; give the --workdir of a run")
  if not path.is_file():
    raise errors.WorkdirError(
        f"{workdir}: no metrics.jsonl, so not a bdi-jax run folder (or the "
        "run has not logged yet)")
  lines = []
  with open(path, encoding="utf-8") as f:
    for number, text in enumerate(f, start=1):
      if not text.strip():
        continue
      try:
        lines.append(json.loads(text))
      except ValueError as e:
        if number > 1 and not text.endswith("\n"):
          break  # A line being written by a running job.
        raise errors.WorkdirError(f"{path}:{number}: not JSON ({e})") from None
  return lines


def _number(x) -> float:
  return float("nan") if x is None else float(x)


def _p1(line, method) -> float:
  precision = line.get("precision") or {}
  return _number((precision.get(method) or {}).get("p@1"))


def _series(lines, phase, x_key) -> Dict[Any, List[Dict[str, Any]]]:
  """Lines of one phase grouped by seed, sorted by ``x_key``."""
  out: Dict[Any, List[Dict[str, Any]]] = {}
  for line in lines:
    if line.get("phase") == phase and x_key in line:
      out.setdefault(line.get("seed"), []).append(line)
  for seed in out:
    out[seed].sort(key=lambda l: l[x_key])
  return out


def _label(run: str, seed, several_runs: bool) -> str:
  seed_text = "" if seed is None else f"seed {seed}"
  if not several_runs:
    return seed_text or run
  return f"{run} {seed_text}".strip()


def _loss_keys(lines) -> List[str]:
  keys: List[str] = []
  for line in lines:
    for k, v in line.items():
      if (k not in _NOT_LOSSES and k not in keys and
          isinstance(v, (int, float)) and not isinstance(v, bool)):
        keys.append(k)
  return keys


def _figure_training(plt, runs, several):
  if not any(l.get("phase") == "adversarial" for _, ls in runs for l in ls):
    return None  # A supervised run: no epochs.
  fig, (ax_c, ax_p) = plt.subplots(1, 2, figsize=(11, 4))
  any_p1 = False
  for run, lines in runs:
    for seed, series in _series(lines, "adversarial", "epoch").items():
      x = [l["epoch"] for l in series]
      label = _label(run, seed, several)
      (line,) = ax_c.plot(x, [_number(l.get("criterion")) for l in series],
                          marker="o", label=label)
      csls = [_p1(l, "csls") for l in series]
      nn = [_p1(l, "nn") for l in series]
      if any(math.isfinite(v) for v in csls + nn):
        any_p1 = True
        ax_p.plot(x, csls, marker="o", color=line.get_color(),
                  label=f"{label} CSLS".strip())
        ax_p.plot(x, nn, linestyle="--", color=line.get_color(),
                  label=f"{label} NN".strip())
  ax_c.set(title="criterion (mean CSLS cosine) per epoch", xlabel="epoch",
           ylabel="criterion")
  ax_p.set(title="P@1 per epoch", xlabel="epoch", ylabel="P@1",
           ylim=(0, 1))
  if not any_p1:
    ax_p.text(0.5, 0.5, "no test dictionary", ha="center",
              transform=ax_p.transAxes)
  for ax in (ax_c, ax_p):
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
      ax.legend(fontsize="small")
  return fig


def _figure_losses(plt, runs, several):
  per_chunk = any(l.get("phase") == "chunk" for _, ls in runs for l in ls)
  phase, x_key = ("chunk", "step") if per_chunk else ("adversarial", "epoch")
  keys = _loss_keys(l for _, ls in runs for l in ls if l.get("phase") == phase)
  if not keys:
    return None
  cols = min(3, len(keys))
  rows = -(-len(keys) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows),
                           squeeze=False)
  for ax, key in zip(axes.flat, keys):
    for run, lines in runs:
      for seed, series in _series(lines, phase, x_key).items():
        ax.plot([l[x_key] for l in series],
                [_number(l.get(key)) for l in series],
                label=_label(run, seed, several), linewidth=1)
    ax.set(title=key, xlabel="iteration" if per_chunk else "epoch")
    ax.grid(alpha=0.3)
  for ax in list(axes.flat)[len(keys):]:
    ax.set_visible(False)
  handles, labels = axes.flat[0].get_legend_handles_labels()
  if handles:
    axes.flat[0].legend(handles, labels, fontsize="small")
  fig.suptitle("losses and measurements per chunk" if per_chunk else
               "losses per epoch (mean)")
  return fig


def _figure_refinement(plt, runs, several):
  if not any(l.get("phase") == "refinement" for _, ls in runs for l in ls):
    return None
  fig, (ax_c, ax_p) = plt.subplots(1, 2, figsize=(11, 4))
  for run, lines in runs:
    for seed, series in _series(lines, "refinement", "round").items():
      x = [l["round"] for l in series]
      label = _label(run, seed, several)
      (line,) = ax_c.plot(x, [_number(l.get("criterion")) for l in series],
                          marker="o", label=label)
      ax_p.plot(x, [_p1(l, "csls") for l in series], marker="o",
                color=line.get_color(), label=f"{label} CSLS".strip())
      ax_p.plot(x, [_p1(l, "nn") for l in series], linestyle="--",
                color=line.get_color(), label=f"{label} NN".strip())
  ax_c.set(title="criterion per refinement round", xlabel="round",
           ylabel="criterion")
  ax_p.set(title="P@1 per refinement round", xlabel="round", ylabel="P@1",
           ylim=(0, 1))
  for ax in (ax_c, ax_p):
    ax.grid(alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    if ax.get_legend_handles_labels()[0]:
      ax.legend(fontsize="small")
  return fig


FIGURES = {
    "training.png": _figure_training,
    "losses.png": _figure_losses,
    "refinement.png": _figure_refinement,
}


def plot(workdirs: Sequence, output_dir) -> List[pathlib.Path]:
  """Writes the PNGs of one or more runs; returns the paths written.

  Raises:
    ImportError: matplotlib is missing.
    WorkdirError: a workdir without readable metrics.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")  # Files only; no display needed.
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  runs: List[Tuple[str, List[Dict[str, Any]]]] = []
  for workdir in workdirs:
    lines = read_metrics(workdir)
    if not lines:
      raise errors.WorkdirError(f"{workdir}/metrics.jsonl is empty")
    runs.append((pathlib.Path(workdir).name, lines))
  several = len(runs) > 1
  output_dir = pathlib.Path(output_dir)
  output_dir.mkdir(parents=True, exist_ok=True)
  written = []
  for name, make in FIGURES.items():
    fig = make(plt, runs, several)  # None: nothing of that kind logged.
    if fig is None:
      continue
    fig.tight_layout()
    fig.savefig(output_dir / name, dpi=110)
    plt.close(fig)
    written.append(output_dir / name)
  if not written:
    raise errors.WorkdirError(
        f"nothing to plot in {', '.join(map(str, workdirs))}: no adversarial, "
        "chunk or refinement lines in metrics.jsonl")
  return written


def main(argv):
  try:  # Before any work: a missing extra is the first thing to say.
    import matplotlib  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    cli.fail(MISSING_MATPLOTLIB)
  workdirs = list(FLAGS.workdir) + list(argv[1:])
  if not workdirs:
    raise app.UsageError("give the run folder(s): --workdir=DIR[,DIR...] or "
                         "DIR [DIR ...]")
  if len(workdirs) > 1 and not FLAGS.output_dir:
    raise app.UsageError("--output_dir is required with several workdirs")
  for path in plot(workdirs, FLAGS.output_dir or workdirs[0]):
    print(path)


if __name__ == "__main__":
  define_flags()
  cli.run(main)
