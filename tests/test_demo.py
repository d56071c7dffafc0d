"""The README's first command, at its real settings: ``--config=gan_synthetic``.

The demo preset is the general GAN preset on the generated data, with its
real schedule (only the restarts are off, so that seed 0 itself is tested,
and the progress bars). The known answer is the hidden rotation: the
generated target space is the source under it, so the right mapping gives
CSLS P@1 1 on the gold dictionary.
"""

import jax
import numpy as np
import pytest

from bdi_jax import detector, pipeline, refine, scoring, takeoff
from bdi_jax.data import synthetic, tasks
from experiments.configs import registry


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
  config = registry.get_config("gan_synthetic")
  config.restarts = 0
  config.progress = False
  workdir = tmp_path_factory.mktemp("demo") / "run"
  return config, pipeline.train_and_evaluate(config, workdir), workdir


def test_demo_seed_0_finds_the_hidden_rotation(demo):
  config, summary, workdir = demo
  assert config.seed == 0 and config.n_seeds == 1
  assert summary["refined"]["csls"]["p@1"] >= 0.95
  row = summary["seeds"][0]
  assert row["predicted_success"] is True and summary["status"] == "ok"
  # It stopped early, after a take-off the detector confirmed.
  assert row["takeoff_step"] is not None and "after take-off" in row["stopped"]
  # The mapping is the hidden rotation: W x = R x for the shared concepts.
  rotation = synthetic.make_synthetic_task(
      **dict(config.data.synthetic.items())).rotation
  w = np.load(workdir / "W.npy")
  assert np.linalg.norm(w - rotation) / np.linalg.norm(rotation) < 0.1


def test_a_random_mapping_on_the_demo_data_is_judged_a_failure(demo):
  config, summary, _ = demo
  task = tasks.load_task(config.data)
  spaces = scoring.device_spaces(task)
  settings = scoring.settings_from_config(config)
  null = detector.Null(np.asarray(summary["detector_null"]["criteria"]),
                       np.asarray(summary["detector_null"]["overlaps"]))
  # Fresh random rotations (a key the null did not use), refined as a seed.
  ws = np.asarray(detector.random_rotations(jax.random.key(123), 3,
                                            spaces.src.shape[1]))
  starts = scoring.score_mappings(spaces, ws, settings, "random")
  for start, refined in zip(starts, refine.refine_mappings(
      spaces, starts, settings, [0, 1, 2])):
    assert refined.precision["csls"]["p@1"] < 0.1  # Really wrong.
    verdict = detector.judge(refined.criterion,
                             refined.signals.get("dictionary_overlap"), null,
                             **detector.thresholds(config.eval))
    assert not verdict.success
    # Nor does the take-off test pass it, whatever its criterion.
    test = takeoff.make_test(spaces, settings, null, 0.0, config.eval)
    assert not test(start)
