"""Bad inputs through the real command lines, each in its own process.

Every case (a bad data file or dictionary, config value, flag or workdir) must
exit non-zero within 20 s, print at most 5 lines and no traceback, name the
file or field at fault, and leave an existing workdir byte-identical: each run
is pointed at a fake finished run (``--overwrite`` where the case allows it,
so even a replacing run must not touch it before failing) and the whole folder
holding it, siblings included, is compared byte for byte afterwards.

The cases run two at a time in a thread pool (each process pays JAX's start-up)
in one module fixture; each case is then its own parametrised test.
"""

import concurrent.futures
import dataclasses
import importlib.util
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Dict, Optional, Tuple

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT_S = 20
MAX_LINES = 5
WORKERS = 2

# Small enough that a case which wrongly starts training ends in seconds
# (and then fails the checks below rather than the time limit).
_TINY = {"train.n_epochs": "1", "train.epoch_size": "64",
         "train.chunk_steps": "2", "model.hidden": "8",
         "refine.n_rounds": "1", "progress": "False"}
# The small, valid .vec files and dictionary of the data cases.
_FILES = {"data.kind": "files", "data.src_emb": "src.vec",
          "data.tgt_emb": "tgt.vec", "data.test_dict": "test.txt",
          "data.max_vocab": "0"}


@dataclasses.dataclass(frozen=True)
class Case:
  """One bad input.

  Attributes:
    id: test id.
    names: text the output must contain (the file, field or flag at fault;
      ``{workdir}`` is replaced by the workdir given).
    config: registered config of an ``experiments.run`` case.
    set: ``--config.FIELD=VALUE`` overrides on top of ``_TINY`` (and of
      ``_FILES`` when ``files``).
    files: start from the small valid files of the data root.
    argv: a raw command after ``python -m`` instead (``{workdir}`` and
      ``{root}``, the data root, are replaced); ``None`` for an
      ``experiments.run`` case.
    workdir: ``"results"`` (a finished run, given with ``--overwrite``),
      ``"results_kept"`` (the same without ``--overwrite``), ``"file"`` (a
      file), ``"under_file"`` (a path below a file), ``"in_use"`` (a
      finished run that another ``experiments.run`` process, started with
      ``--overwrite``, is replacing), ``"unwritable"`` (in a read-only
      folder).
    debug: add ``--debug``: then a traceback is expected.
    stdin: the command's standard input.
    slow: it imports JAX before failing (default: the experiments.run cases
      that get past flag parsing).
  """
  id: str
  names: str
  config: str = "gan_synthetic"
  set: Tuple[Tuple[str, str], ...] = ()
  files: bool = False
  argv: Optional[Tuple[str, ...]] = None
  workdir: str = "results"
  debug: bool = False
  stdin: str = ""
  slow: Optional[bool] = None


def _data(id_, names, **fields):
  return Case(id_, names, files=True, set=tuple(fields.items()))


def _value(id_, names, **fields):
  return Case(id_, names, set=tuple(fields.items()))


def _cmd(id_, names, *argv, workdir="results", **kwargs):
  return Case(id_, names, argv=tuple(argv), workdir=workdir, **kwargs)


def _run_cmd(id_, names, *flags, workdir="results"):
  return _cmd(id_, names, "experiments.run", *flags, "--workdir={workdir}",
              workdir=workdir)


# Keyword names are config fields with "." written "__".
CASES = [
    # --- embedding files ---------------------------------------------------
    _data("vec_missing", "missing.vec", data__src_emb="missing.vec"),
    _data("vec_missing_tgt", "nowhere.vec", data__tgt_emb="nowhere.vec"),
    _data("vec_is_folder", "folder.vec", data__src_emb="folder.vec"),
    _data("vec_empty", "empty.vec", data__src_emb="empty.vec"),
    _data("vec_not_a_number", "not_a_number.vec:4",
          data__src_emb="not_a_number.vec"),
    _data("vec_short_row", "short_row.vec:5", data__src_emb="short_row.vec"),
    _data("vec_long_row", "long_row.vec:3", data__tgt_emb="long_row.vec"),
    _data("vec_nan", "nan.vec:6", data__src_emb="nan.vec"),
    _data("vec_inf", "inf.vec:3", data__tgt_emb="inf.vec"),
    _data("vec_bad_utf8", "bad_utf8.vec:4", data__src_emb="bad_utf8.vec"),
    _data("vec_header_count", "bad_count.vec", data__src_emb="bad_count.vec"),
    _data("vec_header_dim_zero", "dim_zero.vec:1",
          data__src_emb="dim_zero.vec"),
    _data("vec_header_only", "header_only.vec",
          data__src_emb="header_only.vec"),
    _data("vec_binary", "binary.vec", data__src_emb="binary.vec"),
    _data("vec_dims_differ", "tgt4.vec", data__tgt_emb="tgt4.vec"),
    # Duplicates are skipped with a warning; what is left is one word, too
    # few for the CSLS neighbourhood.
    _data("vec_duplicates", "config.eval.csls_k",
          data__src_emb="duplicates.vec"),
    # --- dictionaries ------------------------------------------------------
    _data("dict_missing", "missing_dict.txt",
          data__test_dict="missing_dict.txt"),
    _data("dict_is_folder", "dict_folder", data__test_dict="dict_folder"),
    _data("dict_empty", "empty.txt", data__test_dict="empty.txt"),
    _data("dict_no_word_in_vocabulary", "foreign.txt",
          data__test_dict="foreign.txt"),
    _data("dict_bad_utf8", "bad_utf8.txt:2", data__test_dict="bad_utf8.txt"),
    _data("dict_three_fields", "three_fields.txt:3",
          data__test_dict="three_fields.txt"),
    Case("train_dict_missing", "missing_train.txt", config="procrustes_synthetic",
         files=True, set=(("data.train_dict", "missing_train.txt"),)),
    Case("train_dict_only_test_words", "overlap.txt",
         config="procrustes_synthetic", files=True,
         set=(("data.train_dict", "overlap.txt"),)),
    # --- config values -----------------------------------------------------
    _value("ks_zero", "config.eval.ks", eval__ks="(0, 1)"),
    _data("csls_k_above_vocabulary", "config.eval.csls_k", eval__csls_k="50"),
    _data("ks_above_vocabulary", "config.eval.ks", eval__ks="(1, 50)"),
    _value("refine_mode_unknown", "config.refine.mode",
           refine__mode="S2T&T2"),
    _value("refine_method_unknown", "config.refine.method",
           refine__method="cosine"),
    _value("batch_size_zero", "config.train.batch_size", train__batch_size="0"),
    _value("n_seeds_zero", "config.n_seeds", n_seeds="0"),
    _value("dis_steps_zero", "config.train.dis_steps", train__dis_steps="0"),
    _value("lr_negative", "config.train.map_lr", train__map_lr="-0.1"),
    _value("lr_decay_above_one", "config.train.lr_decay",
           train__lr_decay="1.5"),
    _value("epoch_size_not_whole_batches", "config.train.epoch_size",
           train__epoch_size="100"),
    _value("n_epochs_zero", "config.train.n_epochs", train__n_epochs="0"),
    _value("method_unknown", "config.method", method="gann"),
    _value("optimizer_unknown", "config.train.map_optimizer",
           train__map_optimizer="adamw"),
    _value("data_kind_unknown", "config.data.kind", data__kind="file"),
    _value("normalize_unknown", "config.data.normalize",
           data__normalize="center,bogus"),
    _value("eval_method_unknown", "config.eval.methods",
           eval__methods="('nn', 'bogus')"),
    _value("several_at_once", "config.train.batch_size", n_seeds="0",
           train__batch_size="0", train__dis_steps="0", eval__ks="(0,)",
           refine__mode="x"),
    # --- config names, fields and flags ------------------------------------
    _run_cmd("config_name_unknown", "gan_nope", "--config=gan_nope"),
    _run_cmd("config_file_missing", "nope/cfg.py", "--config=nope/cfg.py"),
    _run_cmd("field_typo", "config.train.n_epoch", "--config.train.n_epoch=2"),
    _run_cmd("section_typo", "config.trian", "--config=gan_synthetic",
             "--config.trian.n_epochs=2"),
    _run_cmd("field_bad_type", "config.train.batch_size",
             "--config.train.batch_size=abc"),
    _run_cmd("override_before_config", "config.train.n_epochs",
             "--config.train.n_epochs=2", "--config=gan_synthetic"),
    _run_cmd("flag_unknown", "bogus", "--bogus"),
    _run_cmd("flag_bad_bool", "overwrite", "--overwrite=maybe"),
    _run_cmd("positional_argument", "stray", "stray"),
    # --- workdirs ----------------------------------------------------------
    _run_cmd("workdir_has_results", "{workdir} already holds results",
             "--config=gan_synthetic", workdir="results_kept"),
    _run_cmd("workdir_is_a_file", "{workdir}", "--config=gan_synthetic",
             workdir="file"),
    _run_cmd("workdir_under_a_file", "blocker", "--config=gan_synthetic",
             workdir="under_file"),
    # --- own vectors, MUSE's flags (experiments/own_vectors.py) ------------
    _run_cmd("own_emb_in_neither_place", "current folder",
             "--config=wgangp", "--src_emb=nowhere.vec", "--tgt_emb=tgt.vec"),
    _run_cmd("own_emb_alone", "--tgt_emb", "--config=wgangp",
             "--src_emb=src.vec"),
    _run_cmd("own_dico_eval_missing", "no_dict.txt", "--config=gan",
             "--src_emb=src.vec", "--tgt_emb=tgt.vec",
             "--dico_eval=no_dict.txt"),
    _run_cmd("own_flag_typo", "src_embb", "--config=gan",
             "--src_embb=src.vec"),
    _run_cmd("config_method_typo", "wgan_gp", "--config=wgan_gp"),
    _run_cmd("config_file_raises_on_import", "ModuleNotFoundError",
             "--config={root}/broken_config.py"),
    _run_cmd("config_file_without_get_config", "get_config",
             "--config={root}/no_get_config.py"),
    # --- values the machine or the data cannot take ------------------------
    _value("lr_inf", "must be finite", train__map_lr="inf"),
    # 2,000 seeds of a 4096-wide critic: ~500 GiB of training state.
    _data("memory_over_the_machine", "config.n_seeds", n_seeds="2000",
          model__hidden="4096", train__batch_size="8"),
    # --- workdirs in use or unusable ---------------------------------------
    _run_cmd("workdir_in_use_by_a_run", "in use by process",
             "--config=gan_synthetic", workdir="in_use"),
    _run_cmd("workdir_unwritable", "choose another --workdir",
             "--config=gan_synthetic", workdir="unwritable"),
    # --- the download command ----------------------------------------------
    _cmd("download_nothing_to_do", "--fasttext", "bdi_jax.data.download"),
    _cmd("download_pair_without_dash", "'en'", "bdi_jax.data.download",
         "--muse=en"),
    _cmd("download_pair_half_empty", "en-", "bdi_jax.data.download",
         "--muse=en-"),
    _cmd("download_bad_language", "x y", "bdi_jax.data.download",
         "--fasttext=x y"),
    _cmd("download_flag_unknown", "--bogus", "bdi_jax.data.download",
         "--bogus"),
    # --- the stability study -----------------------------------------------
    _cmd("stability_config_unknown", "gan_nope", "experiments.stability",
         "--configs=gan_nope", "--workdir={workdir}", "--overwrite"),
    _cmd("stability_set_typo", "train.n_epoch", "experiments.stability",
         "--configs=gan_synthetic", "--set=train.n_epoch=2",
         "--workdir={workdir}", "--overwrite"),
]
# The commands on a finished run, once they exist: an unknown flag, and a
# --workdir that does not exist.
for _module in ("experiments.export", "experiments.translate",
                "experiments.evaluate", "experiments.plot"):
  if importlib.util.find_spec(_module) is not None:
    _name = _module.split(".")[1]
    CASES.append(_cmd(f"{_name}_flag_unknown", "bogus", _module, "--bogus"))
    CASES.append(_cmd(f"{_name}_workdir_missing", "run_missing", _module,
                      "--workdir={workdir}_missing", stdin="s0\n",
                      slow=_name != "plot"))
# --debug shows the trace (the same mistakes as above).
DEBUG_CASES = [
    dataclasses.replace(CASES[[c.id for c in CASES].index("ks_zero")],
                        id="debug_config_value", names="ConfigError",
                        debug=True),
    dataclasses.replace(CASES[[c.id for c in CASES].index("field_typo")],
                        id="debug_field_typo", names="n_epoch", debug=True),
]


# Each case that gets as far as the pipeline pays JAX's start-up (about 4.5 s
# of CPU); every case runs, two at a time, slow ones first.


def _reaches_jax(case: Case) -> bool:
  if case.slow is not None:
    return case.slow
  if case.argv is None:
    return True
  return case.argv[0] == "experiments.run" and case.id.startswith(
      ("workdir_", "own_", "memory_"))


# --- the data root: small files, valid and not -----------------------------

def _rows(prefix: str, n: int, dim: int, seed: int):
  values = np.random.default_rng(seed).standard_normal((n, dim))
  return [f"{prefix}{i} " + " ".join(f"{v:.4f}" for v in row) + "\n"
          for i, row in enumerate(values)]


def _write_data(root: pathlib.Path) -> None:
  src, tgt = _rows("s", 13, 3, 0), _rows("t", 11, 3, 1)
  text = {
      "src.vec": "13 3\n" + "".join(src),
      "tgt.vec": "11 3\n" + "".join(tgt),
      "test.txt": "".join(f"s{i} t{i}\n" for i in range(8)),
      "empty.vec": "",
      "not_a_number.vec": "13 3\n" + "".join(src[:2]) + "s2 0.1 abc 0.3\n"
                          + "".join(src[3:]),
      "short_row.vec": "".join(src[:4]) + "s4 0.1 0.2\n" + "".join(src[5:]),
      "long_row.vec": "11 3\n" + tgt[0] + "t1 0.1 0.2 0.3 0.4\n"
                      + "".join(tgt[2:]),
      "nan.vec": "".join(src[:5]) + "s5 0.1 nan 0.3\n" + "".join(src[6:]),
      "inf.vec": "11 3\n" + tgt[0] + "t1 inf 0.2 0.3\n" + "".join(tgt[2:]),
      "bad_count.vec": "20 3\n" + "".join(src),
      "dim_zero.vec": "13 0\n" + "".join(src),
      "header_only.vec": "13 3\n",
      "tgt4.vec": "".join(_rows("t", 11, 4, 2)),
      "duplicates.vec": "".join(["s0 0.1 0.2 0.3\n"] * 13),
      "empty.txt": "",
      "foreign.txt": "perro dog\ngato cat\n",
      "three_fields.txt": "s0 t0\ns1 t1\ns2 t2 extra\n",
      # Every source word of the training pairs is a test source word.
      "overlap.txt": "s0 t1\ns1 t0\n",
  }
  text["broken_config.py"] = ("import bdi_jax_no_such_module\n\n\n"
                               "def get_config():\n  return None\n")
  text["no_get_config.py"] = "CONFIG = {}\n"
  for name, content in text.items():
    (root / name).write_text(content, encoding="utf-8")
  (root / "bad_utf8.vec").write_bytes(
      "".join(src[:3]).encode() + b"s\xff3 0.1 0.2 0.3\n"
      + "".join(src[4:]).encode())
  (root / "bad_utf8.txt").write_bytes(b"s0 t0\ns\xe91 t1\n")
  # A word2vec binary file (the reader detects the format), cut short.
  (root / "binary.vec").write_bytes(
      b"13 3\n" + b"".join(f"s{i} ".encode() + np.arange(3, dtype=np.float32)
                           .tobytes() for i in range(13))[:-5])
  (root / "folder.vec").mkdir()
  (root / "dict_folder").mkdir()


# --- workdirs ---------------------------------------------------------------

def _fake_finished_run(path: pathlib.Path) -> None:
  path.mkdir(parents=True)
  (path / "summary.json").write_text('{"name": "earlier run", "p@1": 0.5}\n')
  (path / "config.json").write_text('{"name": "earlier run"}\n')
  (path / "metrics.jsonl").write_text('{"epoch": 0}\n{"epoch": 1}\n')
  (path / "dictionary.tsv").write_text("source\ttarget\tscore\na\tb\t0.9\n")
  np.save(path / "W.npy", np.arange(9, dtype=np.float32).reshape(3, 3))


def _workdir(case: Case, folder: pathlib.Path) -> Tuple[pathlib.Path, list]:
  """Sets up the case's workdir in ``folder``; returns it and extra flags."""
  folder.mkdir(parents=True)
  run = folder / "run"
  if case.workdir == "unwritable":
    if os.geteuid() == 0:  # root writes anywhere but in /proc.
      return pathlib.Path("/proc/bdi-bad-input/run"), ["--overwrite"]
    (folder / "read_only").mkdir(mode=0o555)
    return folder / "read_only" / "run", ["--overwrite"]
  if case.workdir == "file":
    run.write_text("not a folder\n")
    return run, ["--overwrite"]
  if case.workdir == "under_file":
    (folder / "blocker").write_text("a file where a folder should be\n")
    _fake_finished_run(run)  # Also kept as it is.
    return folder / "blocker" / "run", ["--overwrite"]
  _fake_finished_run(run)
  return run, [] if case.workdir == "results_kept" else ["--overwrite"]


def _snapshot(folder: pathlib.Path) -> Dict[str, bytes]:
  return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"/")
          for p in sorted(folder.rglob("*"))}


def _command(case: Case, workdir: pathlib.Path, extra: list,
             root: str = "") -> list:
  if case.argv is not None:
    argv = [a.replace("{workdir}", str(workdir)).replace("{root}", root)
            for a in case.argv]
    if argv[0] == "experiments.run":  # The others take no --overwrite.
      argv += extra
  else:
    fields = {**_TINY, **(_FILES if case.files else {}), **dict(case.set)}
    fields = {k.replace("__", "."): v for k, v in fields.items()}
    argv = ["experiments.run", f"--config={case.config}"]
    argv += [f"--config.{k}={v}" for k, v in fields.items()]
    argv += [f"--workdir={workdir}", *extra]
  return [sys.executable, "-m", *argv] + (["--debug"] if case.debug else [])


@dataclasses.dataclass
class Outcome:
  workdir: pathlib.Path
  command: list
  returncode: Optional[int]
  output: str
  seconds: float
  before: Dict[str, bytes]
  after: Dict[str, bytes]
  holder_pid: Optional[int] = None  # The run holding the workdir ("in_use").


def _run_case(case: Case, tmp: pathlib.Path, env) -> Outcome:
  folder = tmp / case.id
  workdir, extra = _workdir(case, folder)
  holder = None
  if case.workdir == "in_use":
    # A real run on the same workdir, holding it while the case runs; only
    # the finished run in it is compared (the holder stages beside it).
    holder = _hold_workdir(workdir, env)
    folder = workdir
  before = _snapshot(folder)
  command = _command(case, workdir, extra, env["BDI_DATA_DIR"])
  tic = time.perf_counter()
  try:
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True,
                          input=case.stdin, text=True, errors="replace",
                          timeout=TIMEOUT_S)
    code, output = proc.returncode, proc.stdout + proc.stderr
  except subprocess.TimeoutExpired as e:
    code = None
    output = "".join(x.decode(errors="replace") if isinstance(x, bytes)
                     else (x or "") for x in (e.stdout, e.stderr))
  seconds = time.perf_counter() - tic
  if holder is not None:
    holder.kill()
    holder.wait()
  return Outcome(workdir, command, code, output, seconds, before,
                 _snapshot(folder), holder.pid if holder else None)


def _hold_workdir(workdir: pathlib.Path, env) -> subprocess.Popen:
  """Starts a long ``experiments.run`` on ``workdir``; returns once it holds
  the workdir's lock."""
  proc = subprocess.Popen(
      [sys.executable, "-m", "experiments.run", "--config=gan_synthetic",
       "--config.train.n_epochs=100", "--config.progress=False",
       f"--workdir={workdir}", "--overwrite", "--verbosity=-1"],
      cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  lock = workdir.with_name(workdir.name + ".lock")
  deadline = time.time() + TIMEOUT_S
  while time.time() < deadline and proc.poll() is None:
    if lock.exists() and f"pid={proc.pid}" in lock.read_text():
      return proc
    time.sleep(0.05)
  proc.kill()
  raise AssertionError("the holding run never took the workdir's lock")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
  root = tmp_path_factory.mktemp("data")
  _write_data(root)
  tmp = tmp_path_factory.mktemp("cases")
  env = dict(os.environ, BDI_DATA_DIR=str(root), JAX_PLATFORMS="cpu")
  with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
    # Slow ones first, so that the fast ones fill the gaps at the end.
    chosen = sorted(CASES + DEBUG_CASES, key=lambda c: not _reaches_jax(c))
    futures = {c.id: pool.submit(_run_case, c, tmp, env) for c in chosen}
    return {k: f.result() for k, f in futures.items()}


def _describe(outcome: Outcome) -> str:
  return (f"command: {' '.join(outcome.command)}\nexit: {outcome.returncode}"
          f"\n{outcome.seconds:.1f} s\noutput:\n{outcome.output}")


def test_enough_cases():
  kinds = {"vec": 0, "dict": 0, "value": 0, "flag": 0, "workdir": 0}
  for c in CASES:
    if c.id.startswith("vec_"):
      kinds["vec"] += 1
    elif "dict" in c.id:
      kinds["dict"] += 1
    elif c.id.startswith("workdir_"):
      kinds["workdir"] += 1
    elif c.argv is None:
      kinds["value"] += 1
    else:
      kinds["flag"] += 1
  assert len(CASES) >= 30 and min(kinds.values()) >= 3, kinds
  assert len({c.id for c in CASES + DEBUG_CASES}) == len(CASES) + len(
      DEBUG_CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_short_error(case, outcomes):
  outcome = outcomes[case.id]
  info = _describe(outcome)
  assert outcome.returncode is not None, f"over {TIMEOUT_S} s\n{info}"
  assert outcome.returncode != 0, info
  assert "Traceback" not in outcome.output, info
  assert len(outcome.output.splitlines()) <= MAX_LINES, info
  assert case.names.replace("{workdir}", str(outcome.workdir)) in (
      outcome.output), info
  assert outcome.after == outcome.before, f"workdir changed\n{info}"
  if outcome.holder_pid is not None:  # Names the other process.
    assert f"process {outcome.holder_pid}" in outcome.output, info


@pytest.mark.parametrize("case", DEBUG_CASES, ids=[c.id for c in DEBUG_CASES])
def test_debug_shows_the_trace(case, outcomes):
  outcome = outcomes[case.id]
  info = _describe(outcome)
  assert outcome.returncode not in (None, 0), info
  assert "Traceback (most recent call last)" in outcome.output, info
  assert case.names in outcome.output, info
  assert outcome.after == outcome.before, f"workdir changed\n{info}"


def test_sigterm_during_compilation_is_one_line_and_exit_143(tmp_path):
  """SIGTERM as the first chunk compiles (XLA runs in C++, where Python runs
  no handler): the run still ends within seconds, with 143 and one line, and
  the finished run in the workdir is left as it was."""
  workdir, extra = _workdir(Case("sigterm", ""), tmp_path / "case")
  before = _snapshot(workdir)
  flags = [f"--config.{k}={v}" for k, v in _TINY.items()
           if k not in ("train.n_epochs", "train.epoch_size")]
  proc = subprocess.Popen(
      [sys.executable, "-m", "experiments.run", "--config=gan_synthetic",
       *flags, f"--workdir={workdir}", *extra, "--verbosity=-1"],
      cwd=REPO, env=dict(os.environ, JAX_PLATFORMS="cpu"),
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  log = workdir.with_name("run.partial") / "train.log"
  deadline = time.time() + 60
  while time.time() < deadline and proc.poll() is None:
    if log.exists() and "plan:" in log.read_text():
      break  # Next: the init and first chunk compile.
    time.sleep(0.02)
  assert proc.poll() is None, proc.communicate()[0]
  proc.send_signal(signal.SIGTERM)
  output, _ = proc.communicate(timeout=30)
  info = f"exit {proc.returncode}\n{output}"
  assert proc.returncode == 143, info
  assert "Traceback" not in output, info
  assert len(output.strip().splitlines()) <= MAX_LINES, info
  assert "interrupted (SIGTERM)" in output, info
  assert _snapshot(workdir) == before, info
  assert not workdir.with_name("run.lock").exists(), info
