"""The commands on a finished workdir: export, translate, evaluate, plot.

Two tiny synthetic runs are made once per module through the real pipeline: a
2-seed GAN run (any mapping will do for "reproduces the run") and a supervised
Procrustes run (a mapping good enough that translations are the gold ones).
References are independent: vectors re-read from the exported files, numpy
CSLS, the synthetic gold dictionary, the run's own summary.json.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from bdi_jax import metrics
from bdi_jax import pipeline
from bdi_jax import saved
from bdi_jax.data import embeddings, load_vec, synthetic
from bdi_jax.data import tasks
from experiments import export as export_cmd
from experiments import plot as plot_cmd
from experiments.configs import registry
from tests import reference

REPO = pathlib.Path(__file__).resolve().parents[1]


def tiny_config(method: str):
  """A synthetic run of a few seconds: 9-d, 700 concepts, a small critic."""
  config = registry.get_config(f"{method}_synthetic")
  config.progress = False
  config.data.synthetic.update(dict(dim=9, n_concepts=700, noise=0.05,
                                    n_clusters=12, n_train=250, n_test=150))
  config.model.hidden = 32
  config.train.n_epochs = 2
  config.train.epoch_size = 32 * 60
  config.train.chunk_steps = 30
  config.refine.n_rounds = 1
  config.eval.criterion_words = 400
  if method == "gan":
    config.n_seeds = 2
  return config


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("cmd") / "gan"
  config = tiny_config("gan")
  summary = pipeline.train_and_evaluate(config, workdir)
  return config, workdir, summary


@pytest.fixture(scope="module")
def procrustes_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("cmd") / "procrustes"
  config = tiny_config("procrustes")
  summary = pipeline.train_and_evaluate(config, workdir)
  return config, workdir, summary


def _generated(config):
  return synthetic.make_synthetic_task(**dict(config.data.synthetic.items()))


def _close(a, b, atol=1e-6):
  assert set(a) == set(b)
  for method in a:
    for k in a[method]:
      assert abs(a[method][k] - b[method][k]) <= atol, (method, k)


# ------------------------------------------------------------------ export


def test_export_reproduces_the_runs_nn_precision(gan_run, tmp_path):
  config, workdir, summary = gan_run
  run = saved.load_run(workdir)
  src_path, tgt_path = export_cmd.export(run, tmp_path)
  assert (src_path.name, tgt_path.name) == ("vectors-syn-src.vec",
                                            "vectors-syn-tgt.vec")
  src, tgt = load_vec(src_path, cache=False), load_vec(tgt_path, cache=False)

  # Independent reference of the mapped space: the generated vectors, the
  # config's normalisation, X @ W.T, unit rows, all in numpy.
  gen = _generated(config)
  methods = tasks.normalization_methods(config.data.normalize)
  x = embeddings.normalize_embeddings(gen.src.vectors, methods)
  w = np.load(workdir / "W.npy")
  assert src.words == gen.src.words
  np.testing.assert_allclose(src.vectors, reference.unit_rows(x @ w.T),
                             atol=1e-5)

  # Re-read files + plain NN retrieval give the run's NN P@k.
  gold = [(gen.src.words[s], gen.tgt.words[t]) for s, t in gen.test_pairs]
  pairs = np.array([(src.word_to_index[s], tgt.word_to_index[t])
                    for s, t in gold])
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  nn = metrics.evaluate_translation(
      jnp.asarray(src.vectors), jnp.asarray(tgt.vectors), pairs, None,
      methods=("nn",))
  _close(nn, {"nn": summary["refined"]["nn"]})

  small = export_cmd.export(run, tmp_path / "small", max_words=50)
  assert load_vec(small[0], cache=False).vectors.shape == (50, 9)
  np.testing.assert_array_equal(load_vec(small[1], cache=False).vectors,
                                tgt.vectors[:50])


# --------------------------------------------------------------- translate


def test_translate_returns_the_gold_translation(procrustes_run):
  config, workdir, summary = procrustes_run
  assert summary["refined"]["csls"]["p@1"] > 0.95  # A good mapping.
  run = saved.load_run(workdir)
  gen = _generated(config)
  # Synthetic words are named after their concept: s00042 -> t00042.
  queries = [gen.src.words[s] for s in np.unique(gen.test_pairs[:, 0])[:60]]
  results = saved.translate(run, queries + ["not-a-word"], k=3)
  assert [r.word for r in results] == queries + ["not-a-word"]
  assert not results[-1].found and results[-1].translations == []
  hits = [r.translations[0][1:] == r.word[1:] for r in results[:-1]]
  assert np.mean(hits) > 0.95

  # Scores and order are CSLS, against a brute-force numpy reference.
  mapped = np.asarray(saved.mapped_source(saved.device_spaces(run), run.w))
  tgt = reference.unit_rows(run.task.tgt_vectors)
  scores = reference.np_scores(mapped, tgt, "csls", config.eval.csls_k)
  for r in results[:5]:
    row = scores[run.task.src.word_to_index[r.word]]
    top = np.argsort(-row)[:3]
    assert r.translations == [run.task.tgt.words[t] for t in top]
    np.testing.assert_allclose(r.scores, row[top], atol=1e-5)
  # NN scores are cosines; an upper-case query is found lower-cased.
  (nn,) = saved.translate(run, [queries[0].upper()], k=2, method="nn")
  cosines = mapped[run.task.src.word_to_index[queries[0]]] @ tgt.T
  np.testing.assert_allclose(nn.scores, np.sort(cosines)[::-1][:2],
                             atol=1e-5)


# ---------------------------------------------------------------- evaluate


def test_evaluate_reproduces_summary(gan_run):
  _, workdir, summary = gan_run
  run = saved.load_run(workdir)
  scored = saved.score_run(run)
  _close(scored.precision, summary["refined"])
  assert abs(scored.criterion - summary["criterion"]) <= 1e-6
  for entry in summary["seeds"]:
    if not (workdir / f"W-seed{entry['seed']}.npy").exists():
      pytest.skip("this pipeline writes no W-seed<N>.npy yet")
    one = saved.load_run(workdir, seed=entry["seed"])
    _close(saved.score_run(one).precision, entry["refined"])
    assert saved.recorded_precision(one) == entry["refined"]


def test_evaluate_on_the_runs_dictionary_tsv(gan_run):
  # dictionary.tsv holds mutual CSLS nearest neighbours (S2T&T2S) of the
  # saved mapping: as a test dictionary, CSLS P@1 is 1 by definition.
  config, workdir, _ = gan_run
  assert config.refine.mode == "S2T&T2S" and config.refine.method == "csls"
  run = saved.load_run(workdir, test_dict=workdir / "dictionary.tsv")
  n_rows = len((workdir / "dictionary.tsv").read_text().splitlines()) - 1
  assert run.task.test_coverage.pairs_found == n_rows
  assert saved.score_run(run).precision["csls"]["p@1"] == 1.0


def test_bad_workdirs_are_one_line_errors(gan_run, tmp_path):
  from bdi_jax import errors  # pylint: disable=g-import-not-at-top
  _, workdir, _ = gan_run
  with pytest.raises(errors.WorkdirError, match="no such folder"):
    saved.load_run(tmp_path / "nope")
  with pytest.raises(errors.WorkdirError, match="no config.json"):
    saved.load_run(tmp_path)
  half = tmp_path / "half"
  half.mkdir()
  (half / "config.json").write_bytes((workdir / "config.json").read_bytes())
  with pytest.raises(errors.WorkdirError, match="no W.npy"):
    saved.load_run(half)
  with pytest.raises(errors.WorkdirError, match="seed 99"):
    saved.load_run(workdir, seed=99)


# -------------------------------------------------------------------- plot


def test_plot_writes_pngs(gan_run, procrustes_run, tmp_path):
  pytest.importorskip("matplotlib")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  _, workdir, _ = gan_run
  written = plot_cmd.plot([workdir], tmp_path / "one")
  assert sorted(p.name for p in written) == [
      "losses.png", "refinement.png", "training.png"]
  for path in written:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = plt.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 400
    assert image[..., :3].std() > 0.05  # Not a blank canvas.
  # Several runs in one figure; a supervised run has no training epochs.
  both = plot_cmd.plot([workdir, procrustes_run[1]], tmp_path / "two")
  assert {p.name for p in both} == {"losses.png", "refinement.png",
                                    "training.png"}
  alone = plot_cmd.plot([procrustes_run[1]], tmp_path / "three")
  assert [p.name for p in alone] == ["refinement.png"]


# ------------------------------------------------------------ strict JSON


def _strict(text):
  def refuse(name):
    raise ValueError(f"non-standard JSON constant {name}")
  return json.loads(text, parse_constant=refuse)


def test_outputs_are_strict_json(gan_run, procrustes_run):
  # Needs the pipeline's "non-finite as null" (issue 9, item 4).
  for _, workdir, _ in (gan_run, procrustes_run):
    _strict((workdir / "summary.json").read_text())
    lines = (workdir / "metrics.jsonl").read_text().splitlines()
    assert lines
    for line in lines:
      _strict(line)


# ------------------------------------------------- the real command lines


def _command(*args, stdin=None, extra_env=None):
  env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false",
             **(extra_env or {}))
  return subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                        input=stdin, capture_output=True, text=True,
                        timeout=120)


@pytest.mark.parametrize("name", ["export", "translate", "evaluate", "plot"])
def test_help(name):
  proc = _command("-m", f"experiments.{name}", "--help")
  assert proc.returncode in (0, 1), proc.stderr  # absl's --help exits 1.
  assert "error" not in proc.stderr
  assert "--workdir" in proc.stdout and f"experiments.{name}" in proc.stdout


def test_cli_translate_and_errors(procrustes_run, tmp_path):
  config, workdir, _ = procrustes_run
  gen = _generated(config)
  word = gen.src.words[int(gen.test_pairs[0, 0])]
  proc = _command("-m", "experiments.translate", f"--workdir={workdir}",
                  "--k=2", stdin=f"{word}\nno-such-word\n")
  assert proc.returncode == 0, proc.stderr
  lines = proc.stdout.splitlines()
  assert len(lines) == 2
  assert lines[0].startswith(f"{word}\tt{word[1:]} (")
  assert lines[1] == "no-such-word\t(not in the source vocabulary)"
  # A folder that is no run: one line, status 2, no traceback (shown with
  # plot, the command that starts fastest; the others raise the same
  # WorkdirError, see test_bad_workdirs_are_one_line_errors).
  proc = _command("-m", "experiments.plot", f"--workdir={tmp_path}")
  assert proc.returncode == 2
  assert proc.stderr.strip().startswith("error: ") and (
      "Traceback" not in proc.stderr)
  assert len(proc.stderr.strip().splitlines()) == 1
  assert str(tmp_path) in proc.stderr


def test_cli_evaluate_writes_json(gan_run, tmp_path):
  _, workdir, summary = gan_run
  out = tmp_path / "eval.json"
  proc = _command("-m", "experiments.evaluate", f"--workdir={workdir}",
                  f"--output={out}")
  assert proc.returncode == 0, proc.stderr
  assert "matches summary.json" in proc.stdout
  assert "CSLS P@1" in proc.stdout
  result = _strict(out.read_text())
  _close(result["precision"], summary["refined"])


def test_cli_plot_without_matplotlib_names_the_extra(gan_run, tmp_path):
  _, workdir, _ = gan_run
  code = ("import runpy, sys; sys.modules['matplotlib'] = None; "
          f"sys.argv = ['plot', '--workdir={workdir}', "
          f"'--output_dir={tmp_path}']; "
          "runpy.run_module('experiments.plot', run_name='__main__')")
  proc = _command("-c", code)
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines() == [
      "error: " + plot_cmd.MISSING_MATPLOTLIB]
  assert "lab" in proc.stderr
  assert not list(tmp_path.iterdir())  # No work done.
