"""FIELD=VALUE overrides: typed like --config.FIELD flags, typos refused."""

from absl import flags
import ml_collections
from ml_collections import config_flags
import pytest

from bdi_jax import errors
from experiments.configs import overrides
from experiments.configs import registry


def _config():
  return registry.get_config("gan_synthetic")


@pytest.mark.parametrize("assignment, field, expected", [
    ("train.n_epochs=2", ("train", "n_epochs"), 2),
    ("train.map_lr=1e-3", ("train", "map_lr"), 1e-3),
    ("progress=false", ("progress",), False),
    ("progress=true", ("progress",), True),
    ("eval.ks=(1, 5)", ("eval", "ks"), (1, 5)),
    ("data.normalize=center,renorm", ("data", "normalize"), "center,renorm"),
    ("data.src_emb=a=b.vec", ("data", "src_emb"), "a=b.vec"),
    ("seed=-3", ("seed",), -3),
    ("data.synthetic.n_concepts=301", ("data", "synthetic", "n_concepts"), 301),
])
def test_values_take_the_fields_type(assignment, field, expected):
  out = overrides.apply_overrides(_config(), [assignment])
  value = out
  for part in field:
    value = value[part]
  assert value == expected and type(value) is type(expected)


def test_an_int_literal_for_a_float_field_becomes_a_float():
  out = overrides.apply_overrides(_config(), ["train.map_lr=1"])
  assert out.train.map_lr == 1.0 and isinstance(out.train.map_lr, float)


def test_same_parse_as_a_config_flag():
  # Reference: ml_collections' own --config.FIELD=VALUE flag, as
  # experiments.run defines it, on the same registered config.
  texts = ["train.n_epochs=3", "train.dis_lr=2e-4", "progress=false",
           "eval.ks=(1, 10)", "data.normalize=renorm", "model.hidden=64",
           "train.dis_optimizer_kwargs={'b1': 0.5}"]
  argv = ["prog", f"--config={registry.__file__}:gan_synthetic"] + [
      f"--config.{t}" for t in texts]
  values = flags.FlagValues()
  holder = config_flags.DEFINE_config_file("config", flag_values=values,
                                           lock_config=True, sys_argv=argv)
  values(argv)
  ours = overrides.apply_overrides(_config(), texts)
  assert ours.to_dict() == holder.value.to_dict()


def test_later_assignments_win_and_the_input_is_untouched():
  config = _config()
  before = config.to_dict()
  out = overrides.apply_overrides(config, ["train.n_epochs=2",
                                           "train.n_epochs=4"])
  assert out.train.n_epochs == 4
  assert config.to_dict() == before
  assert out.is_locked
  # Locked: adding a field directly fails too.
  with pytest.raises(AttributeError):
    out.train.n_epoch = 2


def test_a_typo_names_the_field_and_close_matches():
  with pytest.raises(errors.ConfigError) as info:
    overrides.apply_overrides(_config(), ["train.n_epoch=2"])
  message = str(info.value)
  assert "'train.n_epoch'" in message and "train.n_epochs" in message
  assert "\n" not in message
  with pytest.raises(errors.ConfigError, match="did you mean train.n_epochs"):
    overrides.apply_overrides(_config(), ["trian.n_epochs=2"])
  # A path through a leaf is no field either.
  with pytest.raises(errors.ConfigError, match="unknown config field"):
    overrides.apply_overrides(_config(), ["train.n_epochs.x=2"])


@pytest.mark.parametrize("assignment, kind", [
    ("train.n_epochs=abc", "int"),
    ("train.n_epochs=2.5", "int"),
    ("train.map_lr=fast", "float"),
    ("progress=maybe", "bool"),
    ("train=3", "ConfigDict"),
])
def test_a_wrong_type_is_a_config_error(assignment, kind):
  with pytest.raises(errors.ConfigError) as info:
    overrides.apply_overrides(_config(), [assignment])
  message = str(info.value)
  field = assignment.split("=")[0]
  assert f"{field} is {kind}" in message and "\n" not in message


def test_not_an_assignment():
  with pytest.raises(errors.ConfigError, match="not FIELD=VALUE"):
    overrides.apply_overrides(_config(), ["train.n_epochs"])


def test_field_paths_lists_nested_leaves():
  config = ml_collections.ConfigDict({"a": 1, "b": {"c": 2, "d": {"e": 3}}})
  assert overrides.field_paths(config) == ["a", "b", "b.c", "b.d", "b.d.e"]
