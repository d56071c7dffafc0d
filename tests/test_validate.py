"""validate.check_config / check_against_task: every rule, its boundary, the
message format, and that every registered config passes."""

import math

import pytest

from bdi_jax import errors, objectives, starts, validate
from bdi_jax.data import tasks
from experiments.configs import default, registry


def _set(config, path, value):
  *parents, leaf = path.split(".")
  node = config
  for part in parents:
    node = node[part]
  with config.unlocked(), config.ignore_type():
    node[leaf] = value
  return config


def _config(name="gan_synthetic", **fields):
  config = registry.get_config(name)
  for path, value in fields.items():
    _set(config, path.replace("__", "."), value)
  return config


def _problems(config):
  with pytest.raises(errors.ConfigError) as err:
    validate.check_config(config)
  return err.value.problems, str(err.value)


def _leaves(config, prefix=""):
  out = []
  for key, value in config.items():
    path = f"{prefix}{key}"
    if hasattr(value, "items") and value:  # A section (kwargs are leaves).
      out += _leaves(value, path + ".")
    else:
      out.append(path)
  return out


@pytest.mark.parametrize("name", sorted(registry.CONFIGS))
def test_every_registered_config_passes(name):
  validate.check_config(registry.get_config(name))


# (path, bad value, words the message must contain besides the field).
BAD = [
    ("method", "gann", "must be an objective"),
    ("seed", 1.5, "integer"),
    ("n_seeds", 0, ">= 1"),
    ("progress", "yes", "True or False"),
    ("data.kind", "file", "'files', 'synthetic'"),
    ("data.normalize", "center,bogus", "'bogus'"),
    ("data.max_vocab", -1, ">= 0"),
    ("data.src_emb", 3, "string"),
    ("data.synthetic.n_concepts", 1, ">= 2"),
    ("data.synthetic.dim", 0, ">= 1"),
    ("data.synthetic.n_clusters", 0, ">= 1"),
    ("data.synthetic.keep_fraction", 0.0, "(0, 1]"),
    ("data.synthetic.keep_fraction", 1.5, "(0, 1]"),
    ("data.synthetic.noise", -0.1, ">= 0"),
    ("data.synthetic.spectrum_decay", -0.1, ">= 0"),
    ("data.synthetic.n_train", -1, ">= 0"),
    ("data.synthetic.n_test", 0, ">= 1"),
    ("model.hidden", -1, ">= 0"),
    ("model.hidden_per_dim", 0.0, "> 0"),
    ("model.n_layers", -1, ">= 0"),
    ("model.input_dropout", 1.0, "[0, 1)"),
    ("model.hidden_dropout", 1.0, "[0, 1)"),
    ("model.hidden_dropout", -0.1, "[0, 1)"),
    ("model.leaky_slope", math.nan, "finite"),
    ("model.layer_norm", 1, "True or False"),
    ("objective.smoothing", 0.5, "[0, 0.5)"),
    ("objective.non_saturating", "no", "True or False"),
    ("objective.clip", 0.0, "> 0"),
    ("objective.gp_lambda", -1.0, ">= 0"),
    ("objective.ct_lambda", -1.0, ">= 0"),
    ("objective.ct_margin", -0.2, ">= 0"),
    ("objective.ct_feature_weight", -0.1, ">= 0"),
    ("train.batch_size", 0, ">= 1"),
    ("train.dis_steps", 0, ">= 1 (critic updates"),
    ("train.dis_most_frequent", -1, ">= 0"),
    ("train.map_beta", -0.001, ">= 0"),
    ("train.map_optimizer", "adamw", "'adam', 'rmsprop', 'sgd'"),
    ("train.dis_optimizer", "adamw", "'adam', 'rmsprop', 'sgd'"),
    ("train.map_lr", 0.0, "> 0"),
    ("train.map_lr", math.nan, "> 0"),
    ("train.dis_lr", -1e-3, "> 0"),
    ("train.map_optimizer_kwargs", {"beta1": 0.5, "momentum": 0.9},
     "not accepted by optimizer 'sgd'"),
    ("train.dis_optimizer_kwargs", {"b1": 0.5}, "'sgd'"),
    ("train.n_epochs", 0, ">= 1"),
    ("train.epoch_size", -32, ">= 0"),
    ("train.epoch_passes", 0, ">= 1"),
    ("eval.takeoff_null_gain", 1.5, "in [0, 1]"),
    ("train.epoch_size", 1000, "multiple of config.train.batch_size=32"),
    ("train.lr_decay", 0.0, "(0, 1]"),
    ("train.lr_decay", 1.5, "(0, 1]"),
    ("train.lr_shrink", 0.0, "(0, 1]"),
    ("train.lr_shrink", 2.0, "(0, 1]"),
    ("train.min_lr", -1e-6, ">= 0"),
    ("train.min_lr", 1.0, "<= config.train.map_lr=0.1"),
    ("train.lr_shrink_patience", -1, ">= 0"),
    ("train.chunk_steps", 0, ">= 1"),
    ("train.noise_std", -0.1, ">= 0"),
    ("train.noise_anneal_steps", -1, ">= 0"),
    ("train.max_rollbacks", -1, ">= 0"),
    ("train.map_lr_scales", (1.0, 2.0), "config.n_seeds=1"),
    ("train.map_lr_scales", (0.0,), "> 0"),
    ("refine.n_rounds", -1, ">= 0"),
    ("refine.method", "cosine", "'csls', 'nn'"),
    ("refine.mode", "S2T&T2", "'S2T', 'S2T&T2S', 'S2T|T2S', 'T2S'"),
    ("refine.max_rank", -5, ">= 0"),
    ("eval.methods", ("nn", "bogus"), "'csls', 'nn'"),
    ("eval.methods", (), "non-empty"),
    ("eval.ks", (0, 1), ">= 1"),
    ("eval.ks", (), "non-empty"),
    ("eval.ks", (1, 2.5), ">= 1"),
    ("eval.csls_k", 0, ">= 1"),
    ("eval.criterion_words", 0, ">= 1"),
    ("eval.batch_size", -1, ">= 0"),
    ("eval.takeoff_margin", math.inf, "finite"),
    ("objective.sinkhorn_epsilon", 0.0, "> 0"),
    ("objective.sinkhorn_iterations", 0, ">= 1"),
    ("objective.sinkhorn_threshold", -1e-3, "> 0"),
    ("train.init_start", "gww", "'' (the identity) or a start"),
    ("eval.detector_min_gain", 1.5, "[0, 1]"),
    ("eval.detector_min_stability", -0.1, "[0, 1]"),
    ("gw.n_words", 1, ">= 2"),
    ("gw.epsilon", 0.0, "> 0"),
    ("gw.max_iterations", 0, ">= 1"),
    ("gw.sinkhorn_iterations", 0, ">= 1"),
]


@pytest.mark.parametrize("path, value, allowed", BAD,
                         ids=[f"{p}={v!r}" for p, v, _ in BAD])
def test_each_bad_value_is_named_alone(path, value, allowed):
  problems, message = _problems(_set(registry.get_config("gan_synthetic"),
                                     path, value))
  assert len(problems) == 1, problems
  assert problems[0].startswith(f"config.{path}={value!r}:"), problems
  assert allowed in problems[0]
  assert "\n" not in message and f"config.{path}=" in message


# Values on the edge of each range, which must pass.
GOOD = [
    ("n_seeds", 1), ("train.batch_size", 1), ("train.epoch_size", 32),
    ("train.dis_most_frequent", 0), ("train.dis_most_frequent", None),
    ("train.lr_decay", 1.0), ("train.lr_shrink", 1.0), ("train.min_lr", 0.1),
    ("train.min_lr", 0.0), ("train.lr_shrink_patience", 0),
    ("train.noise_anneal_steps", 0), ("train.max_rollbacks", 0),
    ("train.map_lr_scales", (3.0,)), ("train.map_lr", 1e-6),
    ("data.synthetic.keep_fraction", 1.0), ("data.synthetic.n_train", 0),
    ("data.normalize", "renorm, center"), ("data.normalize", ""),
    ("data.max_vocab", 0), ("model.input_dropout", 0.0),
    ("model.hidden_dropout", 0.0), ("model.hidden_dropout", 0.99),
    ("model.n_layers", 0), ("objective.smoothing", 0.0), ("refine.n_rounds", 0),
    ("refine.max_rank", 0), ("eval.ks", (1,)), ("eval.ks", [1, 5]),
    ("eval.methods", ("csls",)), ("eval.csls_k", 1), ("eval.batch_size", 0),
    ("train.map_optimizer_kwargs", {"momentum": 0.9}), ("seed", -3),
    ("train.init_start", "gw"), ("eval.detector_min_gain", 1.0),
    ("eval.detector_null_starts", 0),
]


@pytest.mark.parametrize("path, value", GOOD,
                         ids=[f"{p}={v!r}" for p, v in GOOD])
def test_boundary_values_pass(path, value):
  validate.check_config(_set(registry.get_config("gan_synthetic"), path,
                             value))


def test_every_field_of_the_default_config_has_a_rule():
  # A value of no sensible kind in any field must be named: a field declared
  # in bdi_jax/config_schema.py without a kind (or a rule in code) fails here.
  leaves = set(_leaves(default.get_config())) - {"name"}  # Free text.
  assert "train.batch_size" in leaves and "data.synthetic.dim" in leaves
  unchecked = []
  for path in sorted(leaves):
    config = _set(registry.get_config("gan_synthetic"), path, 1j)
    try:
      validate.check_config(config)
      unchecked.append(path)
    except errors.ConfigError as e:
      if not any(p.startswith(f"config.{path}=") for p in e.problems):
        unchecked.append(path)
  assert not unchecked, f"fields without a rule: {unchecked}"


def test_all_problems_are_collected_in_at_most_five_lines():
  config = _config(n_seeds=0, train__batch_size=0, train__dis_steps=0,
                   refine__mode="x", eval__ks=(0,), eval__csls_k=0)
  problems, message = _problems(config)
  fields = ["config.n_seeds=", "config.train.batch_size=",
            "config.train.dis_steps=", "config.refine.mode=",
            "config.eval.ks=", "config.eval.csls_k="]
  assert len(problems) == len(fields)
  for f in fields:
    assert sum(p.startswith(f) for p in problems) == 1, f
  lines = message.splitlines()
  assert len(lines) <= validate.MAX_LINES
  assert lines[0].startswith("6 invalid config fields")
  assert lines[-1].strip() == f"... and {6 - (len(lines) - 2)} more"
  assert "default.py" in lines[0]


def test_four_problems_are_all_shown():
  config = _config(n_seeds=0, train__batch_size=0, refine__mode="x",
                   eval__csls_k=0)
  problems, message = _problems(config)
  assert len(problems) == 4 and len(message.splitlines()) == 5
  for p in problems:
    assert p in message


def test_missing_fields_are_reported():
  config = registry.get_config("gan_synthetic")
  with config.unlocked():
    del config.eval["csls_k"]
    del config.train["max_rollbacks"]  # Optional (newer than some configs).
    del config.model["hidden_dropout"]  # Optional too.
  problems, _ = _problems(config)
  assert problems == [
      "config.eval.csls_k is missing (every field is listed in "
      "experiments/configs/default.py)"]


def test_a_computed_start_ignores_the_adversarial_sections():
  config = _config("procrustes_synthetic", train__batch_size=0,
                   train__dis_steps=0, model__hidden=0, objective__clip=-1.0)
  validate.check_config(config)
  # ... but not the sections it uses, nor its training dictionary.
  problems, _ = _problems(_config("procrustes_synthetic", eval__ks=(0,)))
  assert [p.split("=")[0] for p in problems] == ["config.eval.ks"]


def test_a_start_that_needs_a_training_dictionary_gets_one(monkeypatch):
  supervised = starts.STARTS["procrustes"]._replace(fn=None)
  assert supervised.needs_train_dict
  monkeypatch.setitem(starts.STARTS, "supervised", supervised)
  problems, _ = _problems(_config("procrustes_es_en", method="supervised",
                                  data__train_dict=""))
  assert problems == [
      "config.data.train_dict='': method 'supervised' needs a training "
      "dictionary"]
  problems, _ = _problems(_config("procrustes_synthetic", method="supervised",
                                  data__synthetic__n_train=0))
  assert problems[0].startswith("config.data.synthetic.n_train=0: must be an "
                                "integer >= 1")
  # A start without the attribute (an unsupervised one) needs none.
  validate.check_config(_config("procrustes_es_en", method="gw",
                                data__train_dict=""))


def test_files_data_needs_both_embedding_paths():
  problems, _ = _problems(_config("gan_es_en", data__tgt_emb=""))
  assert len(problems) == 1 and problems[0].startswith("config.data.tgt_emb=''")
  # Synthetic data does not read them.
  validate.check_config(_config("gan_synthetic", data__tgt_emb=""))


def test_a_critic_free_objective_may_skip_dis_steps(monkeypatch):
  class _CriticFree:
    needs_critic = False

  monkeypatch.setitem(objectives.REGISTRY, "critic_free",
                      lambda config: _CriticFree())
  validate.check_config(_config(method="critic_free", train__dis_steps=0,
                                train__dis_optimizer="nope"))
  problems, _ = _problems(_config(method="critic_free", train__dis_steps=-1))
  assert problems[0].startswith("config.train.dis_steps=-1")
  # Objectives without the attribute need a critic.
  problems, _ = _problems(_config(method="gan", train__dis_steps=0))
  assert problems[0].startswith("config.train.dis_steps=0")


def test_an_objective_that_rejects_its_section_is_reported(monkeypatch):
  def factory(config):
    raise ValueError(f"bad clip {config.clip}")

  monkeypatch.setitem(objectives.REGISTRY, "picky", factory)
  problems, _ = _problems(_config(method="picky"))
  assert problems == ["config.objective='...': rejected by objective "
                      "'picky': bad clip 0.25"]


@pytest.mark.parametrize("n_src, n_tgt", [(10, 12), (12, 10), (10, 10)])
def test_csls_k_against_the_smaller_vocabulary(n_src, n_tgt):
  small = min(n_src, n_tgt)
  validate.check_against_task(_config(eval__csls_k=small, eval__ks=(1,)),
                              n_src, n_tgt)
  with pytest.raises(errors.ConfigError) as err:
    validate.check_against_task(_config(eval__csls_k=small + 1, eval__ks=(1,)),
                                n_src, n_tgt)
  assert err.value.problems == [
      f"config.eval.csls_k={small + 1}: must be <= {small}, the smaller "
      "vocabulary"]
  assert f"{n_src} source and {n_tgt} target words" in str(err.value)


def test_ks_against_the_target_vocabulary():
  validate.check_against_task(_config(eval__csls_k=1, eval__ks=(1, 7)), 5, 7)
  with pytest.raises(errors.ConfigError) as err:
    validate.check_against_task(_config(eval__csls_k=1, eval__ks=(1, 8)), 50, 7)
  assert len(err.value.problems) == 1
  assert err.value.problems[0].startswith("config.eval.ks=(1, 8): every k "
                                          "must be <= 7")


def test_both_task_problems_together():
  with pytest.raises(errors.ConfigError) as err:
    validate.check_against_task(_config(), 3, 4)  # csls_k 10, ks up to 10.
  assert [p.split("=")[0] for p in err.value.problems] == [
      "config.eval.csls_k", "config.eval.ks"]
  assert len(str(err.value).splitlines()) == 3


def test_capped_sizes_are_not_errors():
  # criterion_words, max_rank, dis_most_frequent mean "at most": a small
  # generated task with the default 10,000 / 15,000 / 75,000 passes.
  config = _config(data__synthetic__n_concepts=300,
                   data__synthetic__n_train=50, data__synthetic__n_test=50)
  task = tasks.load_task(config.data)
  n_src, n_tgt = len(task.src.words), len(task.tgt.words)
  assert n_src < config.eval.criterion_words and n_tgt < config.refine.max_rank
  validate.check_against_task(config, n_src, n_tgt)


def test_the_registered_critic_free_objective_needs_no_critic_steps():
  if "sinkhorn" not in objectives.REGISTRY:
    pytest.skip("no sinkhorn objective registered")
  validate.check_config(_config(method="sinkhorn", train__dis_steps=0))


@pytest.mark.parametrize("eps", [0.0, -1e-3, float("nan")])
def test_layer_norm_epsilon_must_be_positive(eps):
  problems, _ = _problems(_config(model__layer_norm_epsilon=eps))
  assert any(p.startswith("config.model.layer_norm_epsilon=") for p in problems)
