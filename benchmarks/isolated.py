"""Runs a benchmark worker in a fresh interpreter and collects its peak memory.

Peak memory is a per-process figure, so every measured size gets a process of
its own and reports its own peak. The figure must come from the worker's
``VmHWM`` (``/proc/self/status``), not from ``ru_maxrss``: Linux carries the
parent's high-water mark across fork + exec, so the ``ru_maxrss`` of a child
(its own, ``wait4``'s, or ``RUSAGE_CHILDREN``) is never below the parent's
RSS at spawn time, which here includes JAX and the training benchmarks (tested
on Linux 6.x: a 13 MB child of an 800 MB parent reports 813 MB).
"""

import json
import pathlib
import subprocess
import sys
import time
from typing import Any, Dict, Mapping, Optional, Sequence

__all__ = ["REPO_ROOT", "WorkerError", "run_worker"]

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


class WorkerError(RuntimeError):
  """A worker exited with an error or printed no result."""


def run_worker(module: str, args: Sequence[str], *, result_prefix: str,
               env: Optional[Mapping[str, str]] = None,
               timeout_s: Optional[float] = None) -> Dict[str, Any]:
  """Runs ``python -m module *args`` and returns its result line.

  Args:
    module: the worker module, e.g. ``benchmarks.retrieval_worker``; it must
      print one stdout line ``result_prefix + json`` including its peak RSS.
    args: its command-line arguments.
    result_prefix: marks the result line among anything else on stdout.
    env: environment of the child (default: this process's).
    timeout_s: kill the worker after this many seconds.

  Returns:
    The parsed result, with ``wall_seconds`` (including interpreter start-up
    and data generation) added.

  Raises:
    WorkerError: non-zero exit, or no result line; carries the stderr tail.
  """
  cmd = [sys.executable, "-m", module, *args]
  tic = time.perf_counter()
  proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True,
                        env=dict(env) if env is not None else None,
                        timeout=timeout_s, check=False)
  wall = time.perf_counter() - tic
  if proc.returncode != 0:
    raise WorkerError(f"{' '.join(cmd)} exited with {proc.returncode}:\n"
                      f"{proc.stderr[-2000:]}")
  for line in reversed(proc.stdout.splitlines()):
    if line.startswith(result_prefix):
      result = json.loads(line[len(result_prefix):])
      break
  else:
    raise WorkerError(f"{' '.join(cmd)} printed no result:\n"
                      f"{proc.stderr[-2000:]}")
  result["wall_seconds"] = wall
  return result
