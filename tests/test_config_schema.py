"""config_schema: one declaration per field, matching the default config, every
preset, the trainer's host-only set and the committed field table."""

import pathlib

import ml_collections
import pytest

from bdi_jax import config_doc, config_schema, errors, validate
from experiments.configs import default, registry

REPO = pathlib.Path(__file__).resolve().parents[1]


def _leaves(config, prefix=""):
  """{dotted path: value}, walking the ConfigDict itself (kwargs are leaves)."""
  out = {}
  for key, value in config.items():
    if isinstance(value, ml_collections.ConfigDict) and value:
      out.update(_leaves(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


def test_every_default_field_is_declared_and_vice_versa():
  leaves = _leaves(default.get_config())
  declared = [f.path for f in config_schema.FIELDS]
  assert len(declared) == len(set(declared)), "a field is declared twice"
  assert set(leaves) == set(declared)
  # Deleting a declaration removes a field from the default, the checks and
  # the table at once; this literal count notices.
  assert len(declared) == 93


@pytest.mark.parametrize("name", sorted(registry.CONFIGS))
def test_every_preset_has_exactly_the_declared_fields(name):
  # A preset that adds a field (a typo, or one not declared) fails here.
  config = registry.get_config(name)
  paths = {p for p in _leaves(config)}
  kwargs = {p for p in paths if p.rsplit(".", 1)[0].endswith("_kwargs")}
  paths = (paths - kwargs) | {p.rsplit(".", 1)[0] for p in kwargs}
  assert paths == set(config_schema.BY_PATH)


def test_defaults_are_the_declared_ones():
  leaves = _leaves(default.get_config())
  for field in config_schema.FIELDS:
    value = leaves[field.path]
    if isinstance(field.default, dict):
      assert isinstance(value, ml_collections.ConfigDict)
      assert value.to_dict() == field.default
    else:
      assert value == field.default and type(value) is type(field.default), (
          field.path)


def test_every_default_is_of_its_own_kind():
  for field in config_schema.FIELDS:
    if field.kind is not None:
      assert field.kind.ok(field.default), (field.path, field.default)


# Written out, not read from the schema: (path, default, allowed, compiled,
# optional).
SPOT = [
    ("method", "gan",
     "one of 'ctgan', 'gan', 'gw', 'procrustes', 'sinkhorn', 'wgan', 'wgangp'",
     True, False),
    ("data.max_vocab", 200000, "an integer >= 0 (0 = every word)", False,
     False),
    ("data.synthetic.keep_fraction", 0.85, "a number in (0, 1]", False, False),
    ("model.input_dropout", 0.1, "a number in [0, 1)", True, False),
    ("model.layer_norm_epsilon", 1e-6, "a number > 0", True, True),
    ("objective.smoothing", 0.1, "a number in [0, 0.5)", True, False),
    ("train.batch_size", 32, "an integer >= 1", True, False),
    ("train.dis_steps", 5,
     "an integer >= 1 (critic updates per mapping update)", True, False),
    ("train.dis_most_frequent", 75000,
     "an integer >= 0 (0 or None = every word of each side)", True, False),
    ("train.map_optimizer", "sgd", "one of 'adam', 'rmsprop', 'sgd'", True,
     False),
    ("train.map_lr", 0.1, "a number > 0", False, False),
    ("train.map_grad_clip", 0.0, "a number >= 0", True, True),
    ("train.init_start", "", "'' (the identity) or a start: 'gw', 'procrustes'",
     False, True),
    ("refine.mode", "S2T&T2S", "one of 'S2T', 'S2T&T2S', 'S2T|T2S', 'T2S'",
     False, False),
    ("eval.methods", ("nn", "csls"),
     "a non-empty tuple of names from 'csls', 'nn'", False, False),
    ("eval.ks", (1, 5, 10),
     "a non-empty tuple of integers >= 1 (the k of P@k), e.g. (1, 5, 10)",
     False, False),
    ("eval.takeoff_margin", 0.23, "a finite number", False, True),
]


@pytest.mark.parametrize("path, default_value, allowed, compiled, optional",
                         SPOT, ids=[s[0] for s in SPOT])
def test_spot_check(path, default_value, allowed, compiled, optional):
  field = config_schema.BY_PATH[path]
  assert field.default == default_value
  assert field.kind.text == allowed
  assert field.compiled is compiled
  assert field.optional is optional


def test_host_only_train_fields_are_todays_set():
  assert config_schema.host_only_fields("train") == {
      "n_epochs", "epoch_size", "epoch_passes", "lr_decay", "min_lr",
      "lr_shrink",
      "lr_shrink_patience", "map_lr", "dis_lr", "init_start", "map_lr_scales",
      "max_rollbacks", "stop_patience", "stop_margin", "takeoff_budget",
      "check_every", "chunk_steps"}
  # Every setting of the critic and the objective is compiled.
  assert config_schema.host_only_fields("model") == frozenset()
  assert config_schema.host_only_fields("objective") == frozenset()


def test_a_config_without_its_optional_fields_is_valid():
  # Configs saved before a field existed lack it; they still run.
  config = registry.get_config("gan_synthetic")
  optional = [f.path for f in config_schema.FIELDS if f.optional]
  assert "model.layer_norm_epsilon" in optional and "gw.epsilon" in optional
  with config.unlocked():
    for path in optional:
      section, leaf = path.rsplit(".", 1) if "." in path else ("", path)
      node = config
      for part in filter(None, section.split(".")):
        node = node[part]
      del node[leaf]
  validate.check_config(config)


@pytest.mark.parametrize("path", [f.path for f in config_schema.FIELDS
                                  if not f.optional and f.path != "name"])
def test_a_missing_required_field_is_reported(path):
  config = registry.get_config("gan_synthetic")
  *sections, leaf = path.split(".")
  node = config
  for part in sections:
    node = node[part]
  with config.unlocked():
    del node[leaf]
  with pytest.raises(errors.ConfigError) as err:
    validate.check_config(config)
  assert f"config.{path} is missing (every field is listed in experiments/" \
         "configs/default.py)" in err.value.problems


def test_the_committed_field_table_is_the_generated_one():
  committed = (REPO / "docs" / "config-fields.md").read_text()
  assert committed == config_doc.markdown(), (
      "docs/config-fields.md is stale; regenerate it with: python -m "
      "bdi_jax.config_doc > docs/config-fields.md")


def test_the_field_table_has_a_row_per_field():
  rows = [line for line in config_doc.markdown().splitlines()
          if line.startswith("| `")]
  assert [r.split("`")[1] for r in rows] == [
      f.path for f in config_schema.FIELDS]
  assert "| `train.map_lr` " in config_doc.markdown()
