"""experiments.export takes the workdir lock of the folder it writes into.

Real processes: a child holds the lock (as a training run, or another export,
holds it), and the export command runs against that folder.
"""

import pathlib
import signal

import numpy as np

from bdi_jax import workdir_lock
from experiments.configs import registry

from tests import lock_holder

def _export(*args):
  return lock_holder.run_module("experiments.export", *args)


def _finished_run(folder: pathlib.Path) -> pathlib.Path:
  """A finished run as export reads it: a tiny synthetic config, W = I."""
  config = registry.get_config("gan_synthetic")
  config.data.synthetic.update(dict(dim=6, n_concepts=120, n_clusters=4,
                                    n_train=20, n_test=20))
  folder.mkdir(parents=True)
  (folder / "config.json").write_text(config.to_json())
  np.save(folder / "W.npy", np.eye(6, dtype=np.float32))
  (folder / "vectors-syn-src.vec").write_text("1 2\nold 0.5 0.5\n")
  return folder


def _snapshot(folder: pathlib.Path):
  return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_export_into_a_training_runs_workdir_is_refused(tmp_path):
  workdir = _finished_run(tmp_path / "run")
  before = _snapshot(workdir)
  holder = lock_holder.holder(workdir)  # The run training (again) into its workdir.
  try:
    proc = _export(f"--workdir={workdir}")
    lock_holder.assert_refused(proc, holder.pid)
    assert "--output_dir" in proc.stderr  # Where it can write instead.
    assert _snapshot(workdir) == before  # Nothing written or removed.
    # The holder's lock is untouched.
    assert f"pid={holder.pid}" in workdir_lock.lock_path(workdir).read_text()
  finally:
    lock_holder.stop(holder)


def test_second_export_into_one_output_dir_is_refused(tmp_path):
  workdir = _finished_run(tmp_path / "run")
  out = tmp_path / "vectors"
  out.mkdir()
  (out / "vectors-syn-src.vec").write_text("1 2\nearlier 0.1 0.2\n")
  before = _snapshot(out)
  holder = lock_holder.holder(out)  # The first export, still writing.
  try:
    proc = _export(f"--workdir={workdir}", f"--output_dir={out}")
    lock_holder.assert_refused(proc, holder.pid)
    assert f"--output_dir {out} is in use" in proc.stderr
    assert _snapshot(out) == before
  finally:
    lock_holder.stop(holder)


def test_export_locks_only_the_folder_it_writes(tmp_path):
  workdir = _finished_run(tmp_path / "run")
  out = tmp_path / "vectors"
  # A run holding its workdir does not stop an export elsewhere.
  holder = lock_holder.holder(workdir)
  try:
    proc = _export(f"--workdir={workdir}", f"--output_dir={out}")
    assert proc.returncode == 0, proc.stderr
    n, d = (out / "vectors-syn-src.vec").read_text().split("\n", 1)[0].split()
    assert int(n) > 7 and d == "6"
  finally:
    lock_holder.stop(holder)
  assert not workdir_lock.lock_path(out).exists()  # Released (and removed).
  # A lock left by a killed process is taken over, with a note.
  dead = lock_holder.holder(workdir)
  dead.send_signal(signal.SIGKILL)
  lock_holder.stop(dead)
  proc = _export(f"--workdir={workdir}", "--max_words=7")
  assert proc.returncode == 0, proc.stderr
  assert f"left by process {dead.pid}" in proc.stderr
  assert (workdir / "vectors-syn-src.vec").read_text().startswith("7 6\n")
  assert not workdir_lock.lock_path(workdir).exists()
