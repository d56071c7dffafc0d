"""Config registry and the command line: names, overrides, missing data."""

import json
import os
import pathlib
import subprocess
import sys

import ml_collections
import pytest

from bdi_jax import errors
from bdi_jax import models
from bdi_jax import outputs
from bdi_jax import train
from bdi_jax import trainer
from bdi_jax import validate
from bdi_jax.data import tasks
from bdi_jax.objectives import REGISTRY as OBJECTIVES
from bdi_jax.pipeline import START_METHODS
from experiments import run
from experiments.configs import default
from experiments.configs import registry

REPO = pathlib.Path(__file__).resolve().parents[1]


ALL_NAMES = sorted(registry.CONFIGS)
_ABSENT = object()


def _flat(config, prefix=""):
  """{dotted path: value} of every leaf; tuples as lists (as JSON has them)."""
  out = {}
  for key, value in config.items():
    if isinstance(value, ml_collections.ConfigDict):
      out.update(_flat(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
  return out


def _changes(table_entry):
  """The fields one table entry changes when applied alone to the default."""
  base = _flat(default.get_config())
  config = default.get_config()
  table_entry(config)
  return {k: v for k, v in _flat(config).items() if base.get(k, _ABSENT) != v}


def _split(name):
  for method in registry.METHODS:
    if name.startswith(method + "_") and name[len(method) + 1:] in (
        registry.DATASETS):
      return method, name[len(method) + 1:]
  raise AssertionError(f"{name} is not METHOD_DATASET")


def test_names_are_every_method_times_every_dataset():
  assert set(registry.CONFIGS) == {f"{m}_{d}" for m in registry.METHODS
                                   for d in registry.DATASETS}
  # Every tuning row names a config that exists (a typo would be ignored).
  assert set(registry.TUNING) <= set(registry.CONFIGS)


def _composed(name):
  """Independent reference for a preset: each of its three table rows applied
  alone to the default, their changes composed (dataset, method, tuning)."""
  method, dataset = _split(name)
  expected = _flat(default.get_config())
  expected.update(_changes(registry.DATASETS[dataset]))
  expected.update(_changes(registry.METHODS[method]))
  if name in registry.TUNING:
    expected.update(_changes(registry.TUNING[name]))
  expected["name"] = name
  return expected


@pytest.mark.parametrize("name", ALL_NAMES)
def test_config_is_the_default_changed_exactly_where_its_tables_say(name):
  assert _flat(registry.get_config(name)) == _composed(name)


def test_the_table_reference_sees_a_change_outside_the_tables():
  # The reference is not vacuous: the method row really changes the critic's
  # optimiser, the tuning row the width, and a stray change is a difference.
  reference = _composed("wgangp_es_en")
  base = _flat(default.get_config())
  assert reference["train.dis_optimizer"] != base["train.dis_optimizer"]
  assert reference["model.hidden"] != base["model.hidden"]
  config = registry.get_config("wgangp_es_en")
  config.train.dis_lr *= 2
  assert _flat(config) != reference


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_config_validates_and_builds_its_trainer(name):
  config = registry.get_config(name)
  validate.check_config(config)  # Raises ConfigError on any bad field.
  assert (config.method in OBJECTIVES
          or config.method in START_METHODS), name
  if config.method in OBJECTIVES:
    # Objective, optimisers and critic all resolve (nothing is compiled yet).
    trainer.build_trainer(config, 8)
  if config.data.kind == "files":
    # Every data path is relative to the data root, under a known folder.
    for field in ("src_emb", "tgt_emb", "test_dict"):
      path = pathlib.PurePosixPath(config.data[field])
      assert not path.is_absolute() and len(path.parts) >= 2, (name, field)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_config_round_trips_through_its_saved_json(name):
  # What a run writes as config.json reads back (bdi_jax.saved.load_config)
  # as the same, still valid, config.
  config = registry.get_config(name)
  text = json.dumps(outputs.jsonable(config.to_dict()), allow_nan=False)
  loaded = ml_collections.ConfigDict(json.loads(text))
  assert _flat(loaded) == _flat(config)
  validate.check_config(loaded)


# --- the thesis's settings, as written (issue 7, item 6) ---------------------

# Independent of the registry: thesis method -> (objective, critic optimiser,
# critic lr, hidden dropout).
THESIS = {
    "gan_thesis": ("gan", "sgd", 0.1, 0.0),
    "wgan_thesis": ("wgan", "rmsprop", 5e-4, 0.0),
    "wgangp_thesis": ("wgangp", "adam", 5e-4, 0.0),
    "ctgan_thesis": ("ctgan", "adam", 5e-4, 0.1),
}
THESIS_NAMES = sorted(f"{m}_{d}" for m in THESIS for d in registry.DATASETS)
_UBILEXAT = ("es_en", "zh_en", "en_en")


def test_thesis_presets_exist_for_every_dataset():
  assert set(registry.THESIS_METHODS) == set(THESIS)
  assert set(THESIS_NAMES) <= set(registry.CONFIGS)
  assert {"wgangp_thesis_es_en", "ctgan_thesis_zh_en"} <= set(THESIS_NAMES)


@pytest.mark.parametrize("name", THESIS_NAMES)
def test_thesis_preset_follows_the_thesis(name):
  method, _ = _split(name)
  objective, optimizer, lr, hidden_dropout = THESIS[method]
  config = registry.get_config(name)
  validate.check_config(config)
  assert config.name == name
  assert config.method == objective and objective in OBJECTIVES
  assert config.train.map_beta == 0.01  # Sec. 5.2.4.
  m = config.model
  assert (m.hidden, m.n_layers, m.layer_norm) == (2048, 2, True)
  assert m.layer_norm_epsilon == 1e-6  # flax's LayerNorm, as it comes.
  assert (m.input_dropout, m.hidden_dropout) == (0.1, hidden_dropout)
  t = config.train
  assert (t.dis_optimizer, t.dis_lr) == (optimizer, lr)
  assert (t.map_optimizer, t.map_lr) == ("sgd", 0.1)
  assert t.lr_shrink == 1.0
  # The optimiser as built: the framework's defaults (optax: Adam betas 0.9 /
  # 0.999, RMSprop decay 0.9), not Gulrajani et al.'s (0.5, 0.9).
  state = train.make_optimizer(
      t.dis_optimizer, t.dis_lr, **dict(t.dis_optimizer_kwargs)).init({})
  hyper = {k: float(v) for k, v in state.hyperparams.items()}
  assert hyper["learning_rate"] == pytest.approx(lr)
  if optimizer == "adam":
    assert (hyper["b1"], hyper["b2"]) == pytest.approx((0.9, 0.999))
  if optimizer == "rmsprop":
    assert hyper["decay"] == pytest.approx(0.9)
  # The critic as built from the config (the trainer's helper) has it all.
  critic = models.discriminator_from_config(m)
  assert (critic.hidden, critic.n_layers, critic.layer_norm,
          critic.hidden_dropout) == (2048, 2, True, hidden_dropout)


@pytest.mark.parametrize("method", sorted(THESIS))
@pytest.mark.parametrize("dataset", ("synthetic",) + _UBILEXAT + ("en_zh",))
def test_thesis_and_tuned_presets_differ_only_where_the_thesis_says(method,
                                                                    dataset):
  objective = THESIS[method][0]
  thesis = _flat(registry.get_config(f"{method}_{dataset}"))
  tuned = _flat(registry.get_config(f"{objective}_{dataset}"))
  differ = {k for k in set(thesis) | set(tuned)
            if thesis.get(k, _ABSENT) != tuned.get(k, _ABSENT)}
  expected = {"name", "train.map_beta"}
  if objective == "gan":  # Tuned: no LayerNorm, MUSE's lr shrink 0.5 ...
    expected.add("model.layer_norm")
    if dataset == "zh_en":  # ... but neither shrink nor decay on zh-en.
      expected.add("train.lr_decay")
    else:
      expected.add("train.lr_shrink")
  if (objective, dataset) == ("ctgan", "zh_en"):  # Tuned: weight 0.5.
    expected.add("objective.ct_lambda")
  if objective in ("wgangp", "ctgan"):  # Tuned: Adam betas (0.5, 0.9).
    expected |= {"train.dis_optimizer_kwargs.b1",
                 "train.dis_optimizer_kwargs.b2"}
  if objective == "ctgan":
    expected.add("model.hidden_dropout")
  if objective == "wgan":  # Tuned: a 10x slower critic (registry._wgan),
    # whose LayerNorms' gain is capped.
    expected |= {"train.dis_lr", "model.layer_norm_epsilon"}
  if dataset != "en_zh":  # Tuned: the 256- or 512-wide critic of the small data.
    expected.add("model.hidden")
  assert differ == expected
  # The same epochs as the tuned preset: only the critic is the thesis's.
  for field in ("train.epoch_size", "train.n_epochs",
                "train.dis_most_frequent"):
    assert thesis[field] == tuned[field], field


def test_list_configs_names_the_thesis_presets():
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.run", "--list_configs"],
      cwd=REPO, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr
  listed = proc.stdout.split()
  assert listed == sorted(registry.CONFIGS)
  assert set(THESIS_NAMES) <= set(listed)
  assert "wgangp_es_en" in listed  # Beside the tuned ones.


def test_validation_catches_a_bad_preset_value():
  # The validation above can fail: one bad field is named.
  config = registry.get_config("gan_es_en")
  config.train.batch_size = 0
  with pytest.raises(errors.ConfigError, match="train.batch_size"):
    validate.check_config(config)


def test_unknown_config_names_suggest_close_matches():
  with pytest.raises(ValueError, match="Did you mean wgangp_en_zh"):
    registry.get_config("wgangp_en_zhh")


def test_bare_names_resolve_to_the_registry_file():
  argv = run.resolve_config_argv(["run", "--config=gan_es_en", "--workdir=x"])
  assert argv[1] == f"--config={run.REGISTRY_FILE}:gan_es_en"
  argv = run.resolve_config_argv(["run", "--config", "gan_es_en"])
  assert argv[2] == f"{run.REGISTRY_FILE}:gan_es_en"
  # Paths are left to ml_collections.
  argv = run.resolve_config_argv(["run", "--config=my/config.py"])
  assert argv[1] == "--config=my/config.py"
  with pytest.raises(SystemExit, match="Unknown config 'nope'"):
    run.resolve_config_argv(["run", "--config=nope"])


def test_missing_fasttext_files_are_named_with_the_fetch_command(tmp_path):
  config = registry.get_config("wgangp_en_zh")
  with pytest.raises(tasks.MissingDataError) as err:
    tasks.load_task(config.data, root=tmp_path)
  message = str(err.value)
  for name in ("wiki.en.vec", "wiki.zh.vec", "en-zh.5000-6500.txt"):
    assert name in message
  assert "python -m bdi_jax.data.download --fasttext" in message


def test_cli_stops_at_once_without_the_data(tmp_path):
  env = dict(os.environ, BDI_DATA_DIR=str(tmp_path / "empty"))
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.run", "--config=wgangp_en_zh",
       f"--workdir={tmp_path / 'out'}"],
      cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
  assert proc.returncode != 0
  assert "wiki.en.vec" in proc.stderr and "download" in proc.stderr
  assert not (tmp_path / "out").exists()


def test_cli_rejects_unknown_config_names():
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.run", "--config=gan_es_enn"],
      cwd=REPO, capture_output=True, text=True, timeout=120)
  assert proc.returncode != 0
  assert "Unknown config 'gan_es_enn'" in proc.stderr
  assert "gan_es_en" in proc.stderr


def test_cli_overrides_reach_the_run(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.run", "--config=procrustes_synthetic",
       f"--workdir={tmp_path}", "--config.data.synthetic.dim=6",
       "--config.data.synthetic.n_concepts=600",
       "--config.data.synthetic.n_train=200",
       "--config.data.synthetic.n_test=100", "--config.refine.n_rounds=1",
       "--config.progress=False"],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr
  assert "P@1" in proc.stdout and "SYNTHETIC" in proc.stdout
  import json  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  assert np.load(tmp_path / "W.npy").shape == (6, 6)
  saved = json.loads((tmp_path / "config.json").read_text())
  assert saved["data"]["synthetic"]["dim"] == 6
