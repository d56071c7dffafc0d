"""Settings derived from the data (bdi_jax/derived.py), against written-out
answers, and the run that records them."""

import json

import numpy as np
import pytest

from bdi_jax import derived, detector, pipeline, takeoff, workdir_lock
from experiments.configs import registry


@pytest.mark.parametrize("dim, per_dim, n_words, width", [
    (20, 8.0, 4222, 256),     # 160 -> 256, also the floor.
    (50, 8.0, 4774, 512),     # 400 -> 512.
    (50, 4.0, 3349, 256),     # 200 -> 256.
    (64, 4.0, 5000, 256),     # 256 exactly: not rounded up further.
    (65, 4.0, 5000, 512),     # 260 -> 512.
    (300, 8.0, 200000, 2048),  # 2,400 -> 4,096; Conneau et al.'s 2,048.
    (300, 4.0, 200000, 2048),  # 1,200 -> 2,048.
    (300, 4.0, 2500, 1024),   # Half of 2,500 words: 1,250 -> 1,024.
    (300, 4.0, 744, 256),     # 372 -> 256: the floor wins over the cap.
    (2, 1.0, 10, 256),
])
def test_critic_width_is_a_power_of_two_per_dimension_within_bounds(
    dim, per_dim, n_words, width):
  assert derived.critic_width(dim, per_dim, n_words) == width


@pytest.mark.parametrize("n_src, n_tgt, most_frequent, batch, expected", [
    # UBiLexAT es-en: 20 passes over the larger side's 6,637 words, in
    # whole batches of 32: 132,740 -> 4,148 batches -> 132,736.
    (4774, 6637, 75000, 32, 132736),
    (4774, 6637, 0, 32, 132736),  # 0: every word.
    (4774, 6637, 3000, 32, 60000),  # Both sides capped at 3,000 words.
    # fastText 200k words, the critic on the 75k most frequent: 1.5M, capped
    # at MUSE's epoch of 1M samples.
    (200000, 200000, 75000, 32, 1000000),
    (10, 5, 0, 512, 512),  # Fewer samples than one batch: one batch.
])
def test_epoch_size_is_passes_over_the_sampled_words(n_src, n_tgt,
                                                     most_frequent, batch,
                                                     expected):
  assert derived.epoch_size(n_src, n_tgt, most_frequent, 20, batch) == expected


def test_derive_fills_only_the_fields_left_at_zero():
  config = registry.get_config("gan")
  out, sizes = derived.derive(config, 4774, 6637, 50)
  assert sizes == {"model.hidden": 512, "train.epoch_size": 132736}
  assert (out.model.hidden, out.train.epoch_size) == (512, 132736)
  assert (config.model.hidden, config.train.epoch_size) == (0, 0)  # A copy.
  thesis = registry.get_config("gan_thesis_es_en")  # Its own 2 x 2048.
  out, sizes = derived.derive(thesis, 4774, 6637, 50)
  assert sizes == {"train.epoch_size": 132736} and out.model.hidden == 2048
  fixed = registry.get_config("procrustes_es_en")
  assert derived.derive(fixed, 4774, 6637, 50)[1] == {}


def test_takeoff_criterion_from_the_null_or_the_identity():
  config = registry.get_config("gan_zh_en")
  # UBiLexAT zh-en's null, as a run measures it.
  null = detector.Null(np.array([0.5597, 0.5587, 0.5599, 0.5596]),
                       np.full(4, 0.6))
  mean = (0.5597 + 0.5587 + 0.5599 + 0.5596) / 4
  assert takeoff.threshold(0.46, null, config.eval) == pytest.approx(
      mean + 0.2 * (1 - mean))
  # No null (the detector off), or the gain set to 0: the identity's + margin.
  assert takeoff.threshold(0.46, None, config.eval) == pytest.approx(
      0.46 + 0.23)
  config.eval.takeoff_null_gain = 0.0
  assert takeoff.threshold(0.46, null, config.eval) == pytest.approx(
      0.46 + 0.23)


def test_a_run_records_what_it_derived(tmp_path):
  # A general preset on small generated data: the run fills the sizes from
  # the data, says so in its log and summary, and config.json keeps the 0s
  # that were asked for.
  config = registry.get_config("gan")
  with config.unlocked():
    config.data.kind = "synthetic"
    config.data.synthetic.n_concepts = 400
    config.data.synthetic.n_train = 100
    config.data.synthetic.n_test = 100
    config.data.synthetic.dim = 12
    config.train.n_epochs = 1
    config.train.chunk_steps = 50
    config.train.epoch_passes = 2
    config.eval.criterion_words = 300
    config.refine.n_rounds = 2  # The detector's null needs two rounds.
    config.restarts = 0
    config.progress = False
  summary = pipeline.train_and_evaluate(config, tmp_path / "run")
  n_src = int(round(400 * 0.85))  # Upper bound on a side's words.
  epoch = summary["derived"]["train.epoch_size"]
  assert summary["derived"]["model.hidden"] == 256  # 8 x 12 = 96 -> 256.
  assert epoch % 32 == 0 and 0 < epoch <= 2 * 400
  assert epoch >= 2 * n_src * 0.8 // 32 * 32  # About 2 passes.
  null = summary["detector_null"]["mean"]
  assert summary["derived"]["takeoff_criterion"] == pytest.approx(
      null + 0.2 * (1 - null))
  saved = json.loads((tmp_path / "run" / "config.json").read_text())
  assert saved["model"]["hidden"] == 0 and saved["train"]["epoch_size"] == 0
  log = (tmp_path / "run" / "train.log").read_text()
  assert "derived from the data: model.hidden = 256" in log


def test_lock_path_of_the_current_folder_is_beside_it(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  assert workdir_lock.lock_path(".") == tmp_path.parent / (
      tmp_path.name + workdir_lock.SUFFIX)
