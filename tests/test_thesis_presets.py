"""The thesis presets against the thesis's text, and the options they use.

THESIS_TABLE is written by hand from the thesis
(../shared/papers/000_9377ac3971cceb8e.txt), one row per setting with its
section; it is compared with ``registry.get_config`` for every thesis preset
and ablation on both UBiLexAT pairs. Nothing here is computed through the
presets' own functions. The options the presets set (the GAN's summed loss,
the penalty without dropout, the criterion's target-rank cut) are checked
against numpy references.
"""

import functools
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from bdi_jax import metrics
from bdi_jax import models
from bdi_jax import retrieval
from bdi_jax import scoring
from bdi_jax import step
from bdi_jax.objectives import ctgan
from bdi_jax.objectives import gan
from bdi_jax.objectives import get_objective
from bdi_jax.objectives import wgan
from bdi_jax.objectives import wgangp
from experiments import dry_run
from experiments.configs import registry
from tests import reference

_ = None  # Not a field of this objective: not checked.
TORCH_RMSPROP = {"decay": 0.99, "eps": 1e-8, "eps_in_sqrt": False}

# (field, gan_thesis, wgan_thesis, wgangp_thesis, ctgan_thesis, section).
THESIS_TABLE = (
    ("method", "gan", "wgan", "wgangp", "ctgan", "5.3"),
    ("model.hidden", 2048, 2048, 2048, 2048, "5.2.1: two hidden layers of 2048"),
    ("model.n_layers", 2, 2, 2, 2, "5.2.1"),
    ("model.leaky_slope", 0.2, 0.2, 0.2, 0.2, "5.2.1: Leaky-ReLU (MUSE's 0.2)"),
    ("model.layer_norm", False, True, True, True,
     "5.3, 5.3.4: LayerNorm for the three improved GANs"),
    ("model.layer_norm_epsilon", _, 1e-5, 1e-5, 1e-5,
     "5.3.1: PyTorch's defaults (nn.LayerNorm eps 1e-5)"),
    ("model.hidden_dropout", 0.0, 0.0, 0.0, 0.1,
     "4.2: CT-GAN's dropout before the output (the rate is ours)"),
    ("train.batch_size", 32, 32, 32, 32, "5.2.3: batch size 32"),
    ("train.map_optimizer", "sgd", "sgd", "sgd", "sgd", "5.2.3"),
    ("train.map_lr", 0.1, 0.1, 0.1, 0.1, "5.2.3: lr 0.1"),
    ("train.map_optimizer_kwargs", {}, {}, {}, {}, "5.2.3: no momentum"),
    ("train.map_beta", 0.01, 0.01, 0.01, 0.01, "5.2.4: beta = 0.01"),
    ("train.dis_optimizer", "sgd", "rmsprop", "adam", "adam",
     "5.2.3; 5.3.1: RMSprop (WGAN), Adam (WGAN-GP)"),
    ("train.dis_lr", 0.1, 5e-4, 5e-4, 5e-4, "5.2.3; 5.3.1: 0.0005"),
    ("train.dis_optimizer_kwargs", {}, TORCH_RMSPROP, {}, {},
     "5.3.1: PyTorch's defaults (RMSprop alpha 0.99; Adam = optax's)"),
    ("train.lr_shrink", 0.5, 1.0, 1.0, 1.0,
     "5.4.1: shrinking removed for the improved GANs (MUSE: 0.5)"),
    ("train.lr_decay", 0.98, 0.98, 0.98, 0.98, "5.3: MUSE's code, decay 0.98"),
    ("objective.smoothing", 0.0, _, _, _, "5.2.2: L_D has no smoothing"),
    ("objective.gan_reduction", "sum", _, _, _,
     "5.2.2: L_D is the sum of the two means"),
    ("objective.non_saturating", True, _, _, _,
     "5.2.2: L_W with flipped labels"),
    ("objective.clip", _, 0.25, _, _, "5.3.1: c = 0.25"),
    ("objective.gp_lambda", _, _, 0.5, 0.5, "5.3.1: lambda = 0.5"),
    ("objective.ct_lambda", _, _, _, 2.0, "5.3.1: lambda_CT = 2"),
    ("objective.ct_margin", _, _, _, 0.2, "5.3.1: m = 0.2"),
    ("objective.ct_feature_weight", _, _, _, 0.1, "4.2: 0.1 * ||D_ - D_||"),
    ("objective.penalty_dropout", _, _, False, False,
     "4.1: the penalty of Gulrajani et al.'s deterministic critic"),
    ("eval.csls_k", 10, 10, 10, 10, "5.2.7: csls 10"),
    ("eval.criterion_words", 10000, 10000, 10000, 10000,
     "5.2.6: the 10,000 most frequent words"),
    ("eval.criterion_max_target_rank", 10000, 10000, 10000, 10000,
     "5.2.7 step 4: target index above 10000 deleted"),
)
METHODS = ("gan_thesis", "wgan_thesis", "wgangp_thesis", "ctgan_thesis")
# Ablation -> (its thesis preset, the fields that differ from it).
ABLATIONS = {
    "gan_thesis_noshrink": ("gan_thesis", {"train.lr_shrink": 1.0}),
    "wgan_thesis_noln": ("wgan_thesis", {"model.layer_norm": False}),
    "wgangp_thesis_noln": ("wgangp_thesis", {"model.layer_norm": False}),
    "ctgan_thesis_noln": ("ctgan_thesis", {"model.layer_norm": False}),
}
PAIRS = ("es_en", "zh_en")


def _flat(config, prefix=""):
  out = {}
  for key, value in config.items():
    if isinstance(value, ml_collections.ConfigDict) and value:
      out.update(_flat(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = (value.to_dict() if isinstance(
          value, ml_collections.ConfigDict) else value)
  return out


def _expected(method):
  column = 1 + METHODS.index(method)
  out = {}
  for row in THESIS_TABLE:
    if row[column] is _:
      continue
    if isinstance(row[column], dict):
      for key, value in row[column].items():
        out[f"{row[0]}.{key}"] = value
      if not row[column]:
        out[row[0]] = {}
    else:
      out[row[0]] = row[column]
  return out


def test_the_table_has_a_section_for_every_row_and_no_field_twice():
  fields = [row[0] for row in THESIS_TABLE]
  assert len(fields) == len(set(fields))
  assert all(row[-1] and row[-1][0].isdigit() for row in THESIS_TABLE)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("method", METHODS)
def test_thesis_preset_matches_the_thesis_table(method, pair):
  config = _flat(registry.get_config(f"{method}_{pair}"))
  expected = _expected(method)
  assert {k: config.get(k, "absent") for k in expected} == expected


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("ablation", sorted(ABLATIONS))
def test_ablation_differs_from_its_preset_only_in_its_arm(ablation, pair):
  base, arm = ABLATIONS[ablation]
  config = _flat(registry.get_config(f"{ablation}_{pair}"))
  base_config = _flat(registry.get_config(f"{base}_{pair}"))
  differ = {k for k in set(config) | set(base_config)
            if config.get(k) != base_config.get(k)}
  # A LayerNorm's epsilon means nothing once it is off.
  assert differ - {"name", "model.layer_norm_epsilon"} == set(arm)
  assert {k: config[k] for k in arm} == arm
  assert config["name"] == f"{ablation}_{pair}"


def test_wgan_thesis_rmsprop_steps_as_pytorch_writes_it():
  # PyTorch's RMSprop (alpha 0.99, eps 1e-8 outside the root), in numpy.
  kwargs = registry.get_config("wgan_thesis_es_en").train.dis_optimizer_kwargs
  tx = step.make_optimizer("rmsprop", 5e-4, **dict(kwargs))
  rng = np.random.default_rng(0)
  p = np.zeros(4)
  params, state = jnp.zeros(4), tx.init(jnp.zeros(4))
  v = np.zeros(4)
  for _ in range(5):
    g = rng.normal(size=4) * 1e-3
    v = 0.99 * v + 0.01 * g * g
    p = p - 5e-4 * g / (np.sqrt(v) + 1e-8)
    updates, state = tx.update(jnp.asarray(g, jnp.float32), state, params)
    params = params + updates
  np.testing.assert_allclose(params, p, rtol=1e-4, atol=1e-9)


# ---------------------------------------------- the GAN's loss (Sec. 5.2.2)
def _linear_critic(params, x, key):
  del key
  return x @ params["w"], x


def _np_log_sigmoid(z):
  return -np.logaddexp(0.0, -z)


@pytest.mark.parametrize("reduction,factor", [("sum", 1.0), ("mean", 0.5)])
def test_gan_critic_loss_is_the_thesis_sum_of_means(reduction, factor):
  rng = np.random.default_rng(1)
  w = rng.normal(size=5)
  real, fake = rng.normal(size=(6, 5)), rng.normal(size=(6, 5)) + 0.5
  obj = get_objective("gan", ml_collections.ConfigDict(
      {"smoothing": 0.0, "gan_reduction": reduction}))
  loss, _ = obj.critic_loss(_linear_critic, {"w": jnp.asarray(w, jnp.float32)},
                            jnp.asarray(real, jnp.float32),
                            jnp.asarray(fake, jnp.float32), None)
  # -mean log P(real | y) - mean log P(mapped | Wx), labels unsmoothed.
  thesis = (-np.mean(_np_log_sigmoid(real @ w))
            - np.mean(_np_log_sigmoid(-(fake @ w))))
  np.testing.assert_allclose(loss, factor * thesis, rtol=1e-5)
  with pytest.raises(ValueError, match="objective.gan_reduction"):
    gan.make(ml_collections.ConfigDict({"gan_reduction": "median"}))


# ----------------------------------------- the penalty without dropout (4.1)
def _np_forward(params, x, slope=0.2):
  """The 2-layer critic without LayerNorm or dropout, in numpy float64."""
  h = np.asarray(x, np.float64)
  for i in range(2):
    dense = params[f"dense_{i}"]
    h = h @ np.asarray(dense["kernel"], np.float64) + np.asarray(dense["bias"])
    h = np.where(h > 0, h, slope * h)
  return h @ np.asarray(params["out"]["kernel"], np.float64)[:, 0] + float(
      params["out"]["bias"][0])


@functools.lru_cache(maxsize=None)
def _setup():
  module = models.Discriminator(hidden=8, n_layers=2, input_dropout=0.5)
  k_init, k_real, k_fake = jax.random.split(jax.random.key(3), 3)
  params = module.init(k_init, jnp.zeros((1, 5)))["params"]
  real = jax.random.normal(k_real, (6, 5)) + 1.0
  fake = jax.random.normal(k_fake, (6, 5))
  return models.make_critic(module), params, real, fake


def test_penalty_without_dropout_is_the_deterministic_critics():
  critic, params, real, fake = _setup()
  key = jax.random.key(9)
  penalty = jax.jit(lambda k, dropout: wgangp.gradient_penalty(
      critic, params, real, fake, k, dropout=dropout)[0],
                    static_argnames="dropout")
  gp = penalty(key, dropout=False)
  # The documented interpolates, scored by the numpy critic (no dropout),
  # differentiated by central differences.
  eps = np.asarray(jax.random.uniform(jax.random.split(key)[0], (6, 1)))
  x_hat = eps * np.asarray(real, np.float64) + (1 - eps) * np.asarray(
      fake, np.float64)
  h, grads = 1e-5, np.zeros_like(x_hat)
  for j in range(x_hat.shape[1]):
    up, down = x_hat.copy(), x_hat.copy()
    up[:, j] += h
    down[:, j] -= h
    grads[:, j] = (_np_forward(params, up) - _np_forward(params, down)) / (2 * h)
  expected = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)
  np.testing.assert_allclose(gp, expected, rtol=2e-3, atol=1e-6)
  # With dropout (input rate 0.5) the penalty is another critic's.
  with_dropout = penalty(key, dropout=True)
  assert abs(float(with_dropout) - expected) > 1e-3


@pytest.mark.parametrize("name", ["wgangp", "ctgan"])
def test_penalty_dropout_field_reaches_the_penalty_only(name):
  critic, params, real, fake = _setup()
  key = jax.random.key(11)
  obj = get_objective(name, ml_collections.ConfigDict(
      {"penalty_dropout": False, "gp_lambda": 2.0, "ct_lambda": 3.0}))
  loss, metrics_ = obj.critic_loss(critic, params, real, fake, key)
  keys = jax.random.split(key, 2 if name == "wgangp" else 3)
  w_loss, _ = wgan.critic_loss(critic, params, real, fake, keys[0])
  gp, _ = wgangp.gradient_penalty(critic, params, real, fake, keys[1],
                                  dropout=False)
  expected = w_loss + 2.0 * gp
  if name == "ctgan":  # The consistency term keeps its dropout.
    ct, _ = ctgan.consistency_term(critic, params, real, keys[2])
    assert float(ct) > 0
    expected = expected + 3.0 * ct
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(metrics_["gp"], gp, rtol=1e-6)


# ------------------------------------- the criterion's target rank (5.2.7)
def _np_criterion(src, tgt, n_words, max_rank, k=10):
  scores = reference.np_scores(src, tgt, "csls", k)[:n_words]
  best = np.argmax(scores, axis=1)
  cosines = np.sum(src[:n_words].astype(np.float64) * tgt[best], axis=1)
  kept = best < max_rank if max_rank else np.ones_like(best, bool)
  return cosines[kept].mean() if kept.any() else -1.0


@pytest.mark.parametrize("max_rank", [0, 1, 25, 60])
def test_criterion_drops_translations_ranked_above_the_cut(max_rank):
  rng = np.random.default_rng(5)
  src = reference.unit_rows(rng.normal(size=(80, 6)))
  tgt = reference.unit_rows(rng.normal(size=(70, 6)))
  ctx = retrieval.csls_context(jnp.asarray(src), jnp.asarray(tgt), k=10)
  got = metrics.criterion_value(jnp.asarray(src), jnp.asarray(tgt), ctx,
                                n_words=50, max_target_rank=max_rank)
  expected = _np_criterion(src, tgt, 50, max_rank)
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
  # The compiled scoring path reads the setting (identity mappings).
  settings = scoring.Settings(n_words=50, criterion_max_target_rank=max_rank)
  scores = scoring.score_batch(jnp.eye(6)[None], jnp.asarray(src),
                               jnp.asarray(tgt), None, settings)
  np.testing.assert_allclose(scores.criterion[0], expected, rtol=1e-5,
                             atol=1e-6)


def test_criterion_cut_is_read_from_the_config():
  config = registry.get_config("wgangp_thesis_es_en")
  assert scoring.settings_from_config(config).criterion_max_target_rank == (
      10000)
  tuned = registry.get_config("wgangp_es_en")
  assert scoring.settings_from_config(tuned).criterion_max_target_rank == 0
  del tuned.eval["criterion_max_target_rank"]  # A config saved before it.
  assert scoring.settings_from_config(tuned).criterion_max_target_rank == 0


# ------------------------------------ --dry_run of the fastText benchmark
def test_dry_run_names_missing_files_with_their_fetch_command(tmp_path):
  config = registry.get_config("wgangp_thesis_en_zh")
  (tmp_path / "muse-dictionaries").mkdir()
  (tmp_path / "muse-dictionaries" / "en-zh.5000-6500.txt").write_text("a b\n")
  text = dry_run.describe(config, root=tmp_path, rates=(1e11, 1e11))
  assert "nothing is trained" in text
  assert (f"wiki.en.vec (MISSING; fetch it with: python -m "
          f"bdi_jax.data.download --fasttext en --root {tmp_path})") in text
  assert "--fasttext zh" in text
  assert "en-zh.5000-6500.txt (present)" in text
  assert "en-zh.0-5000.txt (MISSING; fetch it with: python -m " \
         "bdi_jax.data.download --muse en-zh" in text
  assert "200,000 x 200,000 words, 300-d" in text
  # 20 passes over the 75k words the critic samples, capped at 1M samples.
  assert "memory: ~" in text and "12 epochs x 31,250 iterations" in text
  assert "derived from the data: train.epoch_size = 1,000,000" in text


def test_dry_run_reads_a_present_files_header_and_counts_flops(tmp_path):
  path = tmp_path / "v.txt"
  path.write_text("7 3\na 1 2 3\n")
  assert dry_run.vocabulary_shape(path, 0)[:2] == (7, 3)
  assert dry_run.vocabulary_shape(path, 5)[:2] == (5, 3)
  # By hand: gan, d 4, one hidden layer of 3, batch 2, 1 critic step, 10
  # iterations of one epoch, 1 seed. Critic MACs a row: 4*3 + 3 = 15; the
  # critic step: 6 passes x 2 rows x 15 = 180; mapping: 3 x 2 x (15 + 16) =
  # 186; orthogonalisation 2 x 64 = 128; 2 FLOPs a MAC.
  config = ml_collections.ConfigDict({
      "method": "gan", "n_seeds": 1,
      "model": {"hidden": 3, "n_layers": 1},
      "train": {"n_epochs": 1, "epoch_size": 20, "batch_size": 2,
                "dis_steps": 1}})
  assert dry_run.training_flops(config, 4) == 2.0 * 10 * (180 + 186 + 128)


def test_dry_run_flag_prints_the_plan_and_trains_nothing(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.run", "--config=gan_thesis_en_es",
       "--dry_run", f"--workdir={tmp_path / 'w'}"],
      capture_output=True, text=True, timeout=300,
      env={**os.environ, "BDI_DATA_DIR": str(tmp_path)})
  assert proc.returncode == 0, proc.stderr
  assert "dry run of gan_thesis_en_es" in proc.stdout
  assert "--fasttext es" in proc.stdout and "time: ~" in proc.stdout
  assert not (tmp_path / "w").exists()
