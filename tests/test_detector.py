"""The failure detector against numpy references and known answers: random
starts refine to the null and are judged failures; the hidden rotation is
judged a success; the verdict follows its formulas on both sides of each
threshold."""

import jax
import numpy as np
import pytest

from bdi_jax import detector, refine, scoring
from bdi_jax.data import synthetic, tasks
from tests.test_pipeline import small_synthetic_config

THRESHOLDS = dict(min_gain=0.25, min_z=3.0, min_stability=0.55)


def test_random_rotations_are_orthogonal_seeded_and_distinct():
  ws = np.asarray(detector.random_rotations(jax.random.key(3), 5, 7),
                  np.float64)
  assert ws.shape == (5, 7, 7)
  for w in ws:
    np.testing.assert_allclose(w @ w.T, np.eye(7), atol=1e-5)
  again = np.asarray(detector.random_rotations(jax.random.key(3), 5, 7))
  np.testing.assert_array_equal(ws, again)
  assert np.abs(ws[0] - ws[1]).max() > 0.1
  # Haar: the mean of many rotations' entries is ~0 (no preferred direction).
  many = np.asarray(detector.random_rotations(jax.random.key(4), 400, 3))
  assert np.abs(many.mean(axis=0)).max() < 0.1


def _reference(c, o, crit, overlaps, min_gain, min_z, min_stability):
  """The rule written out in numpy."""
  mean = np.mean(crit)
  spread = max(np.std(crit), 0.01)
  gain = (c - mean) / (1 - mean)
  z = (c - mean) / spread
  ok = gain >= min_gain and z >= min_z
  if o is not None:
    ok = ok and (o - np.mean(overlaps)) / (1 - np.mean(overlaps)) >= min_stability
  return ok


@pytest.mark.parametrize("c,o", [
    (0.80, 0.99), (0.80, 0.70), (0.80, None), (0.66, 0.99), (0.62, 0.99),
    (0.58, 0.5), (float("nan"), 0.99)])
def test_verdict_follows_the_rule(c, o):
  crit = np.asarray([0.55, 0.57, 0.56, 0.58])
  overlaps = np.asarray([0.5, 0.6, 0.55, 0.55])
  null = detector.Null(crit, overlaps)
  got = detector.judge(c, o, null, **THRESHOLDS)
  want = (np.isfinite(c) and
          _reference(c, o, crit, overlaps, **THRESHOLDS))
  assert got.success == want
  if np.isfinite(c):
    assert got.gain == pytest.approx((c - crit.mean()) / (1 - crit.mean()))
    assert got.z == pytest.approx((c - crit.mean()) / max(crit.std(), 0.01))


def test_each_threshold_can_decide_alone():
  null = detector.Null(np.asarray([0.55, 0.57, 0.56, 0.58]),
                       np.asarray([0.5, 0.6, 0.55, 0.55]))
  assert detector.judge(0.80, 0.99, null, **THRESHOLDS).success
  assert not detector.judge(0.80, 0.70, null, **THRESHOLDS).success  # Unsettled.
  assert not detector.judge(0.62, 0.99, null, **THRESHOLDS).success  # Low gain.
  assert not detector.judge(0.80, 0.99, None, **THRESHOLDS).success  # No null.


@pytest.fixture(scope="module")
def small_task():
  config = small_synthetic_config("gan")
  task = tasks.load_task(config.data)
  settings = scoring.settings_from_config(config)
  return config, task, scoring.device_spaces(task), settings


def _refined(spaces, settings, ws):
  starts = scoring.score_mappings(spaces, ws, settings, "start")
  return refine.refine_mappings(spaces, starts, settings, list(range(len(ws))))


def test_random_starts_fail_and_the_hidden_rotation_succeeds(small_task):
  _, task, spaces, settings = small_task
  null = detector.measure_null(spaces, settings, jax.random.key(0), 4)
  assert null.criteria.shape == null.overlaps.shape == (4,)
  # Other random starts than the null's own: judged failures, and they are
  # (P@1 ~ 0 against the gold dictionary).
  others = np.asarray(detector.random_rotations(
      jax.random.key(99), 3, spaces.src.shape[1]))
  for m in _refined(spaces, settings, others):
    assert m.precision["csls"]["p@1"] < 0.05
    v = detector.judge(m.criterion, m.signals["dictionary_overlap"], null,
                       **THRESHOLDS)
    assert not v.success, v
  # The hidden rotation (as the generator made it), and the supervised
  # Procrustes solution of the training pairs: judged successes.
  cfg = small_task[0].data.synthetic
  hidden = synthetic.make_synthetic_task(
      seed=cfg.seed, n_concepts=cfg.n_concepts, dim=cfg.dim,
      n_clusters=cfg.n_clusters, keep_fraction=cfg.keep_fraction,
      noise=cfg.noise, spectrum_decay=cfg.spectrum_decay,
      n_train=cfg.n_train, n_test=cfg.n_test).rotation
  pairs = task.train_pairs
  supervised = np.asarray(refine.procrustes(spaces.src[pairs[:, 0]],
                                            spaces.tgt[pairs[:, 1]]))
  for m in _refined(spaces, settings, np.stack([hidden, supervised])):
    assert m.precision["csls"]["p@1"] > 0.95
    v = detector.judge(m.criterion, m.signals["dictionary_overlap"], null,
                       **THRESHOLDS)
    assert v.success, v
  assert detector.measure_null(spaces, settings, jax.random.key(0), 0) is None
