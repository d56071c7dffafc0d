r"""The stability study: many seeds per config, success against a baseline.

  python -m experiments.stability --configs=gan_es_en,wgangp_es_en \
      --seeds=0-9 --workdir=runs/stability_es_en [--set=train.n_epochs=2]

For each pair (dataset) of the configs, the supervised ``procrustes_<pair>``
baseline runs once; then each config trains its seeds, every run of
consecutive seeds at once (vmapped; ``--seeds=0,2,5-7`` makes three runs).
A seed succeeds when its refined CSLS P@1 is at least half the baseline's
(``bdi_jax.stability``). Writes into ``--workdir``:

* ``<config>/seeds-A-B/``: each run's own outputs (``experiments.run``'s);
* ``stability.json``: per config the success rate, the failure detector's
  accuracy, mean / std / min / max of every P@k before and after refinement,
  seconds per seed, and every seed's row; the baselines;
* ``stability.md``: the same as tables, with the command, date and device;
* ``stability.png``: refined CSLS P@1 of every seed, per config (needs
  matplotlib: ``pip install -e ".[lab]"``).

``--set=FIELD=VALUE`` applies to every config (and the baselines' data,
refinement and evaluation fields alike); a typo or a wrong type stops the
command before any training. A config whose data is missing is reported and
skipped. Rerunning the command reuses every finished run of the same config
whose seeds were all requested, so an interrupted study continues where it
stopped and a study grows across calls (``--seeds=0`` today, ``--seeds=0-9``
tomorrow trains seeds 1-9 only); stability.md lists the runs it reused, with
the date and device each finished on. The report a call replaces moves to
``history/<when it was written>/``, so no call's table is lost.

Studies made with different ``--set`` (the thesis presets at a take-off
budget beside the tuned ones) become one side-by-side report without
training anything:

  python -m experiments.stability --merge=runs/tuned_es_en,runs/thesis_es_en \
      --workdir=runs/es_en_all [--configs=gan_es_en,gan_thesis_es_en,...]

Each row keeps its study's numbers; the report lists every study's command,
date and device, and refuses studies whose baselines for a pair differ.
Each row is checked against today's preset (with its study's ``--set``), and
rows whose preset changed since are named. One config's rows from studies of
equal recorded settings and different seeds pool into one row.
"""

import dataclasses
import datetime
import functools
import json
import os
import pathlib
import platform
import shlex
import sys
from typing import Any, Dict, List, Optional, Sequence

from absl import app
from absl import flags
from absl import logging
import ml_collections

from bdi_jax import errors
from bdi_jax import provenance
from bdi_jax import stability
from bdi_jax import tables
from experiments import cli
from experiments.configs import default
from experiments.configs import overrides
from experiments.configs import registry

FLAGS = flags.FLAGS


def define_flags() -> None:
  """This command's flags; defined only when it runs, since every command
  (and experiments.run) has its own ``--workdir``."""
  flags.DEFINE_list("configs", None, "Registered config names.")
  flags.DEFINE_string(
      "seeds", "0", "Seeds: ranges and lists, e.g. 0-9 or 0,2,5-7.")
  flags.DEFINE_string(
      "workdir", None, "Output folder (default: runs/stability-<date-time>).")
  flags.DEFINE_bool(
      "overwrite", False, "Rerun and replace finished runs in --workdir.")
  flags.DEFINE_integer(
      "seeds_per_run", 0, "At most this many consecutive seeds train together "
      "in one (vmapped) run; 0 = all of them. On a CPU a wide critic (the "
      "thesis presets' 2 x 2048) trains faster one seed at a time.",
      lower_bound=0)
  flags.DEFINE_multi_string(
      "set", [], "FIELD=VALUE override for every config, typed like "
      "--config.FIELD (e.g. --set=train.n_epochs=2); repeatable.")
  flags.DEFINE_list(
      "merge", None, "Train nothing: merge these earlier studies (their "
      "workdirs or stability.json files) into one report in --workdir, rows "
      "side by side, e.g. tuned and thesis presets run with different "
      "--set. --configs, if given, picks and orders the rows.")


# Fields that make a config what it is: never copied onto a baseline.
_IDENTITY_FIELDS = ("name", "method", "seed", "n_seeds")
_MISSING_PNG = ("stability.png not written: it needs matplotlib "
                "(pip install -e \".[lab]\")")


def parse_seeds(text: str) -> List[int]:
  """``"0-9"``, ``"0,2,5-7"`` -> sorted distinct seeds.

  Raises:
    app.UsageError: an item is not ``N`` or ``A-B`` with ``0 <= A <= B``, or
      a seed is listed twice.
  """
  seeds: List[int] = []
  for item in (text or "").split(","):
    item = item.strip()
    first, sep, last = item.partition("-")
    if not (first.isdigit() and (last.isdigit() if sep else True)):
      raise app.UsageError(
          f"--seeds={text}: {item!r} is not a seed N or a range A-B "
          "(e.g. --seeds=0-9 or --seeds=0,2,5-7)")
    a, b = int(first), int(last) if sep else int(first)
    if b < a:
      raise app.UsageError(f"--seeds={text}: range {item} is empty ({b} < {a})")
    seeds += range(a, b + 1)
  twice = sorted({s for s in seeds if seeds.count(s) > 1})
  if twice:
    raise app.UsageError(f"--seeds={text}: seed(s) {twice} listed twice")
  return sorted(seeds)


def consecutive_runs(seeds: Sequence[int],
                     per_run: int = 0) -> List[List[int]]:
  """Sorted seeds -> runs of consecutive seeds (``[0, 1, 2, 5]`` -> 2 runs),
  each of at most ``per_run`` seeds (0 = no limit).

  The pipeline trains ``config.seed .. config.seed + n_seeds - 1`` at once.
  """
  runs: List[List[int]] = []
  for s in seeds:
    if runs and s == runs[-1][-1] + 1 and (per_run < 1
                                           or len(runs[-1]) < per_run):
      runs[-1].append(s)
    else:
      runs.append([s])
  return runs


@dataclasses.dataclass
class Run:
  """One call of the pipeline: a config, its seeds, its own workdir."""
  name: str
  config: ml_collections.ConfigDict
  workdir: pathlib.Path
  seeds: List[int]
  reuse: bool = False  # A finished run of this exact config is there.


def _get_config(name: str) -> ml_collections.ConfigDict:
  try:
    return registry.get_config(name)
  except errors.ConfigError:
    raise
  except ValueError as e:  # An unknown name: the registry's own message.
    raise errors.ConfigError(f"--configs: {e}") from None


def _config_json(config) -> Dict[str, Any]:
  return json.loads(config.to_json())


def _flat(d, prefix=""):
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(_flat(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = v
  return out


@functools.lru_cache(maxsize=1)
def _default_fields() -> Dict[str, Any]:
  """The default config, flat; built once, not for every saved run."""
  return _flat(_config_json(default.get_config()))


def differing_fields(old: Dict[str, Any], new: Dict[str, Any]) -> List[str]:
  """Dotted fields in which a saved config.json and a config differ.

  A field the saved config lacks counts as equal when the new config holds
  its default: fields are added with the default that reproduces what runs
  did before (e.g. ``model.layer_norm_epsilon``), so a run finished before a
  field existed stays reusable until a config sets the field otherwise.
  """
  a, b = _flat(old), _flat(new)
  defaults = _default_fields()
  differ = []
  for k in sorted(set(a) | set(b)):
    if k in a and k in b:
      same = a[k] == b[k]
    elif k in b:  # Newer than the saved run.
      same = k in defaults and defaults[k] == b[k]
    else:  # A field this version no longer has.
      same = False
    if not same:
      differ.append(k)
  return differ


def _check_workdir(run: Run, overwrite: bool) -> None:
  """Marks ``run`` reusable, or refuses a finished run of another config."""
  summary, saved = run.workdir / "summary.json", run.workdir / "config.json"
  if overwrite or not summary.exists():
    return
  try:
    old = json.loads(saved.read_text())
  except (OSError, ValueError):
    old = {}
  differ = differing_fields(old, _config_json(run.config)) if old else []
  if old and not differ:
    run.reuse = True
    return
  raise errors.WorkdirError(
      f"{run.workdir} holds a finished run of another config (fields "
      f"{', '.join(differ[:5]) or 'config.json unreadable'}"
      f"{' ...' if len(differ) > 5 else ''} differ); pass --overwrite to "
      "replace it or choose another --workdir")


def _baseline_for(config, assignments: Sequence[str], cache: Dict[str, Any]):
  """(pair, baseline config) of the registered ``procrustes_*`` on the same
  data as ``config`` (after the overrides), or None."""
  shared = [a for a in assignments
            if a.partition("=")[0].strip() not in _IDENTITY_FIELDS]
  data = config.data.to_dict()
  for dataset in registry.DATASETS:
    name = f"procrustes_{dataset}"
    if name not in registry.CONFIGS:
      continue
    if name not in cache:
      cache[name] = overrides.apply_overrides(registry.get_config(name),
                                              shared)
    if cache[name].data.to_dict() == data:
      return dataset, cache[name]
  return None


def _seed_label(seeds: Sequence[int]) -> str:
  return (f"seeds-{seeds[0]}" if len(seeds) == 1
          else f"seeds-{seeds[0]}-{seeds[-1]}")


def plan(names: Sequence[str], seeds: Sequence[int],
         assignments: Sequence[str], workdir: pathlib.Path,
         overwrite: bool, seeds_per_run: int = 0):
  """Every run of the study, resolved and checked before any training.

  ``seeds_per_run`` caps how many consecutive seeds train in one run (0 = no
  cap): see the flag.

  Returns:
    (baselines, studies): ``{pair: Run}`` and ``[(name, pair, [Run])]``.
  """
  for a in assignments:
    if a.partition("=")[0].strip() in ("seed", "n_seeds"):
      raise app.UsageError(f"--set={a}: the study sets the seeds; use "
                           "--seeds (e.g. --seeds=0-9)")
  baselines: Dict[str, Run] = {}
  studies = []
  cache: Dict[str, Any] = {}
  for name in names:
    base = overrides.apply_overrides(_get_config(name), assignments)
    found = _baseline_for(base, assignments, cache)
    if found:
      pair, b = found
      baselines.setdefault(pair, Run(b.name, b, workdir / b.name, [b.seed]))
    else:
      pair = f"{base.data.src_lang}-{base.data.tgt_lang}"
    runs = [] if overwrite else _finished_runs(name, base, seeds,
                                                workdir / name)
    covered = {s for r in runs for s in r.seeds}
    for group in consecutive_runs([s for s in seeds if s not in covered],
                                  seeds_per_run):
      config = overrides.apply_overrides(
          base, [f"seed={group[0]}", f"n_seeds={len(group)}"])
      runs.append(Run(name, config, workdir / name / _seed_label(group),
                      group))
    runs.sort(key=lambda r: r.seeds[0])
    studies.append((name, pair, runs))
  for run in list(baselines.values()) + [r for *_, rs in studies for r in rs]:
    if not run.reuse:
      _check_workdir(run, overwrite)
  return baselines, studies


def _without_seeds(config_json: Dict[str, Any]) -> Dict[str, Any]:
  return {k: v for k, v in config_json.items() if k not in ("seed", "n_seeds")}


def _finished_runs(name: str, base, seeds: Sequence[int],
                   folder: pathlib.Path) -> List[Run]:
  """Finished runs in ``folder`` of ``base`` (any seeds) that cover only
  requested seeds, so that a study grows across calls: seeds 1-9 added to an
  earlier ``--seeds=0`` train as one new run, and seed 0 is reused.

  A run counts when its config equals ``base`` in every field but the seeds;
  runs are taken in seed order and never overlap.
  """
  want, todo, found = _without_seeds(_config_json(base)), set(seeds), []
  candidates = []
  for summary in folder.glob("seeds-*/summary.json"):
    try:
      old = json.loads((summary.parent / "config.json").read_text())
      first, n = int(old["seed"]), int(old["n_seeds"])
    except (OSError, ValueError, KeyError, TypeError):
      continue  # Not a run of this command; _check_workdir names clashes.
    if not differing_fields(_without_seeds(old), want):
      candidates.append((first, n, summary.parent))
  for first, n, path in sorted(candidates):
    group = list(range(first, first + n))
    if set(group) <= todo:
      config = overrides.apply_overrides(base, [f"seed={first}",
                                                f"n_seeds={n}"])
      found.append(Run(name, config, path, group, reuse=True))
      todo -= set(group)
  return found


def _execute(run: Run, overwrite: bool) -> Dict[str, Any]:
  if run.reuse:
    print(f"stability: reusing the finished run in {run.workdir}",
          file=sys.stderr, flush=True)
    return json.loads((run.workdir / "summary.json").read_text())
  print(f"stability: {run.name} ({_seed_label(run.seeds)}) -> {run.workdir}",
        file=sys.stderr, flush=True)
  from bdi_jax import pipeline  # pylint: disable=g-import-not-at-top
  return pipeline.train_and_evaluate(run.config, run.workdir,
                                     overwrite=overwrite)


def _baseline_block(run: Run, summary) -> Dict[str, Any]:
  refined = summary.get("refined") or {}
  p1 = (refined.get("csls") or {}).get("p@1")
  return {"config": run.name, "workdir": str(run.workdir),
          "supervised": summary.get("adversarial"), "refined": refined or None,
          "refined_csls_p@1": p1,
          "success_threshold": stability.success_threshold(p1),
          "wall_seconds": summary.get("wall_seconds")}


def _reused_block(run: Run, summary) -> Dict[str, Any]:
  finished = datetime.datetime.fromtimestamp(
      (run.workdir / "summary.json").stat().st_mtime, datetime.timezone.utc)
  return {"config": run.name, "workdir": str(run.workdir), "seeds": run.seeds,
          "finished": finished.strftime("%Y-%m-%d %H:%M UTC"),
          "device": summary.get("device")}


def run_study(baselines: Dict[str, Run], studies, *,
              overwrite: bool = False) -> Dict[str, Any]:
  """Runs (or reuses) every run of a :func:`plan`; returns stability.json's
  dict (without command, date and device)."""
  from bdi_jax.data import tasks  # pylint: disable=g-import-not-at-top
  blocks: Dict[str, Dict[str, Any]] = {}
  skipped: List[Dict[str, str]] = []
  reused: List[Dict[str, Any]] = []
  for pair, run in baselines.items():
    try:
      summary = _execute(run, overwrite)
      blocks[pair] = _baseline_block(run, summary)
      if run.reuse:
        reused.append(_reused_block(run, summary))
    except tasks.MissingDataError as e:
      print(f"stability: skipping pair {pair}: {e}", file=sys.stderr)
      blocks[pair] = {"config": run.name, "skipped": str(e)}

  entries = []
  for name, pair, runs in studies:
    if "skipped" in blocks.get(pair, {}):
      skipped.append({"config": name, "reason": blocks[pair]["skipped"]})
      continue
    rows = []
    try:
      for run in runs:
        summary = _execute(run, overwrite)
        if run.reuse:
          reused.append(_reused_block(run, summary))
        rows += [dict(r, workdir=str(run.workdir))
                 for r in stability.seed_rows(summary)]
    except tasks.MissingDataError as e:
      print(f"stability: skipping {name}: {e}", file=sys.stderr)
      skipped.append({"config": name, "reason": str(e)})
      continue
    threshold = (blocks[pair]["success_threshold"] if pair in blocks
                 else None)
    entry = stability.config_entry(name, runs[0].config.method, pair, rows,
                                   threshold)
    # What the rows were trained with, so that a later --merge can tell a
    # row whose preset has changed since from one that still holds.
    entry["settings"] = _without_seeds(_config_json(runs[0].config))
    entries.append(entry)
  return {"configs": entries, "baselines": blocks, "skipped": skipped,
          "reused": reused,
          "overall": stability.overall(entries),
          "success_rule": (f"refined CSLS P@1 >= {stability.SUCCESS_FRACTION}"
                           " x the refined CSLS P@1 of the pair's supervised "
                           "procrustes baseline")}


# --- reporting -------------------------------------------------------------

def _cpu_model() -> str:
  try:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith("model name"):
        return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def device_description() -> str:
  import jax  # pylint: disable=g-import-not-at-top
  devices = jax.devices()
  cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
           else os.cpu_count())
  return (f"{len(devices)} x {devices[0].platform} ({devices[0].device_kind}); "
          f"host {cores} CPU cores ({_cpu_model()}); JAX {jax.__version__}")


def _seconds(value) -> str:
  return "-" if value is None else f"{value:,.1f}"


def _one_line(text: str, limit: int = 300) -> str:
  text = " ".join(text.split())
  return text if len(text) <= limit else text[:limit - 3] + "..."


def _mean_std(stats) -> str:
  if not stats:
    return "-"
  return f"{stats['mean']:.3f} ± {stats['std']:.3f}"


def _get(block, *keys):
  for k in keys:
    block = (block or {}).get(k)
  return block


def _takeoff(block, n_seeds: int) -> str:
  """``"1,000-3,250 (9/10)"``: the range of take-off iterations and how
  many seeds took off; '-' when none did (or none was recorded)."""
  if not block:
    return "-"
  span = (f"{block['min']:,}" if block["min"] == block["max"]
          else f"{block['min']:,}-{block['max']:,}")
  return f"{span} ({block['n']}/{n_seeds})"


def _summary_table(report) -> str:
  merged = "studies" in report  # Rows of several studies: name each's.
  rows = []
  for e in report["configs"]:
    rows.append([
        *([e.get("study")] if merged else []),
        e["config"], e["pair"], e["n_seeds"],
        (f"{e['n_success']}/{e['n_seeds']}" if e["n_success"] is not None
         else "-"),
        e["success_rate"],
        _mean_std(_get(e, "adversarial", "csls", "p@1")),
        _mean_std(_get(e, "refined", "csls", "p@1")),
        e["detector_accuracy"], _takeoff(e.get("takeoff"), e["n_seeds"]),
        _seconds(_get(e, "seconds", "median")),
        _seconds(_get(e, "seconds", "max"))])
  return tables.markdown_table(
      (["study"] if merged else []) +
      ["config", "pair", "seeds", "succeeded", "success rate",
       "adversarial CSLS P@1 (mean ± std)", "refined CSLS P@1 (mean ± std)",
       "detector accuracy", "took off (iteration)", "median s / seed",
       "max s / seed"],
      rows, align=("r" if merged else "") + "llrrrllrlrr")


def _baseline_table(report) -> str:
  rows = []
  for pair, b in report["baselines"].items():
    if "skipped" in b:
      rows.append([pair, f"{b['config']} (skipped: data missing)", None, None,
                   None, "-"])
      continue
    rows.append([pair, b["config"], _get(b, "supervised", "csls", "p@1"),
                 b["refined_csls_p@1"], b["success_threshold"],
                 _seconds(b["wall_seconds"])])
  return tables.markdown_table(
      ["pair", "baseline", "supervised CSLS P@1", "refined CSLS P@1",
       "success threshold", "wall s"], rows, align="llrrrr")


def _thesis_table(entry, method: str) -> str:
  """Rows max / min / mean / std; columns P@k before and after refinement."""
  ks = list((_get(entry, "refined", method) or
             _get(entry, "adversarial", method) or {}).keys())
  header = [""] + [f"before refinement {k.upper()}" for k in ks] + [
      f"after refinement {k.upper()}" for k in ks]
  rows = [[stat] + [_get(entry, phase, method, k, stat)
                    for phase in stability.PHASES for k in ks]
          for stat in ("max", "min", "mean", "std")]
  return tables.markdown_table(header, rows)


def _seed_table(entry) -> str:
  rows = [[s["seed"], _get(s, "adversarial", "csls", "p@1"),
           _get(s, "refined", "csls", "p@1"), s.get("success"),
           s.get("predicted_success"), s.get("criterion"),
           "-" if s.get("takeoff_step") is None
           else f"{s['takeoff_step']:,}",
           _seconds(s.get("seconds"))]
          for s in entry["seeds"]]
  return tables.markdown_table(
      ["seed", "adversarial CSLS P@1", "refined CSLS P@1", "success",
       "predicted success", "criterion", "took off (iteration)", "seconds"],
      rows, align="rrrllrrr")


def format_markdown(report) -> str:
  """stability.md: the command, the summary, the baselines, per config the
  thesis-style tables and the seeds."""
  overall = report["overall"]
  lines = [
      "# Stability study", "",
      f"Command: `{report['command']}`  ",
      f"Date: {report['date']}; device: {report['device']}."
      + (f"  \nCode: {provenance.code_text(report['code'])}." if "code" in report
         else ""), "",
      f"A seed succeeds when its {report['success_rule']}. Statistics are "
      "over seeds; std is the population std (ddof=0). P@k on the test "
      "dictionary, never seen in training.", ""]
  if "studies" in report:
    lines += ["Merged from these studies (the `study` column names each "
              "row's; a row's schedule is its study's command):", ""]
    lines += [f"{s['study']}. `{s['command']}` ({s['date']}; {s['device']}"
              + (f"; {provenance.code_text(s['code'])}" if "code" in s else "")
              + f"), from `{s['source']}`" for s in report["studies"]]
    lines.append("")
  if any(_get(e, "seconds", "estimated") for e in report["configs"]):
    lines += ["Seconds per seed: the seeds of one run train together, so a "
              "run's wall time (data loading, training, refinement, outputs) "
              "is divided among its seeds.", ""]
  presets = _preset_lines(report)
  lines += ["## Summary", "", _summary_table(report), "",
            *[x for line in presets for x in (line, "")],
            f"Over all {overall['n_seeds']} seeds: success rate "
            f"{tables.format_cell(overall['success_rate'])}, detector "
            f"accuracy {tables.format_cell(overall['detector_accuracy'])} "
            "('-': no `predicted_success` in the runs).", "",
            "## Supervised baselines", "", _baseline_table(report), ""]
  for e in report["configs"]:
    study = f"; study {e['study']}" if "study" in e else ""
    lines += [f"## {e['config']} ({e['method']}, {e['pair']}, "
              f"{e['n_seeds']} seeds{study})", ""]
    for method in (e["refined"] or e["adversarial"] or {}):
      lines += [f"{method.upper()} retrieval:", "", _thesis_table(e, method),
                ""]
    lines += ["Per seed:", "", _seed_table(e), ""]
  if report.get("reused"):
    lines += ["## Runs reused from earlier calls", ""]
    lines += [f"- `{r['workdir']}`: {r['config']}, seeds "
              f"{_seed_label(r['seeds'])[len('seeds-'):]}, finished "
              f"{r['finished']} on {r['device'] or 'an unrecorded device'}"
              for r in report["reused"]]
    lines.append("")
  if report["skipped"]:
    lines += ["## Skipped", ""]
    lines += [f"- `{s['config']}`: {_one_line(s['reason'])}"
              for s in report["skipped"]]
    lines.append("")
  return "\n".join(lines)


def plot(report, path: pathlib.Path) -> bool:
  """stability.png (strip plot); False when matplotlib is not installed."""
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
  except ImportError:
    return False
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  entries = report["configs"]
  fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(entries) + 2.0), 4.5))
  colours = {True: "tab:green", False: "tab:red", None: "tab:grey"}
  for i, e in enumerate(entries):
    seeds = [s for s in e["seeds"]
             if _get(s, "refined", "csls", "p@1") is not None]
    # Evenly spread, not random: the same study always draws the same plot.
    offsets = np.linspace(-0.25, 0.25, len(seeds)) if len(seeds) > 1 else [0.0]
    for dx, s in zip(offsets, seeds):
      ax.scatter(i + dx, s["refined"]["csls"]["p@1"], s=22, zorder=3,
                 color=colours[s.get("success")])
    mean = _get(e, "refined", "csls", "p@1", "mean")
    if mean is not None:
      ax.hlines(mean, i - 0.32, i + 0.32, color="black", lw=1.2)
    if e["success_threshold"] is not None:
      ax.hlines(e["success_threshold"], i - 0.4, i + 0.4, color="tab:blue",
                lw=1, linestyles="dashed")
  ax.set_xticks(range(len(entries)))
  ax.set_xticklabels([e["config"] for e in entries], rotation=30, ha="right")
  ax.set_xlim(-0.6, len(entries) - 0.4)
  ax.set_ylim(-0.02, 1.02)
  ax.set_ylabel("refined CSLS P@1 (each dot a seed)")
  ax.set_title("dots: seeds (green: success, red: failure); black: mean;\n"
               "dashed: success threshold (half the supervised baseline)",
               fontsize=8)
  fig.text(0.01, 0.01, f"{report['date']}, {report['device']}", fontsize=6)
  fig.tight_layout(rect=(0, 0.03, 1, 1))
  fig.savefig(path, dpi=130)
  plt.close(fig)
  return True


REPORT_FILES = ("stability.json", "stability.md", "stability.png")


def keep_earlier_report(workdir: pathlib.Path) -> Optional[pathlib.Path]:
  """Moves the report about to be replaced into ``workdir/history/<when>/``.

  A later call may report other configs than an earlier one; moving (not
  deleting) the earlier files means no call's table is ever lost. ``<when>``
  is the time the earlier report was written. Returns that folder, or None
  when there was no report.
  """
  found = [workdir / n for n in REPORT_FILES if (workdir / n).is_file()]
  if not found:
    return None
  written = max(p.stat().st_mtime for p in found)
  stamp = datetime.datetime.fromtimestamp(written).strftime("%Y%m%d-%H%M%S")
  folder, n = workdir / "history" / stamp, 1
  while folder.exists():
    folder, n = workdir / "history" / f"{stamp}-{n}", n + 1
  folder.mkdir(parents=True)
  for path in found:
    os.replace(path, folder / path.name)
  return folder


def write_outputs(report, workdir: pathlib.Path) -> None:
  """Writes stability.json/md/png; an earlier report moves to history/."""
  from bdi_jax import outputs  # pylint: disable=g-import-not-at-top
  kept = keep_earlier_report(workdir)
  if kept is not None:
    print(f"stability: the earlier report is kept in {kept}",
          file=sys.stderr)
  outputs.write_json(workdir / "stability.json", report)
  outputs.atomic_write_bytes(workdir / "stability.md",
                             format_markdown(report).encode("utf-8"))
  if not plot(report, workdir / "stability.png"):
    print(_MISSING_PNG, file=sys.stderr)


def read_report(path: pathlib.Path) -> Dict[str, Any]:
  """A study's stability.json (``path`` or ``path/stability.json``).

  Raises:
    FileNotFoundError: there is none.
    errors.DataError: it is not JSON, or not a study's report; names the
      file (and line).
  """
  path = pathlib.Path(path)
  if path.is_dir():
    path = path / "stability.json"
  if not path.is_file():
    raise FileNotFoundError(f"{path}: no such study report (give a study's "
                            "workdir or its stability.json)")
  try:
    report = json.loads(path.read_text(encoding="utf-8"))
  except json.JSONDecodeError as e:
    raise errors.DataError(f"{path}, line {e.lineno}: not valid JSON "
                           f"({e.msg})") from e
  except UnicodeDecodeError as e:
    raise errors.DataError(f"{path}: not UTF-8 text ({e.reason})") from e
  if not (isinstance(report, dict) and isinstance(report.get("configs"), list)
          and isinstance(report.get("baselines"), dict)):
    raise errors.DataError(f"{path}: not a stability study's report (no "
                           "'configs' list and 'baselines' map)")
  return report


def merge_main(names: Sequence[str], sources: Sequence[str],
               workdir: pathlib.Path) -> Dict[str, Any]:
  """``--merge``: one report from earlier studies; returns it."""
  for flag in ("seeds", "set", "seeds_per_run", "overwrite"):
    if FLAGS[flag].present:
      raise app.UsageError(f"--{flag} trains; --merge only reads finished "
                           "studies")
  reports = [(str(s), read_report(pathlib.Path(s))) for s in sources]
  target = workdir / "stability.json"
  if target.exists():
    # A merge may be redone; a study's own report is never replaced.
    if "studies" not in read_report(target):
      raise errors.WorkdirError(
          f"{target} is a study's own report; --merge writes a new one, so "
          "give another --workdir")
  report = {
      "command": "python -m experiments.stability " + shlex.join(sys.argv[1:]),
      "date": datetime.date.today().isoformat(),
      "device": "; ".join(dict.fromkeys(r.get("device") or "unrecorded"
                                        for _, r in reports)),
  }
  report.update(stability.merge_reports(reports, names))
  _check_presets(report, reports)
  for line in _preset_lines(report):
    if not line.startswith("Every"):
      print(f"stability: {line}", file=sys.stderr)
  workdir.mkdir(parents=True, exist_ok=True)
  write_outputs(report, workdir)
  return report


def preset_check(name: str, settings: Optional[Dict[str, Any]],
                 assignments: Optional[Sequence[str]]) -> Dict[str, Any]:
  """Whether a report's row still describes preset ``name`` today.

  Args:
    name: the row's config.
    settings: the config its runs trained with, without the seeds (the
      row's ``settings``); None for a report made before rows recorded it.
    assignments: its study's ``--set`` overrides (the report's
      ``overrides``); None when the report did not record them.

  Returns:
    ``{"status": "same" | "changed" | "unrecorded" | "unregistered"}``, with
    ``fields`` (the dotted fields that differ) when changed.
  """
  if settings is None or assignments is None:
    return {"status": "unrecorded"}
  if name not in registry.CONFIGS:
    return {"status": "unregistered"}
  now = overrides.apply_overrides(registry.get_config(name), assignments)
  differ = differing_fields(settings, _without_seeds(_config_json(now)))
  return ({"status": "changed", "fields": differ} if differ
          else {"status": "same"})


def _check_presets(report, reports) -> None:
  """Marks each merged row with :func:`preset_check` (``preset``)."""
  for e in report["configs"]:
    # Pooled rows share their settings; the first study's --set rebuilds them.
    source = reports[e.get("pooled_from", [e["study"]])[0] - 1][1]
    e["preset"] = preset_check(e["config"], e.get("settings"),
                               source.get("overrides"))


def _preset_lines(report) -> List[str]:
  """stability.md's note on merged rows whose preset changed since."""
  by_status: Dict[str, List[str]] = {}
  for e in report["configs"]:
    status = (e.get("preset") or {}).get("status")
    if status == "changed":
      fields = e["preset"]["fields"]
      by_status.setdefault(status, []).append(
          f"`{e['config']}` ({', '.join(fields[:6])}"
          f"{' ...' if len(fields) > 6 else ''})")
    elif status in ("unrecorded", "unregistered"):
      by_status.setdefault(status, []).append(f"`{e['config']}`")
  lines = []
  if "changed" in by_status:
    lines.append("Rows whose preset has changed since their study (its "
                 "figures are not today's preset's): "
                 + "; ".join(by_status["changed"]) + ".")
  if "unregistered" in by_status:
    lines.append("Rows whose preset is no longer registered: "
                 + ", ".join(by_status["unregistered"]) + ".")
  if "unrecorded" in by_status:
    lines.append("Rows from studies that did not record their settings, so "
                 "not checked against today's presets: "
                 + ", ".join(by_status["unrecorded"]) + ".")
  if not lines and any("preset" in e for e in report["configs"]):
    lines.append("Every row's preset is as its study ran it.")
  return lines


def _note_dropped_rows(path: pathlib.Path, report) -> None:
  """Says which configs of the report being replaced this one leaves out:
  their runs stay in the workdir, and naming them again reports them."""
  try:
    old = read_report(path)
  except (OSError, errors.DataError):
    return  # No earlier report (or not one of ours): nothing to say.
  def rows(r):
    return [e["config"] for k in ("configs", "skipped") for e in r.get(k) or []]
  dropped = [n for n in rows(old) if n not in rows(report)]
  if dropped:
    print(f"stability: {path} no longer reports {', '.join(dropped)} (an "
          "earlier call's configs); their runs are kept: add them to "
          "--configs to report them again, or --merge the earlier report "
          "from history/", file=sys.stderr)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  names = FLAGS.configs
  if names and len(set(names)) < len(names):
    twice = sorted({n for n in names if names.count(n) > 1})
    raise app.UsageError(f"--configs: {', '.join(twice)} listed twice")
  if FLAGS.merge:
    if not FLAGS.workdir:
      raise app.UsageError("--merge needs --workdir (where the merged "
                           "stability.json/md/png go)")
    report = merge_main(names, FLAGS.merge, pathlib.Path(FLAGS.workdir))
    print(_summary_table(report))
    print(f"outputs in {FLAGS.workdir} (stability.json, stability.md, "
          "stability.png)")
    return
  if not names:
    raise app.UsageError("--configs is required, e.g. --configs=gan_es_en,"
                         "wgangp_es_en (see python -m experiments.run "
                         "--list_configs)")
  seeds = parse_seeds(FLAGS.seeds)
  workdir = pathlib.Path(FLAGS.workdir or (
      "runs/stability-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
  # Every config, override and workdir is checked before any training.
  planned = plan(names, seeds, FLAGS.set, workdir, FLAGS.overwrite,
                 FLAGS.seeds_per_run)
  report = {
      "command": "python -m experiments.stability " + shlex.join(sys.argv[1:]),
      "date": datetime.date.today().isoformat(),
      "device": device_description(),
      "code": provenance.code_version(),
      "overrides": list(FLAGS.set),
  }
  cli.enable_compilation_cache()
  report.update(run_study(*planned, overwrite=FLAGS.overwrite))
  workdir.mkdir(parents=True, exist_ok=True)
  _note_dropped_rows(workdir / "stability.json", report)
  write_outputs(report, workdir)
  print(_summary_table(report))
  print(f"outputs in {workdir} (stability.json, stability.md, stability.png)")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
