"""Wall time of a whole experiment, run exactly as a user would run it.

``python -m experiments.run --config=NAME --workdir=TMP`` in a subprocess, so
the figure includes start-up, data loading, compilation, every epoch's
evaluation and the refinement; P@1 is read from the run's ``summary.json``.
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
from typing import Any, Dict, Optional, Sequence

from benchmarks.isolated import REPO_ROOT
from bdi_jax import paths
from experiments.configs import registry

__all__ = ["missing_files", "run_experiment"]


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


def run_experiment(config_name: str = "gan_es_en", *,
                   flags: Sequence[str] = (),
                   timeout_s: Optional[float] = None) -> Dict[str, Any]:
  """Runs one experiment and summarises it.

  Args:
    config_name: a registry name.
    flags: extra ``experiments.run`` flags, e.g. ``--config.n_seeds=4``
      (empty for the benchmark proper; a smoke test shrinks the run with them).
    timeout_s: kill the run after this many seconds (``None``: no limit).

  Returns:
    ``{"status": "ok" | "skipped" | "failed", ...}``: on success the wall
    time, the run's own ``wall_seconds``, criterion and P@1 (NN and CSLS,
    after the adversarial phase and after refinement).
  """
  root = paths.data_root()
  missing = missing_files(config_name, root)
  command = [sys.executable, "-m", "experiments.run",
             f"--config={config_name}", *flags]
  if missing:
    return {"status": "skipped", "config": config_name,
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
      return {"status": "failed", "config": config_name,
              "note": f"timed out after {timeout_s} s"}
    wall = time.perf_counter() - tic
    if proc.returncode != 0:
      return {"status": "failed", "config": config_name,
              "returncode": proc.returncode, "note": proc.stderr[-2000:]}
    summary = json.loads((run_dir / "summary.json").read_text())
  finally:
    shutil.rmtree(workdir, ignore_errors=True)
  return {
      "status": "ok",
      "config": config_name,
      "command": shlex.join(["python", "-m", "experiments.run",
                             f"--config={config_name}", *flags,
                             "--workdir=TMP"]),
      "data_root": str(root),
      "seconds": wall,
      "run_wall_seconds": summary.get("wall_seconds"),
      "criterion": summary.get("criterion"),
      "p_at_1_adversarial": _p_at_1(summary.get("adversarial")),
      "p_at_1_refined": _p_at_1(summary.get("refined")),
      "selected": summary.get("selected"),
      "adversarial_selected": summary.get("adversarial_selected"),
      "data": summary.get("data"),
      "device": summary.get("device"),
  }
