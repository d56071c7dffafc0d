"""The stability study: statistics against numpy, the success rule, seed
parsing, and the command end to end on a tiny synthetic task."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

from absl import app
import numpy as np
import pytest

from bdi_jax import errors
from bdi_jax import provenance
from bdi_jax import study_stats
from experiments.configs import overrides
from experiments.configs import registry
from experiments.stability import markdown
from experiments.stability import merge
from experiments.stability import plan
from experiments.stability import report as report_lib

REPO = pathlib.Path(__file__).resolve().parents[1]

# Fixed per-seed P@k: 5 seeds, two of them collapsed (near 0).
_P = {
    ("adversarial", "nn"): [[0.61, 0.80, 0.85], [0.70, 0.84, 0.88],
                            [0.00, 0.01, 0.02], [0.66, 0.81, 0.86],
                            [0.003, 0.01, 0.015]],
    ("adversarial", "csls"): [[0.67, 0.84, 0.88], [0.74, 0.87, 0.90],
                              [0.001, 0.01, 0.02], [0.70, 0.85, 0.89],
                              [0.004, 0.012, 0.02]],
    ("refined", "nn"): [[0.73, 0.86, 0.89], [0.731, 0.86, 0.89],
                        [0.002, 0.01, 0.02], [0.734, 0.87, 0.90],
                        [0.004, 0.01, 0.02]],
    ("refined", "csls"): [[0.757, 0.88, 0.91], [0.756, 0.88, 0.91],
                          [0.002, 0.012, 0.02], [0.758, 0.88, 0.91],
                          [0.3775, 0.5, 0.6]],
}
_KS = ("p@1", "p@5", "p@10")


def _rows(predicted=(True, True, False, True, True)):
  rows = []
  for i in range(5):
    row = {"seed": 10 + i, "criterion": 0.5 - 0.1 * i,
           "predicted_success": predicted[i]}
    for phase in study_stats.PHASES:
      row[phase] = {m: dict(zip(_KS, _P[(phase, m)][i]))
                    for m in ("nn", "csls")}
    rows.append(row)
  return rows


def test_summarize_matches_numpy():
  values = [0.757, 0.002, 0.756, 0.3775, 0.758]
  got = study_stats.summarize(values)
  ref = np.asarray(values)
  np.testing.assert_allclose(
      [got["mean"], got["std"], got["min"], got["max"]],
      [ref.mean(), ref.std(ddof=0), ref.min(), ref.max()], rtol=1e-12)
  assert study_stats.summarize([]) is None
  assert study_stats.summarize([None, 0.5]) == {"mean": 0.5, "std": 0.0,
                                                "min": 0.5, "max": 0.5}


def test_precision_stats_match_numpy_for_every_phase_method_and_k():
  rows = _rows()
  for phase in study_stats.PHASES:
    stats = study_stats.precision_stats(rows, phase)
    assert set(stats) == {"nn", "csls"}
    for method in ("nn", "csls"):
      assert list(stats[method]) == list(_KS)
      ref = np.asarray(_P[(phase, method)])  # [seeds, ks]
      for j, k in enumerate(_KS):
        s = stats[method][k]
        np.testing.assert_allclose(
            [s["mean"], s["std"], s["min"], s["max"]],
            [ref[:, j].mean(), ref[:, j].std(), ref[:, j].min(),
             ref[:, j].max()], rtol=1e-12)
  # No test dictionary: no precision at all.
  assert study_stats.precision_stats([{"refined": None}], "refined") is None


def test_success_rule_is_half_the_baseline_inclusive():
  threshold = study_stats.success_threshold(0.755)
  assert threshold == pytest.approx(0.3775)
  outcomes = [study_stats.seed_success(r, threshold) for r in _rows()]
  # Seed 4 sits exactly on the threshold: it counts as a success.
  assert outcomes == [True, True, False, True, True]
  just_below = {"refined": {"csls": {"p@1": np.nextafter(threshold, 0)}}}
  assert study_stats.seed_success(just_below, threshold) is False
  assert study_stats.seed_success(_rows()[0], None) is None
  assert study_stats.seed_success({"refined": None}, threshold) is None
  # A seed that diverged before it was scored failed.
  assert study_stats.seed_success({"refined": None, "failed": "non-finite"},
                                  threshold) is False


def test_detector_accuracy_counts_agreements():
  actual = [True, True, False, True, False]
  assert study_stats.detector_accuracy(actual, actual) == 1.0
  assert study_stats.detector_accuracy([not a for a in actual], actual) == 0.0
  predicted = [True, False, False, True, True]
  ref = np.mean(np.asarray(predicted) == np.asarray(actual))
  assert study_stats.detector_accuracy(predicted, actual) == ref == 0.6
  # Seeds without a prediction (older runs) or an outcome are left out.
  assert study_stats.detector_accuracy([None, True, None],
                                       [True, True, None]) == 1.0
  assert study_stats.detector_accuracy([None, None], [True, False]) is None
  with pytest.raises(ValueError):
    study_stats.detector_accuracy([True], [True, False])


def test_config_entry():
  rows = study_stats.seed_rows({"wall_seconds": 50.0, "seeds": _rows(
      predicted=(True, False, False, True, True))})
  entry = study_stats.config_entry("gan_es_en", "gan", "es_en", rows,
                                   study_stats.success_threshold(0.755))
  assert entry["n_seeds"] == 5 and entry["n_success"] == 4
  assert entry["success_rate"] == pytest.approx(0.8)
  # Predictions differ from the outcomes on seed 11 only.
  assert entry["detector_accuracy"] == pytest.approx(0.8)
  assert [s["success"] for s in entry["seeds"]] == [True, True, False, True,
                                                    True]
  assert entry["refined"]["csls"]["p@1"]["min"] == pytest.approx(0.002)
  # No per-seed time: the run's wall time is shared among its seeds.
  assert entry["seconds"] == {"median": 10.0, "max": 10.0, "estimated": True}
  timed = [dict(r, seconds=s) for r, s in zip(_rows(), [3.0, 9.0, 1.0, 4.0,
                                                         30.0])]
  timed = study_stats.seed_rows({"wall_seconds": 50.0, "seeds": timed})
  entry = study_stats.config_entry("x", "gan", "es_en", timed, None)
  assert entry["seconds"] == {"median": 4.0, "max": 30.0, "estimated": False}
  assert entry["success_rate"] is None and entry["n_success"] is None
  pooled = study_stats.overall([entry, study_stats.config_entry(
      "y", "gan", "es_en", rows, 0.3775)])
  assert pooled["n_seeds"] == 10 and pooled["success_rate"] == 0.8


def test_takeoff_iterations_are_summarised_and_shown():
  steps = [2500, None, 750, 18250, None]
  rows = [dict(r, takeoff_step=t) for r, t in zip(_rows(), steps)]
  entry = study_stats.config_entry("gan_zh_en", "gan", "zh_en",
                                   study_stats.seed_rows({"wall_seconds": 5.0,
                                                          "seeds": rows}),
                                   0.25)
  took = [t for t in steps if t is not None]
  assert entry["takeoff"] == {"n": 3, "min": min(took),
                              "median": float(np.median(took)),
                              "max": max(took)}
  table = markdown.summary_table({"configs": [entry]})
  assert "| 750-18,250 (3/5) " in table
  seeds = markdown.seed_table(entry)
  column = [line.split("|")[7].strip() for line in seeds.splitlines()[2:]]
  assert column == ["2,500", "-", "750", "18,250", "-"]
  never = study_stats.config_entry("x", "gan", "zh_en", study_stats.seed_rows(
      {"wall_seconds": 5.0, "seeds": _rows()}), 0.25)
  assert never["takeoff"] is None
  assert "| -" in markdown.summary_table({"configs": [never]})


@pytest.mark.parametrize("text, seeds", [
    ("0-9", list(range(10))), ("3", [3]), ("0,2,5-7", [0, 2, 5, 6, 7]),
    ("7,1-2", [1, 2, 7]), (" 4 , 5 ", [4, 5])])
def test_parse_seeds(text, seeds):
  assert plan.parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["a", "1-", "-1", "5-3", "1,1", "0-3,2", ""])
def test_parse_seeds_refuses(text):
  with pytest.raises(app.UsageError, match="--seeds"):
    plan.parse_seeds(text)


def test_consecutive_seeds_share_a_run():
  assert plan.consecutive_runs([0, 2, 5, 6, 7]) == [[0], [2], [5, 6, 7]]
  assert plan.consecutive_runs(list(range(10))) == [list(range(10))]
  assert plan.consecutive_runs([]) == []
  # --seeds_per_run caps a run's length; gaps still split.
  assert plan.consecutive_runs([0, 1, 2, 3, 4, 7, 8], 2) == [
      [0, 1], [2, 3], [4], [7, 8]]
  assert plan.consecutive_runs([0, 1, 2], 1) == [[0], [1], [2]]
  assert plan.consecutive_runs([0, 1, 2], 0) == [[0, 1, 2]]


def test_differing_fields_forgive_only_new_fields_at_their_default():
  new = json.loads(registry.get_config("wgangp_es_en").to_json())
  assert plan.differing_fields(new, new) == []
  old = json.loads(json.dumps(new))
  del old["model"]["layer_norm_epsilon"]  # Saved before the field existed.
  assert new["model"]["layer_norm_epsilon"] == 1e-6  # The default.
  assert plan.differing_fields(old, new) == []
  wgan = json.loads(registry.get_config("wgan_es_en").to_json())
  assert wgan["model"]["layer_norm_epsilon"] == 0.01  # Not the default.
  del wgan["model"]["layer_norm_epsilon"]
  assert plan.differing_fields(
      wgan, json.loads(registry.get_config("wgan_es_en").to_json())) == [
          "model.layer_norm_epsilon"]
  changed = json.loads(json.dumps(new))
  changed["train"]["n_epochs"] += 1
  changed["train"]["gone"] = 1  # A field this version does not have.
  assert plan.differing_fields(changed, new) == ["train.gone",
                                                 "train.n_epochs"]


def test_seeds_per_run_gives_each_run_its_own_seeds_and_folder(tmp_path):
  _, [(_, _, runs)] = plan.plan(["gan_synthetic"], [0, 1, 2], [], tmp_path,
                                False, seeds_per_run=2)
  assert [(r.seeds, r.config.seed, r.config.n_seeds, r.workdir.name)
          for r in runs] == [([0, 1], 0, 2, "seeds-0-1"),
                             ([2], 2, 1, "seeds-2")]


def test_thesis_and_tuned_presets_are_rows_side_by_side(tmp_path):
  # Same objective, same pair, one baseline; the rows are told apart by the
  # config's name, and each run has its own folder.
  names = ["wgangp_es_en", "wgangp_thesis_es_en"]
  baselines, studies = plan.plan(names, [0, 1], [], tmp_path, False)
  assert list(baselines) == ["es_en"]
  assert baselines["es_en"].name == "procrustes_es_en"
  assert [(n, pair) for n, pair, _ in studies] == [
      ("wgangp_es_en", "es_en"), ("wgangp_thesis_es_en", "es_en")]
  assert [runs[0].config.method for *_, runs in studies] == ["wgangp"] * 2
  assert studies[0][2][0].workdir != studies[1][2][0].workdir
  rows = study_stats.seed_rows({"wall_seconds": 50.0, "seeds": _rows()})
  report = {"configs": [study_stats.config_entry(n, r[0].config.method, pair,
                                                 rows, 0.3775)
                        for n, pair, r in studies]}
  table = markdown.summary_table(report)
  assert "| wgangp_es_en " in table and "| wgangp_thesis_es_en " in table


# --- the command -----------------------------------------------------------

# gan_synthetic, tiny: 8-d, 1 epoch of ~2.8k samples, 1 refinement round.
TINY = ["progress=false", "data.synthetic.n_concepts=700",
        "data.synthetic.dim=8", "data.synthetic.n_clusters=10",
        "data.synthetic.n_train=150", "data.synthetic.n_test=120",
        "model.hidden=32", "train.epoch_size=2816", "train.n_epochs=1",
        "train.chunk_steps=44", "refine.n_rounds=1"]


def _command(workdir, *extra, configs="gan_synthetic,gan_es_en", seeds="0-1",
             data_dir):
  env = dict(os.environ, BDI_DATA_DIR=str(data_dir),
             XLA_PYTHON_CLIENT_PREALLOCATE="false")
  args = [sys.executable, "-m", "experiments.stability", f"--configs={configs}",
          f"--seeds={seeds}", f"--workdir={workdir}",
          *[f"--set={t}" for t in TINY], *extra]
  return subprocess.run(args, cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=600)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
  root = tmp_path_factory.mktemp("study")
  empty = root / "no-data"  # gan_es_en finds none of its files here.
  empty.mkdir()
  workdir = root / "out"
  result = _command(workdir, data_dir=empty)
  assert result.returncode == 0, result.stderr[-3000:]
  return workdir, result, empty


def _strict_json(path):
  def refuse(name):
    raise ValueError(f"non-standard JSON constant {name}")
  return json.loads(path.read_text(), parse_constant=refuse)


def test_command_writes_all_three_files(tiny_study):
  workdir, result, _ = tiny_study
  report = _strict_json(workdir / "stability.json")
  assert set(report) >= {"configs", "baselines", "command", "date", "device",
                         "overall", "skipped"}
  assert (workdir / "stability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  md = (workdir / "stability.md").read_text()
  assert "python -m experiments.stability --configs=gan_synthetic" in md
  assert report["date"] in md and report["device"] in md
  # The code it ran: this checkout's commit (None outside a checkout).
  checkout = provenance.git_version(REPO)
  assert (report["code"] or {}).get("commit") == (checkout or {}).get("commit")
  assert f"Code: {provenance.code_text(report['code'])}." in md
  assert "| gan_synthetic" in md and "before refinement P@1" in md
  assert "| max " in md and "| std " in md
  assert "outputs in" in result.stdout


def test_command_statistics_come_from_the_runs(tiny_study):
  workdir, _, _ = tiny_study
  report = _strict_json(workdir / "stability.json")
  [entry] = report["configs"]
  assert entry["config"] == "gan_synthetic" and entry["method"] == "gan"
  assert entry["pair"] == "synthetic" and entry["n_seeds"] == 2
  # Both seeds were trained in one run; reference: that run's summary.json.
  summary = _strict_json(workdir / "gan_synthetic" / "seeds-0-1" /
                         "summary.json")
  assert [s["seed"] for s in summary["seeds"]] == [0, 1]
  baseline = _strict_json(workdir / "procrustes_synthetic" / "summary.json")
  base_p1 = baseline["refined"]["csls"]["p@1"]
  assert report["baselines"]["synthetic"]["refined_csls_p@1"] == base_p1
  for phase in ("adversarial", "refined"):
    for method in ("nn", "csls"):
      for k in ("p@1", "p@5", "p@10"):
        ref = np.asarray([s[phase][method][k] for s in summary["seeds"]])
        got = entry[phase][method][k]
        np.testing.assert_allclose(
            [got["mean"], got["std"], got["min"], got["max"]],
            [ref.mean(), ref.std(), ref.min(), ref.max()], rtol=1e-9)
  outcomes = [s["refined"]["csls"]["p@1"] >= 0.5 * base_p1
              for s in summary["seeds"]]
  assert [s["success"] for s in entry["seeds"]] == outcomes
  assert entry["success_rate"] == pytest.approx(np.mean(outcomes))
  predicted = [s.get("predicted_success") for s in summary["seeds"]]
  if all(p is None for p in predicted):
    assert entry["detector_accuracy"] is None
  else:
    assert entry["detector_accuracy"] == pytest.approx(
        np.mean([p == o for p, o in zip(predicted, outcomes)]))
  assert entry["seconds"]["max"] <= summary["wall_seconds"]


def test_a_config_without_data_is_skipped_and_named(tiny_study):
  workdir, result, _ = tiny_study
  report = _strict_json(workdir / "stability.json")
  [skipped] = report["skipped"]
  assert skipped["config"] == "gan_es_en"
  assert "word2vec.es" in skipped["reason"]
  assert "skipping" in result.stderr
  assert "gan_es_en" in (workdir / "stability.md").read_text()


def test_rerun_reuses_finished_runs_and_refuses_other_configs(tiny_study):
  workdir, _, empty = tiny_study
  before = _strict_json(workdir / "stability.json")
  earlier = {n: (workdir / n).read_bytes() for n in report_lib.REPORT_FILES}
  again = _command(workdir, configs="gan_synthetic", data_dir=empty)
  assert again.returncode == 0, again.stderr[-3000:]
  assert again.stderr.count("reusing the finished run") == 2
  # The earlier report also named gan_es_en: the replacement says so, and
  # the earlier files are kept, byte for byte, under history/.
  assert "no longer reports gan_es_en" in again.stderr
  [kept] = (workdir / "history").iterdir()
  assert f"the earlier report is kept in {kept}" in again.stderr
  assert {n: (kept / n).read_bytes()
          for n in report_lib.REPORT_FILES} == earlier
  assert "gan_es_en" in [e["config"] for e in
                         _strict_json(kept / "stability.json")["skipped"]]
  after = _strict_json(workdir / "stability.json")
  assert after["configs"][0]["seeds"] == before["configs"][0]["seeds"]
  # Another schedule in the same workdir: refused, naming the field.
  other = _command(workdir, "--set=train.n_epochs=2", configs="gan_synthetic",
                   data_dir=empty)
  assert other.returncode == 2
  assert "train.n_epochs" in other.stderr and "--overwrite" in other.stderr


def test_more_seeds_reuse_the_finished_ones_and_train_only_the_rest(
    tiny_study, tmp_path):
  # A study grows across calls: seeds 0-1 finished, 0-2 asked for.
  finished, _, empty = tiny_study
  workdir = tmp_path / "out"
  shutil.copytree(finished, workdir)
  before = _strict_json(workdir / "stability.json")["configs"][0]["seeds"]
  # A run finished before a field existed (its config.json lacks it) is
  # reused while the config holds the field's default.
  saved = workdir / "gan_synthetic" / "seeds-0-1" / "config.json"
  old = json.loads(saved.read_text())
  del old["model"]["layer_norm_epsilon"]
  saved.write_text(json.dumps(old))
  grown = _command(workdir, configs="gan_synthetic", seeds="0-2",
                   data_dir=empty)
  assert grown.returncode == 0, grown.stderr[-3000:]
  assert "reusing the finished run in " + str(
      workdir / "gan_synthetic" / "seeds-0-1") in grown.stderr
  runs = sorted(p.name for p in (workdir / "gan_synthetic").iterdir())
  assert runs == ["seeds-0-1", "seeds-2"]  # Seed 2 alone, not 0-2 again.
  report = _strict_json(workdir / "stability.json")
  [entry] = report["configs"]
  assert [s["seed"] for s in entry["seeds"]] == [0, 1, 2]
  moved = [dict(r, workdir=r["workdir"].replace(str(finished), str(workdir)))
           for r in before]  # The rows name their run's (copied) folder.
  assert entry["seeds"][:2] == moved
  new = _strict_json(workdir / "gan_synthetic" / "seeds-2" / "summary.json")
  assert entry["seeds"][2]["refined"] == new["seeds"][0]["refined"]
  assert entry["n_seeds"] == 3
  assert {r["workdir"] for r in report["reused"]} == {
      str(workdir / "procrustes_synthetic"),
      str(workdir / "gan_synthetic" / "seeds-0-1")}
  md = (workdir / "stability.md").read_text()
  assert "## Runs reused from earlier calls" in md
  assert f"`{workdir / 'gan_synthetic' / 'seeds-0-1'}`: gan_synthetic, " \
      "seeds 0-1, finished " in md
  # Seeds 1-2: the finished 0-1 run holds an unrequested seed, so seed 1
  # trains anew; seed 2's run is reused.
  _, studies = plan.plan(["gan_synthetic"], [1, 2], TINY, workdir, False)
  [(_, _, runs)] = studies
  assert [(r.seeds, r.reuse, r.workdir.name) for r in runs] == [
      ([1], False, "seeds-1"), ([2], True, "seeds-2")]


@pytest.mark.parametrize("typo, words", [
    ("train.n_epoch=2", ["train.n_epoch", "train.n_epochs"]),
    ("train.n_epochs=abc", ["train.n_epochs is int"])])
def test_a_set_typo_fails_in_one_line_before_training(tmp_path, typo, words):
  workdir = tmp_path / "out"
  result = _command(workdir, f"--set={typo}", configs="gan_synthetic",
                    data_dir=tmp_path)
  assert result.returncode == 2
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: ")
  assert all(w in lines[0] for w in words)
  assert not workdir.exists()


# --- merging studies -------------------------------------------------------

def _report(label, configs, baseline_p1=0.755, pair="es_en"):
  """A study's report: each config gets the fixed rows above."""
  rows = study_stats.seed_rows({"wall_seconds": 50.0, "seeds": _rows()})
  threshold = study_stats.success_threshold(baseline_p1)
  return {"command": f"python -m experiments.stability --workdir={label}",
          "date": "2026-12-03", "device": f"device of {label}",
          "configs": [study_stats.config_entry(n, "gan", pair, rows, threshold)
                      for n in configs],
          "baselines": {pair: {"config": f"procrustes_{pair}",
                               "refined_csls_p@1": baseline_p1,
                               "success_threshold": threshold}},
          "skipped": [], "reused": [],
          "success_rule": "refined CSLS P@1 >= 0.5 x baseline"}


def test_merge_puts_rows_of_several_studies_side_by_side():
  a = _report("tuned", ["gan_es_en", "wgan_es_en"])
  b = _report("thesis", ["gan_thesis_es_en"])
  merged = study_stats.merge_reports([("tuned", a), ("thesis", b)])
  assert [(e["config"], e["study"]) for e in merged["configs"]] == [
      ("gan_es_en", 1), ("wgan_es_en", 1), ("gan_thesis_es_en", 2)]
  # Rows are copied, not recomputed; overall pools every seed (numpy).
  assert {k: v for k, v in merged["configs"][2].items() if k != "study"} == \
      b["configs"][0]
  outcomes = [s["success"] for e in merged["configs"] for s in e["seeds"]]
  assert merged["overall"]["n_seeds"] == 15
  assert merged["overall"]["success_rate"] == pytest.approx(np.mean(outcomes))
  assert [s["source"] for s in merged["studies"]] == ["tuned", "thesis"]
  assert merged["studies"][1]["command"] == b["command"]
  # --configs picks and orders the rows.
  picked = study_stats.merge_reports([("tuned", a), ("thesis", b)],
                                     ["gan_thesis_es_en", "gan_es_en"])
  assert [e["config"] for e in picked["configs"]] == ["gan_thesis_es_en",
                                                      "gan_es_en"]
  assert picked["overall"]["n_seeds"] == 10
  # A study made before `takeoff` existed: derived from its seed rows.
  old = _report("old", ["wgan_es_en"])
  old["configs"][0]["seeds"][0]["takeoff_step"] = 4250
  del old["configs"][0]["takeoff"]
  [row] = study_stats.merge_reports([("old", old)])["configs"]
  assert row["takeoff"] == {"n": 1, "min": 4250, "median": 4250.0,
                            "max": 4250}
  table = markdown.summary_table(dict(picked))
  assert table.splitlines()[0].startswith("| study | config")
  assert "|     2 | gan_thesis_es_en" in table


@pytest.mark.parametrize("second, names, words", [
    (_report("b", ["gan_es_en"]), None, ["gan_es_en is in both a and b"]),
    (_report("b", ["wgan_es_en"], baseline_p1=0.5), None,
     ["es_en baselines differ", "0.755 in a", "0.5 in b"]),
    (_report("b", ["wgan_es_en"]), ["gan_es_en", "ctgan_es_en"],
     ["ctgan_es_en in none of the studies"]),
])
def test_merge_refuses_rows_it_cannot_compare(second, names, words):
  with pytest.raises(errors.ConfigError) as e:
    study_stats.merge_reports([("a", _report("a", ["gan_es_en"])),
                               ("b", second)], names)
  assert all(w in str(e.value) for w in words), str(e.value)


def test_merge_keeps_a_duplicate_that_was_not_asked_for():
  merged = study_stats.merge_reports(
      [("a", _report("a", ["gan_es_en", "wgan_es_en"])),
       ("b", _report("b", ["gan_es_en", "ctgan_es_en"]))],
      ["wgan_es_en", "ctgan_es_en"])
  assert [(e["config"], e["study"]) for e in merged["configs"]] == [
      ("wgan_es_en", 1), ("ctgan_es_en", 2)]


def _with_settings(report, seed_offset=0, settings=None):
  report = json.loads(json.dumps(report))
  for e in report["configs"]:
    e["settings"] = settings or {"train": {"dis_lr": 0.1}, "model": {}}
    for row in e["seeds"]:
      row["seed"] += seed_offset
  return report


def test_merge_pools_one_config_of_two_studies_with_the_same_settings():
  a = _with_settings(_report("a", ["gan_es_en", "wgan_es_en"]))
  b = _with_settings(_report("b", ["gan_es_en"]), seed_offset=5)
  merged = study_stats.merge_reports([("a", a), ("b", b)])
  gan, wgan = merged["configs"]
  assert (gan["study"], gan["pooled_from"], wgan["study"]) == ("1+2", [1, 2], 1)
  assert [r["seed"] for r in gan["seeds"]] == list(range(10, 20))
  assert gan["n_seeds"] == 10 and merged["overall"]["n_seeds"] == 15
  # Reference: numpy over both studies' fixed rows (the same 5 rows twice).
  for phase, method in _P:
    for j, k in enumerate(_KS):
      values = np.array([p[j] for p in _P[(phase, method)]] * 2)
      got = gan[phase][method][k]
      assert got["mean"] == pytest.approx(values.mean())
      assert got["std"] == pytest.approx(values.std())
      assert (got["min"], got["max"]) == (values.min(), values.max())
  outcomes = [s["success"] for s in gan["seeds"]]
  assert gan["n_success"] == sum(outcomes) == 2 * sum(
      s["success"] for s in a["configs"][0]["seeds"])
  # A third study pools on; the table names every study of the row.
  c = _with_settings(_report("c", ["gan_es_en"]), seed_offset=10)
  three = study_stats.merge_reports([("a", a), ("b", b), ("c", c)],
                                    ["gan_es_en"])
  [row] = three["configs"]
  assert row["pooled_from"] == [1, 2, 3] and row["n_seeds"] == 15
  assert "| 1+2+3 | gan_es_en" in markdown.summary_table(three)


@pytest.mark.parametrize("b, words", [
    (_with_settings(_report("b", ["gan_es_en"]), seed_offset=3),
     "both hold seed 13, 14"),
    (_with_settings(_report("b", ["gan_es_en"]), seed_offset=5,
                    settings={"train": {"dis_lr": 0.2}, "model": {}}),
     "trained with different settings"),
    (_report("b", ["gan_es_en"]), "did not record its settings"),
])
def test_merge_does_not_pool_rows_of_other_settings_or_the_same_seeds(b, words):
  a = _with_settings(_report("a", ["gan_es_en"]))
  with pytest.raises(errors.ConfigError) as e:
    study_stats.merge_reports([("a", a), ("b", b)])
  assert "gan_es_en is in both a and b" in str(e.value)
  assert words in str(e.value), str(e.value)


def _merge(workdir, *sources, extra=()):
  args = [sys.executable, "-m", "experiments.stability",
          "--merge=" + ",".join(map(str, sources)), f"--workdir={workdir}",
          *extra]
  return subprocess.run(args, cwd=REPO, capture_output=True, text=True,
                        timeout=300)


def test_merge_command_writes_a_report_and_never_replaces_a_study(
    tiny_study, tmp_path):
  finished, _, _ = tiny_study
  own = (finished / "stability.json").read_bytes()
  out = tmp_path / "merged"
  result = _merge(out, finished, extra=["--configs=gan_synthetic"])
  assert result.returncode == 0, result.stderr[-3000:]
  merged, original = (_strict_json(out / "stability.json"),
                      _strict_json(finished / "stability.json"))
  # The rows as they were, plus the check of their presets against today's.
  assert [dict(e, study=None, preset=None) for e in merged["configs"]] == [
      dict(e, study=None, preset=None) for e in original["configs"]]
  # Only the picked rows' pair: es_en (no data) is left out.
  assert merged["baselines"] == {"synthetic":
                                 original["baselines"]["synthetic"]}
  assert merged["skipped"] == []
  md = (out / "stability.md").read_text()
  assert original["command"] in md and "| study |" in md
  assert (out / "stability.png").read_bytes()[:4] == b"\x89PNG"
  # Redoing a merge is fine; writing over a study's own report is not.
  assert _merge(out, finished).returncode == 0
  everything = _strict_json(out / "stability.json")
  # (Another test reruns the study without gan_es_en: compare, not assume.)
  assert [s["config"] for s in everything["skipped"]] == [
      s["config"] for s in original["skipped"]]
  into_study = _merge(finished, out / "stability.json", finished)
  assert into_study.returncode == 2
  assert "a study's own report" in into_study.stderr
  assert (finished / "stability.json").read_bytes() == own
  # The same study twice, training flags, a broken report: one-line errors.
  twice = _merge(tmp_path / "x", finished, finished)
  assert twice.returncode == 2 and "is in both" in twice.stderr
  trains = _merge(tmp_path / "x", finished, extra=["--seeds=0-3"])
  assert trains.returncode == 2 and "--seeds trains" in trains.stderr
  broken = tmp_path / "broken.json"
  broken.write_text('{"configs": [\n  {"config": "a",,}\n]}\n')
  bad = _merge(tmp_path / "x", broken)
  assert bad.returncode == 2
  assert f"{broken}, line 2: not valid JSON" in bad.stderr
  missing = _merge(tmp_path / "x", tmp_path / "nowhere")
  assert missing.returncode == 2 and "no such study report" in missing.stderr
  assert not (tmp_path / "x").exists()


def _settings(name, assignments=()):
  config = overrides.apply_overrides(registry.get_config(name),
                                     list(assignments))
  return plan.without_seeds(json.loads(config.to_json()))


def test_preset_check_tells_a_changed_preset_from_one_that_holds():
  budget = ["train.takeoff_budget=2"]
  held = _settings("wgangp_thesis_zh_en", budget)
  assert merge.preset_check("wgangp_thesis_zh_en", held, budget) == {
      "status": "same"}
  # The same settings read without the study's override: that one field.
  assert merge.preset_check("wgangp_thesis_zh_en", held, []) == {
      "status": "changed", "fields": ["train.takeoff_budget"]}
  # A preset edited after the study (here: the critic's width and lr).
  old = json.loads(json.dumps(held))
  old["model"]["hidden"] = held["model"]["hidden"] // 2
  old["train"]["dis_lr"] = held["train"]["dis_lr"] * 10
  assert merge.preset_check("wgangp_thesis_zh_en", old, budget) == {
      "status": "changed", "fields": ["model.hidden", "train.dis_lr"]}
  assert merge.preset_check("wgangp_thesis_zh_en", None, budget) == {
      "status": "unrecorded"}
  assert merge.preset_check("wgangp_thesis_zh_en", held, None) == {
      "status": "unrecorded"}
  assert merge.preset_check("gan_gone_en", held, budget) == {
      "status": "unregistered"}


def test_merge_flags_rows_whose_preset_changed_since(tiny_study, tmp_path):
  finished, _, _ = tiny_study
  original = _strict_json(finished / "stability.json")
  assert original["overrides"] == TINY
  [entry] = original["configs"]
  assert entry["settings"] == _settings("gan_synthetic", TINY)
  out = tmp_path / "merged"
  held = _merge(out, finished, extra=["--configs=gan_synthetic"])
  assert held.returncode == 0, held.stderr[-3000:]
  [row] = _strict_json(out / "stability.json")["configs"]
  assert row["preset"] == {"status": "same"}
  assert "Every row's preset is as its study ran it." in (
      out / "stability.md").read_text()
  # The report of a study whose preset was since edited, and an older one.
  edited = json.loads(json.dumps(original))
  edited["configs"][0]["settings"]["model"]["hidden"] = 999
  (tmp_path / "edited.json").write_text(json.dumps(edited))
  changed = _merge(out, tmp_path / "edited.json",
                   extra=["--configs=gan_synthetic"])
  assert changed.returncode == 0, changed.stderr[-3000:]
  [row] = _strict_json(out / "stability.json")["configs"]
  assert row["preset"] == {"status": "changed", "fields": ["model.hidden"]}
  md = (out / "stability.md").read_text()
  assert "changed since their study" in md and "`gan_synthetic` (model.hidden)" in md
  assert "changed since their study" in changed.stderr
  del edited["overrides"]
  (tmp_path / "older.json").write_text(json.dumps(edited))
  older = _merge(out, tmp_path / "older.json",
                 extra=["--configs=gan_synthetic"])
  assert older.returncode == 0, older.stderr[-3000:]
  [row] = _strict_json(out / "stability.json")["configs"]
  assert row["preset"] == {"status": "unrecorded"}
  assert "not checked against today's presets: `gan_synthetic`" in (
      out / "stability.md").read_text()
  # The same study's rows with other seeds (as if seeds 2-3 ran in another
  # workdir): one row of 4 seeds, still today's preset.
  more = json.loads(json.dumps(original))
  for row in more["configs"][0]["seeds"]:
    row["seed"] += 2
  (tmp_path / "more.json").write_text(json.dumps(more))
  pooled = _merge(out, finished, tmp_path / "more.json",
                  extra=["--configs=gan_synthetic"])
  assert pooled.returncode == 0, pooled.stderr[-3000:]
  [row] = _strict_json(out / "stability.json")["configs"]
  assert (row["study"], row["n_seeds"]) == ("1+2", 4)
  assert [r["seed"] for r in row["seeds"]] == [0, 1, 2, 3]
  assert row["preset"] == {"status": "same"}


def test_keep_earlier_report_moves_every_file_and_never_overwrites(tmp_path):
  assert report_lib.keep_earlier_report(tmp_path) is None  # Nothing to keep.
  kept = []
  for call in range(3):
    for name in ("stability.json", "stability.md"):
      (tmp_path / name).write_text(f"{name} of call {call}")
    os.utime(tmp_path / "stability.json", (1e9, 1e9))  # Same time each call.
    os.utime(tmp_path / "stability.md", (1e9, 1e9))
    kept.append(report_lib.keep_earlier_report(tmp_path))
  # One folder per call, none overwritten, nothing left behind.
  assert len(set(kept)) == 3 and all(k.parent == tmp_path / "history"
                                     for k in kept)
  for call, folder in enumerate(kept):
    assert sorted(p.name for p in folder.iterdir()) == ["stability.json",
                                                         "stability.md"]
    assert (folder / "stability.md").read_text() == \
        f"stability.md of call {call}"
  assert not any((tmp_path / n).exists() for n in report_lib.REPORT_FILES)


def test_seed_rows_leave_out_a_runs_restarted_seeds():
  # A run of seed 0 whose seed failed trained seeds 1 and 2 as restarts:
  # the study asked for seed 0 only.
  summary = {"wall_seconds": 30.0, "restarted_seeds": [1, 2],
             "seeds": [{"seed": s, "refined": None} for s in (0, 1, 2)]}
  rows = study_stats.seed_rows(summary)
  assert [r["seed"] for r in rows] == [0]
  assert rows[0]["seconds"] == pytest.approx(10.0)  # The run's time, shared.
