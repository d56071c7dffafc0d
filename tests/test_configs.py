"""Config registry and the command line: names, overrides, missing data."""

import os
import pathlib
import subprocess
import sys

import pytest

from bdi_jax.data import tasks
from bdi_jax.objectives import REGISTRY as OBJECTIVES
from bdi_jax.pipeline import SUPERVISED_METHODS
from experiments import run
from experiments.configs import registry

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_every_config_builds_and_is_consistent():
  expected = {f"{m}_{d}" for m in ("gan", "wgan", "wgangp", "ctgan",
                                   "procrustes")
              for d in ("synthetic", "es_en", "zh_en", "en_en", "en_es",
                        "en_et", "en_el", "en_fi", "en_hu", "en_tr", "en_pl",
                        "en_zh")}
  assert expected <= set(registry.CONFIGS)
  for name in registry.CONFIGS:
    config = registry.get_config(name)
    assert config.name == name
    assert (config.method in OBJECTIVES
            or config.method in SUPERVISED_METHODS), name
    if config.data.kind == "files":
      assert config.data.src_emb and config.data.tgt_emb, name


def test_objective_defaults():
  gan = registry.get_config("gan_es_en")
  wgangp = registry.get_config("wgangp_es_en")
  assert gan.train.map_optimizer == "sgd" and gan.train.lr_shrink == 0.5
  assert not gan.model.layer_norm
  assert wgangp.train.dis_optimizer == "adam"
  assert wgangp.train.dis_lr == pytest.approx(5e-4)
  assert wgangp.train.lr_shrink == 1.0 and wgangp.model.layer_norm
  assert wgangp.train.map_optimizer == "sgd"  # The mapping keeps SGD.
  assert registry.get_config("wgan_es_en").train.dis_optimizer == "rmsprop"
  assert registry.get_config("wgan_es_en").objective.clip == 0.25


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
