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
from bdi_jax import multi_seed
from bdi_jax import outputs
from bdi_jax import step
from bdi_jax import validate
from bdi_jax.data import tasks
from bdi_jax.objectives import REGISTRY as OBJECTIVES
from bdi_jax.starts import STARTS as START_METHODS
from experiments import run
from experiments.configs import default
from experiments.configs import registry
from experiments.configs.presets import general
from experiments.configs.presets import spec

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


def _dotted(table):
  """A preset table's {dotted path: value}, a dict value's entries spelt out
  one by one (as _flat has them)."""
  out = {}
  for path, value in table.items():
    if isinstance(value, dict):
      out.update({f"{path}.{k}": v for k, v in value.items()})
    else:
      out[path] = list(value) if isinstance(value, tuple) else value
  return out


def _split(name):
  for method in registry.METHODS:
    if name.startswith(method + "_") and name[len(method) + 1:] in (
        registry.DATASETS):
      return method, name[len(method) + 1:]
  raise AssertionError(f"{name} is not METHOD_DATASET")


def test_names_are_every_method_times_every_dataset():
  assert set(registry.CONFIGS) == {f"{m}_{d}" for m in registry.METHODS
                                   for d in registry.DATASETS}
  assert all(registry.split(n) == _split(n) for n in ALL_NAMES)


def _composed(name):
  """Reference for a preset: the default with its tables' fields set, and
  nothing else (a dict-valued field, the optimizer kwargs, replaced whole)."""
  expected = _flat(default.get_config())
  table = registry.fields(*_split(name))
  for path, value in table.items():
    if isinstance(value, dict):  # Replaced whole: drop the default's keys.
      expected = {k: v for k, v in expected.items()
                  if not k.startswith(path + ".")}
  expected.update(_dotted(table))
  expected["name"] = name
  return expected


@pytest.mark.parametrize("name", ALL_NAMES)
def test_config_is_the_default_changed_exactly_where_its_tables_say(name):
  assert _flat(registry.get_config(name)) == _composed(name)


# Written out by hand, independent of the preset tables: the fields that
# make each of these presets what it is (the ones a user runs first). The
# sizes left at 0 are derived from the data at run time (bdi_jax/derived.py).
_GENERAL_SCHEDULE = {
    "train.epoch_size": 0, "train.n_epochs": 12, "train.check_every": 2,
    "train.stop_patience": 2, "train.lr_decay": 1.0, "train.lr_shrink": 1.0,
    "train.dis_most_frequent": 75000, "eval.takeoff_margin": 0.23,
    "eval.takeoff_null_gain": 0.2}
KEY_PRESETS = {
    "gan_es_en": {
        "method": "gan", "model.hidden": 0, "model.hidden_per_dim": 8.0,
        "model.layer_norm": False, "train.dis_optimizer": "sgd",
        "train.dis_lr": 0.1, "train.map_beta": 0.001, **_GENERAL_SCHEDULE,
        "data.kind": "files",
        "data.src_emb": "ubilexat/es-en/word2vec.es",
        "data.tgt_emb": "ubilexat/es-en/word2vec.en",
        "data.test_dict": "ubilexat/es-en/zhang2017acl.es-en.test.txt",
        "data.train_dict": "muse-dictionaries/es-en.txt",
        "data.max_vocab": 0},
    "gan_zh_en": {"model.hidden": 0, **_GENERAL_SCHEDULE,
                  "data.test_dict": "ubilexat/zh-en/zh-en.ldc.txt"},
    "wgan_zh_en": {
        "method": "wgan", "model.hidden": 0, "model.hidden_per_dim": 4.0,
        "model.layer_norm": True, "model.layer_norm_epsilon": 0.01,
        "objective.clip": 0.1, "train.map_beta": 0.5,
        "train.dis_optimizer": "rmsprop", "train.dis_lr": 5e-5,
        "train.map_optimizer": "sgd", "train.map_lr": 0.1,
        **_GENERAL_SCHEDULE},
    "wgangp_es_en": {
        "method": "wgangp", "model.hidden": 0, "model.hidden_per_dim": 4.0,
        "model.layer_norm": True, "train.dis_optimizer": "adam",
        "train.dis_lr": 5e-4, "train.dis_optimizer_kwargs.b1": 0.5,
        "train.dis_optimizer_kwargs.b2": 0.9, "train.map_beta": 0.001},
    "ctgan_es_en": {"method": "ctgan", "objective.ct_lambda": 0.5,
                    "model.hidden": 0, **_GENERAL_SCHEDULE},
    "ctgan_zh_en": {"method": "ctgan", "objective.ct_lambda": 0.5,
                    "model.hidden": 0, **_GENERAL_SCHEDULE},
    "wgangp_en_zh": {
        "model.hidden": 0, **_GENERAL_SCHEDULE,
        "data.max_vocab": 200000, "data.src_emb": "fasttext-wiki/wiki.en.vec",
        "data.test_dict": "muse-dictionaries/en-zh.5000-6500.txt"},
    "wgangp_ubi_en_zh": {
        "data.src_emb": "ubilexat/zh-en/word2vec.en",
        "data.tgt_emb": "ubilexat/zh-en/word2vec.zh",
        "data.src_lang": "en", "data.tgt_lang": "zh",
        "data.test_dict": "muse-dictionaries/en-zh.5000-6500.txt",
        "data.train_dict": "muse-dictionaries/en-zh.0-5000.txt"},
    "sinkhorn_es_en": {
        "method": "sinkhorn", "model.hidden": 8, "train.batch_size": 512,
        "train.dis_most_frequent": 2000, "train.epoch_size": 51200,
        "train.n_epochs": 3, "train.chunk_steps": 100,
        "train.init_start": "gw", "train.map_beta": 0.01,
        "train.check_every": 0, "train.stop_patience": 0},
    "sinkhorn_synthetic": {"model.hidden": 8, "train.epoch_size": 51200,
                           "train.n_epochs": 3},
    "procrustes_synthetic": {"method": "procrustes", "model.hidden": 2048,
                             "train.epoch_size": 1000000},
    "gw_zh_en": {"method": "gw", "model.hidden": 2048,
                 "train.epoch_size": 1000000},
    "gan_thesis_zh_en": {
        "method": "gan", "model.hidden": 2048, "model.layer_norm": False,
        "train.n_epochs": 12, "train.lr_decay": 0.98, "train.lr_shrink": 0.5,
        "train.map_beta": 0.01, "train.epoch_size": 0},
    "wgan_thesis_es_en": {
        "method": "wgan", "objective.clip": 0.25, "train.dis_lr": 5e-4,
        "model.layer_norm_epsilon": 1e-5, "train.map_beta": 0.01,
        "train.lr_decay": 0.98, "train.n_epochs": 12},
}


def test_general_and_named_presets_are_one_preset_on_every_data_set():
  # Issue 26: "--config=wgangp" and every wgangp_<data set> name train the
  # same way; a name adds only its data set's data.* fields.
  for method in registry.GENERAL:
    general = _flat(registry.get_config(method))
    for dataset in registry.DATASETS:
      named = _flat(registry.get_config(f"{method}_{dataset}"))
      differ = {k for k in set(general) | set(named)
                if general.get(k, _ABSENT) != named.get(k, _ABSENT)}
      assert all(k == "name" or k.startswith("data.") for k in differ), (
          method, dataset, differ)


@pytest.mark.parametrize("name", sorted(KEY_PRESETS))
def test_key_presets_have_the_fields_written_out_here(name):
  config = _flat(registry.get_config(name))
  assert {k: config.get(k, _ABSENT) for k in KEY_PRESETS[name]} == (
      KEY_PRESETS[name])


def test_a_field_set_by_two_tables_is_refused():
  # The tables of a name may not share a field, so none depends on the order
  # they are applied in.
  with pytest.raises(ValueError, match="train.n_epochs"):
    spec.union({"train.n_epochs": 8}, {"train.n_epochs": 12})
  assert spec.union({"a": 1}, {"b": 2}) == {"a": 1, "b": 2}


def test_every_name_has_a_one_line_description():
  assert set(registry.DESCRIPTIONS) == set(registry.CONFIGS)
  for name, text in registry.DESCRIPTIONS.items():
    assert text and "\n" not in text, name
  assert "UBiLexAT zh->en" in registry.DESCRIPTIONS["gan_zh_en"]
  assert "vanilla GAN" in registry.DESCRIPTIONS["gan_zh_en"]


def test_data_status_says_present_or_how_to_fetch(tmp_path):
  assert registry.data_status("gan_synthetic", root=tmp_path).startswith(
      "data: present")
  missing = registry.data_status("wgangp_en_zh", root=tmp_path)
  assert missing.startswith("data: missing")
  assert "python -m bdi_jax.data.download --fasttext en,zh --muse en-zh" in (
      missing)
  # Files bdi_jax cannot fetch are named as such.
  assert "ubilexat/es-en/word2vec.es" in registry.data_status(
      "gan_es_en", root=tmp_path)
  for path in ("fasttext-wiki/wiki.en.vec", "fasttext-wiki/wiki.zh.vec",
               "muse-dictionaries/en-zh.5000-6500.txt",
               "muse-dictionaries/en-zh.0-5000.txt"):
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text("")
  assert registry.data_status("wgangp_en_zh", root=tmp_path) == "data: present"


def test_the_table_reference_sees_a_change_outside_the_tables():
  # The reference is not vacuous: the method row really changes the critic's
  # optimiser and the width, and a stray change is a difference.
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
    multi_seed.build_trainer(config, 8)
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
_UBILEXAT = ("es_en", "zh_en", "en_en", "ubi_en_es")


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
  layer_norm = objective != "gan"  # Sec. 5.3: the three improved GANs only.
  assert (m.hidden, m.n_layers, m.layer_norm) == (2048, 2, layer_norm)
  if layer_norm:
    assert m.layer_norm_epsilon == 1e-5  # PyTorch's LayerNorm, as it comes.
  assert (m.input_dropout, m.hidden_dropout) == (0.1, hidden_dropout)
  t = config.train
  assert (t.dis_optimizer, t.dis_lr) == (optimizer, lr)
  assert (t.map_optimizer, t.map_lr) == ("sgd", 0.1)
  # MUSE's shrink for the GAN; removed for the others (Sec. 5.4.1).
  assert t.lr_shrink == (0.5 if objective == "gan" else 1.0)
  # The optimiser as built: PyTorch's defaults (Sec. 5.3.1: Adam betas 0.9 /
  # 0.999, RMSprop alpha 0.99), not Gulrajani et al.'s (0.5, 0.9).
  state = step.make_optimizer(
      t.dis_optimizer, t.dis_lr, **dict(t.dis_optimizer_kwargs)).init({})
  hyper = {k: float(v) for k, v in state.hyperparams.items()}
  assert hyper["learning_rate"] == pytest.approx(lr)
  if optimizer == "adam":
    assert (hyper["b1"], hyper["b2"]) == pytest.approx((0.9, 0.999))
  if optimizer == "rmsprop":
    assert hyper["decay"] == pytest.approx(0.99)
  # The critic as built from the config (the trainer's helper) has it all.
  critic = models.discriminator_from_config(m)
  assert (critic.hidden, critic.n_layers, critic.layer_norm,
          critic.hidden_dropout) == (2048, 2, layer_norm, hidden_dropout)


@pytest.mark.parametrize("method", sorted(THESIS))
@pytest.mark.parametrize("dataset", ("synthetic",) + _UBILEXAT + ("en_zh",))
def test_thesis_and_tuned_presets_differ_only_where_the_thesis_says(method,
                                                                    dataset):
  objective = THESIS[method][0]
  thesis = _flat(registry.get_config(f"{method}_{dataset}"))
  tuned = _flat(registry.get_config(f"{objective}_{dataset}"))
  differ = {k for k in set(thesis) | set(tuned)
            if thesis.get(k, _ABSENT) != tuned.get(k, _ABSENT)}
  # Beta 0.01 (Sec. 5.2.4) and the criterion's target-rank cut (Sec. 5.2.7).
  expected = {"name", "train.map_beta", "eval.criterion_max_target_rank"}
  if objective == "gan":  # Sec. 5.2.2: the summed loss, no smoothing.
    expected |= {"objective.gan_reduction", "objective.smoothing"}
    # Tuned: neither shrink nor decay; the width per input dimension.
    expected |= {"train.lr_decay", "train.lr_shrink"}
  else:  # Tuned: no mapping-lr decay; PyTorch's LayerNorm epsilon here.
    expected |= {"train.lr_decay", "model.layer_norm_epsilon",
                 "model.hidden_per_dim"}
  if objective == "ctgan":  # Tuned: weight 0.5, the penalty's.
    expected.add("objective.ct_lambda")
  if objective in ("wgangp", "ctgan"):  # Tuned: Adam betas (0.5, 0.9) and
    # the penalty under dropout.
    expected |= {"train.dis_optimizer_kwargs.b1",
                 "train.dis_optimizer_kwargs.b2", "objective.penalty_dropout"}
  if objective == "ctgan":
    expected.add("model.hidden_dropout")
  if objective == "wgan":  # Tuned: a 10x slower critic (presets/wgan.py),
    # clip 0.1 and optax's RMSprop.
    expected |= {"train.dis_lr", "objective.clip",
                 "train.dis_optimizer_kwargs.decay",
                 "train.dis_optimizer_kwargs.eps",
                 "train.dis_optimizer_kwargs.eps_in_sqrt"}
  expected.add("model.hidden")  # Tuned: from the dimension; thesis 2048.
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
  # One line a name: the name, its description, whether its data is present.
  lines = proc.stdout.splitlines()
  listed = [line.split()[0] for line in lines]
  # The general presets (a method alone) first, then every METHOD_DATASET.
  assert listed == sorted(registry.GENERAL) + sorted(registry.CONFIGS)
  for name, line in zip(listed, lines):
    assert registry.describe(name) in line
    if name in registry.GENERAL:
      assert "-- data: yours (--src_emb, --tgt_emb)" in line, line
      continue
    assert registry.DESCRIPTIONS[name] in line
    assert "-- data: present" in line or "-- data: missing (" in line, line
  assert "data: present" in lines[listed.index("gan_synthetic")]
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
  # A method alone is its general preset.
  argv = run.resolve_config_argv(["run", "--config=wgangp"])
  assert argv[1] == f"--config={run.REGISTRY_FILE}:wgangp"
  # Paths are left to ml_collections once they exist and import.
  path = "experiments/configs/default.py"
  argv = run.resolve_config_argv(["run", f"--config={path}"])
  assert argv[1] == f"--config={path}"
  with pytest.raises(SystemExit):
    run.resolve_config_argv(["run", "--config=my/config.py"])
  with pytest.raises(SystemExit, match="Unknown config 'nope'"):
    run.resolve_config_argv(["run", "--config=nope"])


def test_general_preset_is_the_default_with_only_the_method_fields():
  for method in registry.GENERAL:
    expected = _flat(default.get_config())
    m = registry.METHODS[method]
    table = {**m.fields, **(general.EPOCHS if m.uses_schedule else {})}
    for path, value in table.items():
      if isinstance(value, dict):
        expected = {k: v for k, v in expected.items()
                    if not k.startswith(path + ".")}
    expected.update(_dotted(table))
    expected["name"] = method
    assert _flat(registry.get_config(method)) == expected, method


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
  import re  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  assert np.load(tmp_path / "W.npy").shape == (6, 6)
  saved = json.loads((tmp_path / "config.json").read_text())
  assert saved["data"]["synthetic"]["dim"] == 6
  # The printed refined row (seed, phase, NN P@1/5/10, CSLS P@1/5/10) holds
  # the values of summary.json ...
  row = re.search(r"^\s*\d+\*\s+refined((?:\s+\d\.\d{3}){6})\s*$",
                  proc.stdout, re.M)
  assert row, proc.stdout
  nn_p1, _, _, csls_p1, _, _ = (float(v) for v in row.group(1).split())
  summary = json.loads((tmp_path / "summary.json").read_text())
  assert nn_p1 == round(summary["refined"]["nn"]["p@1"], 3)
  assert csls_p1 == round(summary["refined"]["csls"]["p@1"], 3)
  # ... and the known answer: supervised Procrustes recovers the hidden
  # rotation, so the run scores what that rotation scores, by brute-force
  # CSLS in numpy on the generated words (1 query of 100 is 0.01).
  from bdi_jax.data import synthetic  # pylint: disable=g-import-not-at-top
  from tests import reference  # pylint: disable=g-import-not-at-top
  gen = synthetic.make_synthetic_task(**saved["data"]["synthetic"])
  scores = reference.np_scores(
      reference.unit_rows(gen.src.vectors @ gen.rotation.T),
      reference.unit_rows(gen.tgt.vectors), "csls", saved["eval"]["csls_k"])
  gold = {}
  for s, t in gen.test_pairs.tolist():
    gold.setdefault(s, set()).add(t)
  known = np.mean([int(np.argmax(scores[s])) in ts for s, ts in gold.items()])
  assert len(gold) == 100 and known >= 0.95
  assert abs(csls_p1 - known) <= 0.0101, (csls_p1, known)
