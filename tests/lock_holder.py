"""A child process that holds a folder's workdir lock, for the lock tests.

The lock is an flock held by a live process, so the tests that check a
second process is refused need a real first one.
"""

import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]

_HOLD = ("import sys, time\n"
         "from bdi_jax import workdir_lock\n"
         "lock = workdir_lock.acquire(sys.argv[1])\n"
         "print('held', flush=True)\n"
         "time.sleep(120)\n")


def holder(folder) -> subprocess.Popen:
  """Starts a process that holds ``folder``'s lock; returns once it does."""
  proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder)],
                          cwd=REPO, stdout=subprocess.PIPE, text=True)
  assert proc.stdout.readline().strip() == "held"
  return proc


def stop(proc: subprocess.Popen) -> None:
  proc.kill()
  proc.wait()
  proc.stdout.close()


def run_module(module: str, *args) -> subprocess.CompletedProcess:
  """``python -m module args`` from the checkout, on the CPU by default."""
  env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false",
             JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
  return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO,
                        env=env, capture_output=True, text=True, timeout=300)


def assert_refused(proc: subprocess.CompletedProcess, holder_pid: int) -> None:
  """A command refused for the lock: non-zero, at most 5 lines, no
  traceback, naming the process that holds it."""
  out = (proc.stdout + proc.stderr).strip()
  assert proc.returncode != 0, out
  assert "Traceback" not in out, out
  assert len(out.splitlines()) <= 5, out
  assert f"in use by process {holder_pid}" in out, out
