"""Kill or interrupt a real run (subprocess), resume it, get the same result.

The reference is an uninterrupted run of the same command and seed on the
same device: the resumed run must write the same ``W.npy`` (to 1e-6) and the
same precisions, and its metrics.jsonl must hold every chunk exactly once.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]

# gan_synthetic, small: 3 epochs of 20 chunks of 50 iterations (~1 s each).
FLAGS = [
    "--config=gan_synthetic", "--config.progress=False",
    "--config.data.synthetic.dim=12", "--config.data.synthetic.n_concepts=2500",
    "--config.data.synthetic.noise=0.05", "--config.data.synthetic.n_clusters=40",
    "--config.data.synthetic.n_train=500", "--config.data.synthetic.n_test=400",
    "--config.model.hidden=128", "--config.train.epoch_size=32000",
    "--config.train.n_epochs=3", "--config.train.chunk_steps=50",
    "--config.refine.n_rounds=1",
    # No early stop: every run trains all its chunks, so a signal always
    # lands in epoch 2.
    "--config.train.check_every=0", "--config.train.stop_patience=0",
]


CHUNKS = 3 * 20  # Epochs x chunks of the run above.


def _command(workdir):
  return [sys.executable, "-m", "experiments.run", *FLAGS,
          f"--workdir={workdir}"]


def _env(**extra):
  env = dict(os.environ, **extra)
  env.setdefault("JAX_PLATFORMS", "cpu")
  return env


def _run(workdir, timeout=240):
  return subprocess.run(_command(workdir), cwd=REPO, env=_env(),
                        capture_output=True, text=True, timeout=timeout)


def _lines(path: pathlib.Path):
  if not path.exists():
    return []
  out = []
  for line in path.read_text().splitlines():
    try:
      out.append(json.loads(line))
    except ValueError:
      pass  # A line being written.
  return out


def _checkpoint_meta(workdir):
  ckpt = np.load(pathlib.Path(f"{workdir}.partial") / "checkpoint.npz")
  return json.loads(ckpt["__meta__"].tobytes())


def _resume_and_count(workdir):
  """Resumes; checks that the new process trained only the chunks the
  checkpoint lacked (a silent restart from zero would train all 60)."""
  meta = _checkpoint_meta(workdir)
  done = meta["epoch"] * 20 + meta["chunk"]
  assert 0 < done < CHUNKS
  result = _run(workdir)
  assert result.returncode == 0, result.stderr
  assert (f"adversarial phase: {CHUNKS - done} chunks trained in this process "
          f"({done} done before the resume)") in result.stderr, result.stderr
  train_log = (workdir / "train.log").read_text()
  assert f"{CHUNKS - done} chunks trained in this process" in train_log
  return result


def _start_and_stop(command, run_workdir, epoch, sig, env):
  """Starts ``command``, sends ``sig`` once the run training in
  ``run_workdir`` has logged 3 chunks of ``epoch``."""
  proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  metrics = pathlib.Path(f"{run_workdir}.partial") / "metrics.jsonl"
  deadline = time.time() + 180
  while time.time() < deadline and proc.poll() is None:
    chunks = [l for l in _lines(metrics)
              if l["phase"] == "chunk" and l["epoch"] == epoch]
    if len(chunks) >= 3:
      break
    time.sleep(0.02)
  if proc.poll() is not None:
    out, err = proc.communicate()
    pytest.fail(f"the run ended before it could be stopped:\n{out}\n{err}")
  proc.send_signal(sig)
  out, err = proc.communicate(timeout=120)
  return proc.returncode, out, err


def _start_and_stop_in_epoch_2(workdir, sig, env=None):
  """Starts a run, sends ``sig`` once epoch 2 has run a few chunks."""
  return _start_and_stop(_command(workdir), workdir, 2, sig, env or _env())


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("reference") / "run"
  result = _run(workdir)
  assert result.returncode == 0, result.stderr
  return workdir


def _assert_same_result(workdir, reference):
  np.testing.assert_allclose(np.load(workdir / "W.npy"),
                             np.load(reference / "W.npy"), atol=1e-6)
  got = json.loads((workdir / "summary.json").read_text())
  want = json.loads((reference / "summary.json").read_text())
  assert got["refined"] == want["refined"]
  assert got["adversarial"] == want["adversarial"]
  assert got["resumed"] is True and want["resumed"] is False
  # Every chunk and epoch line exactly once, as in the uninterrupted run.
  key = lambda l: (l["phase"], l.get("epoch"), l.get("seed"), l.get("step"),
                   l.get("round"))
  got_lines = sorted(map(key, _lines(workdir / "metrics.jsonl")), key=str)
  want_lines = sorted(map(key, _lines(reference / "metrics.jsonl")), key=str)
  assert got_lines == want_lines
  assert not (workdir / "checkpoint.npz").exists()
  assert not pathlib.Path(f"{workdir}.partial").exists()


def test_sigkill_mid_epoch_then_resume(reference, tmp_path):
  workdir = tmp_path / "run"
  code, _, _ = _start_and_stop_in_epoch_2(workdir, signal.SIGKILL)
  assert code == -signal.SIGKILL
  assert not workdir.exists()  # Nothing final was written.
  assert (pathlib.Path(f"{workdir}.partial") / "checkpoint.npz").exists()
  # The killed process's lock file is left behind; the rerun takes it over.
  assert (workdir.parent / "run.lock").exists()
  result = _resume_and_count(workdir)
  assert "resuming" in result.stderr
  assert "took over the lock" in result.stderr
  assert not (workdir.parent / "run.lock").exists()
  _assert_same_result(workdir, reference)


def test_sigint_saves_mid_epoch_prints_one_line_and_resumes(reference,
                                                            tmp_path):
  workdir = tmp_path / "run"
  code, out, err = _start_and_stop_in_epoch_2(workdir, signal.SIGINT)
  assert code == 130, err
  last = err.strip().splitlines()[-1]
  assert "checkpoint.npz" in last and "resume" in last
  assert "Traceback" not in err + out
  meta = _checkpoint_meta(workdir)
  assert meta["epoch"] == 1 and meta["chunk"] > 0  # Saved mid-epoch 2.
  _resume_and_count(workdir)
  _assert_same_result(workdir, reference)


def test_sigterm_mid_chunk_watchdog_saves_exits_143_and_resumes(reference,
                                                                tmp_path):
  # Grace 0: the watchdog thread, not the loop, takes the stop while a chunk
  # runs (as in a long chunk, a compilation or a check) and saves the state
  # the loop recorded after its last chunk.
  workdir = tmp_path / "run"
  code, out, err = _start_and_stop_in_epoch_2(
      workdir, signal.SIGTERM, env=_env(BDI_INTERRUPT_GRACE_S="0"))
  assert code == 143, err
  last = err.strip().splitlines()[-1]
  assert "SIGTERM" in last and "checkpoint.npz" in last and "resume" in last
  assert "Traceback" not in err + out
  assert not (workdir.parent / "run.lock").exists()  # Released on the way.
  assert _checkpoint_meta(workdir)["epoch"] == 1
  _resume_and_count(workdir)
  _assert_same_result(workdir, reference)


def test_sigterm_stops_a_stability_study_mid_chunk_and_the_rerun_resumes(
    tmp_path):
  # The study command has the same watchdog as experiments.run: a wide
  # critic's chunk can take minutes, and a study must not wait for it.
  workdir = tmp_path / "study"
  sets = [f"--set={f[len('--config.'):]}" for f in FLAGS[1:]]
  sets = [s for s in sets if not s.startswith("--set=train.n_epochs")]
  command = [sys.executable, "-m", "experiments.stability",
             "--configs=gan_synthetic", "--seeds=0", f"--workdir={workdir}",
             "--set=train.n_epochs=1", *sets]
  run_workdir = workdir / "gan_synthetic" / "seeds-0"
  code, out, err = _start_and_stop(command, run_workdir, 1, signal.SIGTERM,
                                   _env(BDI_INTERRUPT_GRACE_S="0"))
  assert code == 143, err
  last = err.strip().splitlines()[-1]
  assert "SIGTERM" in last and "checkpoint.npz" in last, last
  # The resume line is the command as typed, not the package's __main__.py.
  assert "resume: python -m experiments.stability --configs=gan_synthetic" in last
  assert "Traceback" not in err + out
  # Released on the way: the study's lock and its run's.
  assert not pathlib.Path(f"{workdir}.lock").exists()
  assert not run_workdir.with_name("seeds-0.lock").exists()
  assert "took over the lock" not in err
  done = _checkpoint_meta(run_workdir)["chunk"]
  assert 0 < done < 20

  rerun = subprocess.run(command, cwd=REPO, env=_env(), capture_output=True,
                         text=True, timeout=240)
  assert rerun.returncode == 0, rerun.stderr
  train_log = (run_workdir / "train.log").read_text()
  assert f"{20 - done} chunks trained in this process" in train_log, train_log
  study = json.loads((workdir / "stability.json").read_text())
  assert [c["config"] for c in study["configs"]] == ["gan_synthetic"]
  assert study["configs"][0]["n_seeds"] == 1
