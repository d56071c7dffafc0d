"""The flow experiments' command line, driver and data readers: IDX files the
test writes byte by byte, the seeds flag, the config registry, and a tiny
run end to end (summary, metrics, staged workdir)."""

import gzip
import json
import struct
import subprocess
import sys

import jax
import numpy as np
import pytest

from absl import app
from bdi_jax import errors
from bdi_jax.flows import idx
from bdi_jax.flows import toy_data
from experiments.flow_configs import registry


def _idx_bytes(array, type_byte, be_dtype):
  header = bytes([0, 0, type_byte, array.ndim])
  header += b"".join(struct.pack(">I", n) for n in array.shape)
  return header + np.asarray(array).astype(be_dtype).tobytes()


def test_idx_reader_on_files_written_here(tmp_path):
  images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
  labels = np.array([7, 0, 9], np.uint8)
  floats = np.array([[1.5, -2.25], [3e5, 0.0]], np.float32)
  (tmp_path / "train-images-idx3-ubyte").write_bytes(
      _idx_bytes(images, 0x08, ">u1"))
  (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
      gzip.compress(_idx_bytes(labels, 0x08, ">u1")))
  (tmp_path / "f.idx").write_bytes(_idx_bytes(floats, 0x0D, ">f4"))
  np.testing.assert_array_equal(
      idx.read_idx(tmp_path / "train-images-idx3-ubyte"), images)
  np.testing.assert_array_equal(
      idx.read_idx(tmp_path / "train-labels-idx1-ubyte.gz"), labels)
  np.testing.assert_array_equal(idx.read_idx(tmp_path / "f.idx"), floats)
  # The writer round-trips through the reader (int32, big-endian on disk).
  ints = np.array([[-5, 70000], [3, 2]], np.int32)
  idx.write_idx(tmp_path / "i.idx", ints)
  assert (tmp_path / "i.idx").read_bytes()[:4] == bytes([0, 0, 0x0C, 2])
  np.testing.assert_array_equal(idx.read_idx(tmp_path / "i.idx"), ints)
  # load_mnist names the first missing file.
  with pytest.raises(errors.DataError, match="t10k-images-idx3-ubyte"):
    idx.load_mnist(tmp_path)


def test_idx_reader_errors_name_the_file(tmp_path):
  good = _idx_bytes(np.zeros((2, 3), np.uint8), 0x08, ">u1")
  (tmp_path / "cut").write_bytes(good[:-1])
  (tmp_path / "magic").write_bytes(b"\x01\x02" + good[2:])
  (tmp_path / "type").write_bytes(b"\x00\x00\x07\x01" + good[4:])
  for name, pattern in [("cut", "truncated"), ("magic", "not an IDX"),
                        ("type", "type byte 0x07")]:
    with pytest.raises(errors.DataError, match=pattern) as e:
      idx.read_idx(tmp_path / name)
    assert str(tmp_path / name) in str(e.value)
    assert "\n" not in str(e.value)


def test_registry_rows_follow_the_thesis():
  gmm = registry.get_config("mle_single_gmm")
  assert (gmm.n_couplings, gmm.depth, gmm.width) == (4, 5, 100)
  mix = registry.get_config("pgan_gmm")
  assert (mix.n_components, mix.n_couplings, mix.depth, mix.width) == (
      6, 2, 3, 50)
  assert (mix.critic, mix.critic_depth, mix.critic_width) == ("pgan", 3, 50)
  # Sec. 4.3 as written: the posterior is a constant in every update (the
  # penalty-through-the-posterior variant is ours, an ablation).
  assert mix.posterior_in_gp is False
  # Ours (issue 28): Mixflow components start as N(k-means++ seed, I).
  assert (mix.init_centres, mix.m_out_scale) == ("kmeans++", 0.0)
  assert registry.get_config("mle_mixflow_centred_gmm").init_centres == "data"
  assert registry.get_config("gan_single_swissroll").lambda_ml == 0.0
  digits = registry.get_config("gan_ml_mixflow_digits")
  assert (digits.base, digits.lambda_gp, digits.lambda_ml, digits.lambda_ent,
          digits.n_components) == ("logistic", 10.0, 0.001, 1.0, 10)
  assert registry.get_config("mle_mixflow_gmm").thesis.nll == 742.85
  with pytest.raises(ValueError, match="did you mean"):
    registry.get_config("mle_mixflow_gm")


def test_list_configs_and_bad_config_are_one_line():
  out = subprocess.run([sys.executable, "-m", "experiments.flows",
                        "--list_configs"], capture_output=True, text=True,
                       check=True).stdout
  assert "pgan_gmm" in out and "mle_mixflow_digits" in out
  bad = subprocess.run([sys.executable, "-m", "experiments.flows",
                        "--config=pgan_gm"], capture_output=True, text=True)
  assert bad.returncode != 0
  assert bad.stderr.strip().count("\n") == 0
  assert "pgan_gmm" in bad.stderr


def _fake_digits(test_size=297, seed=0):
  """Stands in for scikit-learn's digits: integer levels 0..16, 10 labels."""
  del test_size, seed
  rng = np.random.default_rng(0)
  x = rng.integers(0, 17, (60, 64)).astype(np.float32)
  y = np.arange(60) % 10
  return x[:50], x[50:], y[:50], y[50:]


def test_tiny_digits_run_end_to_end(tmp_path, monkeypatch):
  from bdi_jax.flows import experiment  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(toy_data, "load_digits", _fake_digits)
  config = registry.get_config("gan_ml_mixflow_digits")
  config.update(dict(epochs=4, chunk=2, pretrain_epochs=2, width=8, depth=1,
                     critic_width=8, critic_depth=1, batch_size=8,
                     n_components=2, critic_steps=1, init_centres="kmeans++"))
  workdir = tmp_path / "run"
  summary = experiment.run(config, workdir, [0, 3])
  saved = json.loads((workdir / "summary.json").read_text())
  assert saved["seeds"] == [0, 3] and saved["epochs"] == 4
  lines = (workdir / "metrics.jsonl").read_text().splitlines()
  assert len(lines) == 2 * 2  # two chunks x two seeds
  assert json.loads(lines[-1])["epoch"] == 4
  curves = np.load(workdir / "curves.npz")
  assert curves["nll_sum"].shape == (2, 4)
  # The reported figure is the mean of the last 10% of epochs (here, 1).
  np.testing.assert_allclose(summary["nll_batch_sum"]["values"],
                             curves["nll_sum"][:, -1], rtol=1e-6)
  np.testing.assert_allclose(np.sum(saved["final_weights"], axis=1), 1.0,
                             atol=1e-5)
  assert np.isfinite(saved["test_nll_per_row"]["mean"])
  assert not (tmp_path / "run.partial").exists()
  with pytest.raises(errors.WorkdirError, match="--overwrite"):
    experiment.run(config, workdir, [0])


def test_toy_samplers():
  x = np.asarray(toy_data.swiss_roll(jax.random.key(0), 4000))
  r = np.linalg.norm(x, axis=1)
  # t in [1.5 pi, 7.5 pi], radius t / 3, plus noise of 0.25.
  assert 1.0 < r.min() and r.max() < 7.5 * np.pi / 3 + 1.5
  levels = np.asarray(_fake_digits()[0])
  d = np.asarray(toy_data.digits_sampler(jax.random.key(1), 500, levels))
  assert d.min() >= 0.0 and d.max() < 1.0
  # Dequantised pixels round back down to the stored level.
  assert set(np.unique(np.floor(d * 17))) <= set(range(17))
