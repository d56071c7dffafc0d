"""Running a planned stability study: the baselines, then every config's runs.

Each run trains (or is reused) through ``bdi_jax.pipeline``; the per-seed
rows it returns become the report's statistics (``bdi_jax.study_stats``).
The study's folder is locked for the whole study (:func:`lock_study`).
"""

import datetime
import json
import os
import pathlib
import platform
import sys
from typing import Any, Dict, List

from bdi_jax import errors
from bdi_jax import study_stats
from bdi_jax import workdir_lock
from experiments.stability import plan as plan_lib

__all__ = ["lock_study", "run_study", "device_description"]


def lock_study(workdir: pathlib.Path) -> workdir_lock.Lock:
  """Takes the lock of a study's ``--workdir`` (``<workdir>.lock`` beside it).

  Held for the whole study (or merge), so that a second study, a merge, a
  run or an export writing the same folder is refused at once, naming this
  process. Each run under it locks its own workdir
  (``<workdir>/<config>/seeds-A-B.lock``, ``<workdir>/procrustes_<pair>.lock``):
  other files, so the two never conflict.

  Raises:
    WorkdirError: ``workdir`` is a file, or another live process holds it.
  """
  workdir = pathlib.Path(workdir)
  if workdir.exists() and not workdir.is_dir():
    raise errors.WorkdirError(f"--workdir {workdir} is a file, not a folder; "
                              "choose another --workdir")
  if workdir.name in ("", ".", ".."):  # E.g. ".": its lock needs a name.
    workdir = pathlib.Path(os.path.abspath(workdir))
  lock = workdir_lock.acquire(workdir)
  if lock.note:
    print(lock.note, file=sys.stderr, flush=True)
  return lock


def _execute(run: plan_lib.Run, overwrite: bool) -> Dict[str, Any]:
  if run.reuse:
    print(f"stability: reusing the finished run in {run.workdir}",
          file=sys.stderr, flush=True)
    return json.loads((run.workdir / "summary.json").read_text())
  print(f"stability: {run.name} ({plan_lib.seed_label(run.seeds)}) -> "
        f"{run.workdir}", file=sys.stderr, flush=True)
  from bdi_jax import pipeline  # pylint: disable=g-import-not-at-top
  return pipeline.train_and_evaluate(run.config, run.workdir,
                                     overwrite=overwrite)


def _baseline_block(run: plan_lib.Run, summary) -> Dict[str, Any]:
  refined = summary.get("refined") or {}
  p1 = (refined.get("csls") or {}).get("p@1")
  return {"config": run.name, "workdir": str(run.workdir),
          "supervised": summary.get("adversarial"), "refined": refined or None,
          "refined_csls_p@1": p1,
          "success_threshold": study_stats.success_threshold(p1),
          "wall_seconds": summary.get("wall_seconds")}


def _reused_block(run: plan_lib.Run, summary) -> Dict[str, Any]:
  finished = datetime.datetime.fromtimestamp(
      (run.workdir / "summary.json").stat().st_mtime, datetime.timezone.utc)
  return {"config": run.name, "workdir": str(run.workdir), "seeds": run.seeds,
          "finished": finished.strftime("%Y-%m-%d %H:%M UTC"),
          "device": summary.get("device")}


def run_study(baselines: Dict[str, plan_lib.Run], studies, *,
              overwrite: bool = False) -> Dict[str, Any]:
  """Runs (or reuses) every run of a :func:`plan_lib.plan`; returns
  stability.json's dict (without command, date and device)."""
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
                 for r in study_stats.seed_rows(summary)]
    except tasks.MissingDataError as e:
      print(f"stability: skipping {name}: {e}", file=sys.stderr)
      skipped.append({"config": name, "reason": str(e)})
      continue
    threshold = (blocks[pair]["success_threshold"] if pair in blocks
                 else None)
    entry = study_stats.config_entry(name, runs[0].config.method, pair, rows,
                                     threshold)
    # What the rows were trained with, so that a later --merge can tell a
    # row whose preset has changed since from one that still holds.
    entry["settings"] = plan_lib.without_seeds(
        plan_lib.config_json(runs[0].config))
    entries.append(entry)
  return {"configs": entries, "baselines": blocks, "skipped": skipped,
          "reused": reused,
          "overall": study_stats.overall(entries),
          "success_rule": (f"refined CSLS P@1 >= "
                           f"{study_stats.SUCCESS_FRACTION}"
                           " x the refined CSLS P@1 of the pair's supervised "
                           "procrustes baseline")}


def _cpu_model() -> str:
  try:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith("model name"):
        return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def device_description() -> str:
  """The accelerators, the host's CPU cores and the JAX version, in words."""
  import jax  # pylint: disable=g-import-not-at-top
  devices = jax.devices()
  cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
           else os.cpu_count())
  return (f"{len(devices)} x {devices[0].platform} ({devices[0].device_kind}); "
          f"host {cores} CPU cores ({_cpu_model()}); JAX {jax.__version__}")
