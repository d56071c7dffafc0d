"""experiments.stability holds the lock of its --workdir for the whole study.

Real processes: a child holds the study folder's lock (as a running study
does), and a second study (or a merge) on that folder is refused before any
training. The per-run locks under it are other files and do not conflict.
"""

import os
import pathlib
import subprocess
import sys

import pytest

from bdi_jax import errors
from bdi_jax import workdir_lock
from experiments.stability import execute
from tests import lock_holder

REPO = pathlib.Path(__file__).resolve().parents[1]

# The tiny synthetic study of tests/test_stability.py (never trained here).
TINY = ["progress=false", "data.synthetic.n_concepts=700",
        "data.synthetic.dim=8", "data.synthetic.n_clusters=10",
        "data.synthetic.n_train=150", "data.synthetic.n_test=120",
        "model.hidden=32", "train.epoch_size=2816", "train.n_epochs=1",
        "train.chunk_steps=44", "refine.n_rounds=1"]


def _stability(*args):
  return lock_holder.run_module("experiments.stability", *args)


def _study_folder(tmp_path) -> pathlib.Path:
  """A study's folder with an earlier report and a run's lock-free files."""
  workdir = tmp_path / "study"
  (workdir / "gan_synthetic" / "seeds-0").mkdir(parents=True)
  (workdir / "stability.json").write_text('{"configs": []}\n')
  (workdir / "stability.md").write_text("# earlier report\n")
  (workdir / "gan_synthetic" / "seeds-0" / "metrics.jsonl").write_text("{}\n")
  return workdir


def _snapshot(folder: pathlib.Path):
  return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
          for p in sorted(folder.rglob("*"))}


def test_second_study_on_one_workdir_is_refused_before_training(tmp_path):
  workdir = _study_folder(tmp_path)
  before = _snapshot(workdir)
  holder = lock_holder.holder(workdir)  # The first study, still running.
  try:
    proc = _stability("--configs=gan_synthetic", "--seeds=0-1",
                      f"--workdir={workdir}", *[f"--set={t}" for t in TINY])
    lock_holder.assert_refused(proc, holder.pid)
    assert f"--workdir {workdir} is in use" in proc.stderr
    assert "stability: " not in proc.stderr  # No run started.
    assert _snapshot(workdir) == before  # No file written or removed.
    assert f"pid={holder.pid}" in workdir_lock.lock_path(workdir).read_text()
    # A merge into it is refused the same way.
    proc = _stability(f"--merge={workdir}", f"--workdir={workdir}")
    lock_holder.assert_refused(proc, holder.pid)
    assert _snapshot(workdir) == before
  finally:
    lock_holder.stop(holder)


def test_study_lock_and_its_runs_locks_do_not_conflict(tmp_path):
  workdir = tmp_path / "study"
  study = execute.lock_study(workdir)
  try:
    assert study.path == workdir_lock.lock_path(workdir).absolute()
    # The runs under it (a baseline, a config's seeds) lock their own files.
    for run in (workdir / "procrustes_synthetic",
                workdir / "gan_synthetic" / "seeds-0-1"):
      lock = workdir_lock.acquire(run)
      assert lock is not study and lock.path.parent == run.parent.absolute()
      lock.release()
    # Another process is refused the study's folder while this one holds it.
    check = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom bdi_jax import workdir_lock\n"
         "workdir_lock.acquire(sys.argv[1])", str(workdir)],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert check.returncode != 0
    assert f"in use by process {os.getpid()}" in check.stderr
  finally:
    study.release()
  assert not workdir_lock.lock_path(workdir).exists()
  (tmp_path / "file").write_text("x")
  with pytest.raises(errors.WorkdirError, match="is a file"):
    execute.lock_study(tmp_path / "file")
