"""Wall time of a whole experiment, run exactly as a user would run it.

``python -m experiments.run --config=NAME --config.n_seeds=N --workdir=TMP``
in a subprocess, so the figure includes start-up, data loading, compilation,
every epoch's evaluation, the refinement and the written dictionary; P@1 is
read from the run's ``summary.json``.
"""

import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence

from benchmarks.isolated import REPO_ROOT
from bdi_jax import paths
from experiments.configs import registry

__all__ = ["missing_files", "run_experiment", "add_vs_one_seed"]


def missing_files(config_name: str, root: pathlib.Path) -> list:
  """Data files the config names that are not under ``root``."""
  data = registry.get_config(config_name).data
  if data.kind != "files":
    return []
  named = (data.src_emb, data.tgt_emb, data.test_dict, data.train_dict)
  return [str(p) for p in (paths.resolve(v, root) for v in named if v)
          if not p.exists()]


def _p_at_1(precision: Optional[Dict[str, Dict[str, float]]]) -> Dict[str, Any]:
  if not precision:
    return {}
  return {method: scores.get("p@1") for method, scores in precision.items()}


def _csls_p1(precision: Optional[Dict[str, Dict[str, float]]]
             ) -> Optional[float]:
  return ((precision or {}).get("csls") or {}).get("p@1")


def _seed_summary(seeds: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
  # Per-seed figures of summary.json's "seeds" rows. A seed "finished" when it
  # has a refined mapping and was not stopped by non-finite training; the
  # detector's prediction (no gold data) is the run's own success estimate.
  return {
      "seed_ids": [s.get("seed") for s in seeds],
      "seed_refined_csls_p1": [_csls_p1(s.get("refined")) for s in seeds],
      "seed_adversarial_csls_p1": [_csls_p1(s.get("adversarial"))
                                   for s in seeds],
      "n_seeds_finished": sum(1 for s in seeds
                              if s.get("refined") is not None
                              and not s.get("failed")),
      "n_seeds_failed": sum(1 for s in seeds if s.get("failed")),
      "n_seeds_predicted_success": sum(1 for s in seeds
                                       if s.get("predicted_success")),
  }


def run_experiment(config_name: str = "gan_es_en", *,
                   n_seeds: Optional[int] = None,
                   flags: Sequence[str] = (),
                   timeout_s: Optional[float] = None) -> Dict[str, Any]:
  """Runs one experiment and summarises it.

  Args:
    config_name: a registry name.
    n_seeds: passed as ``--config.n_seeds=N`` (``None``: the config's).
    flags: extra ``experiments.run`` flags, e.g.
      ``--config.train.n_epochs=1`` (empty for the benchmark proper; a smoke
      test shrinks the run with them).
    timeout_s: kill the run after this many seconds (``None``: no limit).

  Returns:
    ``{"status": "ok" | "skipped" | "failed", "config", "seeds", ...}``: on
    success ``seconds`` (command to exit, dictionary written), the run's own
    ``wall_seconds``, criterion, P@1 (NN and CSLS, after the adversarial
    phase and after refinement; ``refined_csls_p1`` that of the selected
    seed), the selected seed and the per-seed figures.
  """
  root = paths.data_root()
  missing = missing_files(config_name, root)
  seed_flags = [] if n_seeds is None else [f"--config.n_seeds={n_seeds}"]
  # A timed run trains the seeds it was asked for: restarts (on by default)
  # would add seeds whenever the detector fails them all.
  flags = [*seed_flags, "--config.restarts=0", *flags]
  command = [sys.executable, "-m", "experiments.run",
             f"--config={config_name}", *flags]
  if n_seeds is None:
    n_seeds = registry.get_config(config_name).n_seeds
  head = {"config": config_name, "seeds": n_seeds}
  if missing:
    return {"status": "skipped", **head,
            "note": f"data not found under {root} (set "
                    f"{paths.DATA_DIR_ENV}): "
                    + ", ".join(missing)}
  workdir = pathlib.Path(tempfile.mkdtemp(prefix="bdi-bench-"))
  run_dir = workdir / "run"
  command.append(f"--workdir={run_dir}")
  env = {**os.environ, paths.DATA_DIR_ENV: str(root)}
  try:
    tic = time.perf_counter()
    try:
      proc = subprocess.run(command, cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
      return {"status": "failed", **head,
              "note": f"timed out after {timeout_s} s"}
    wall = time.perf_counter() - tic
    if proc.returncode != 0:
      return {"status": "failed", **head,
              "returncode": proc.returncode, "note": proc.stderr[-2000:]}
    summary = json.loads((run_dir / "summary.json").read_text())
  finally:
    shutil.rmtree(workdir, ignore_errors=True)
  return {
      "status": "ok",
      **head,
      "command": shlex.join(["python", "-m", "experiments.run",
                             f"--config={config_name}", *flags,
                             "--workdir=TMP"]),
      "data_root": str(root),
      "seconds": wall,
      "run_wall_seconds": summary.get("wall_seconds"),
      "criterion": summary.get("criterion"),
      "p_at_1_adversarial": _p_at_1(summary.get("adversarial")),
      "p_at_1_refined": _p_at_1(summary.get("refined")),
      "refined_csls_p1": _csls_p1(summary.get("refined")),
      "adversarial_csls_p1": _csls_p1(summary.get("adversarial")),
      "selected_seed": summary.get("selected_seed"),
      **_seed_summary(summary.get("seeds") or []),
      "selected": summary.get("selected"),
      "adversarial_selected": summary.get("adversarial_selected"),
      "data": summary.get("data"),
      "device": summary.get("device"),
  }


def add_vs_one_seed(rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
  """The rows, each with ``vs_1_seed``: its seconds over its config's 1-seed
  seconds in the same rows (None where the config has no successful 1-seed
  row, or for a row that did not succeed)."""
  base = {r["config"]: r["seconds"] for r in rows
          if r.get("status") == "ok" and r.get("seeds") == 1}
  return [dict(r, vs_1_seed=(r["seconds"] / base[r["config"]]
                             if r.get("status") == "ok"
                             and r["config"] in base else None))
          for r in rows]
