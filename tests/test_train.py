"""The training step: purity, tracing, fused == step-by-step, vmapped seeds."""

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from bdi_jax import errors
from bdi_jax import models
from bdi_jax import step as step_lib
from bdi_jax import multi_seed
from bdi_jax.objectives import get_objective
from experiments.configs import registry

DIM = 5  # Odd, small sizes catch axis bugs.


def _setup(objective="gan", dis_steps=2, batch_size=7, hidden=11,
           map_optimizer="sgd", dis_optimizer="sgd", layer_norm=False):
  rng = np.random.default_rng(0)
  data = step_lib.EmbeddingData(
      jnp.asarray(rng.standard_normal((23, DIM)), jnp.float32),
      jnp.asarray(rng.standard_normal((19, DIM)), jnp.float32))
  module = models.Discriminator(hidden=hidden, input_dropout=0.1,
                                layer_norm=layer_norm)
  obj = get_objective(objective, ml_collections.ConfigDict(
      {"smoothing": 0.1, "clip": 0.25, "gp_lambda": 0.5, "ct_lambda": 2.0,
       "ct_margin": 0.2, "ct_feature_weight": 0.1}))
  map_tx = step_lib.make_optimizer(map_optimizer, 0.1)
  dis_tx = step_lib.make_optimizer(dis_optimizer, 0.1)
  step = step_lib.bind_step(
      objective=obj, critic=models.make_critic(module), map_tx=map_tx,
      dis_tx=dis_tx, config=step_lib.StepConfig(batch_size=batch_size,
                                             dis_steps=dis_steps,
                                             dis_most_frequent=17))
  init = functools.partial(step_lib.create_train_state, dim=DIM, module=module,
                           map_tx=map_tx, dis_tx=dis_tx)
  return data, step, init


def _assert_states_close(a, b, atol=1e-5):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol,
                               rtol=1e-5)


def test_orthogonalize_converges_to_orthogonal():
  rng = np.random.default_rng(1)
  q, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
  w = jnp.asarray(q + 0.05 * rng.standard_normal((DIM, DIM)), jnp.float32)
  for _ in range(2000):
    w = models.orthogonalize(w, 0.01)
  np.testing.assert_allclose(np.asarray(w @ w.T), np.eye(DIM), atol=1e-4)
  # And it is pure: a fixed point is left alone.
  np.testing.assert_allclose(np.asarray(models.orthogonalize(jnp.asarray(q),
                                                             0.01)), q,
                             atol=1e-6)


def test_discriminator_shapes_and_dropout():
  module = models.Discriminator(hidden=13, n_layers=2, input_dropout=0.5)
  x = jnp.ones((7, DIM))
  params = module.init(jax.random.key(0), x)["params"]
  logits, feats = module.apply({"params": params}, x, return_features=True)
  assert logits.shape == (7,) and feats.shape == (7, 13)
  a = module.apply({"params": params}, x, deterministic=False,
                   rngs={"dropout": jax.random.key(1)})
  b = module.apply({"params": params}, x, deterministic=False,
                   rngs={"dropout": jax.random.key(2)})
  assert not np.allclose(a, b)  # Different keys, different masks.
  np.testing.assert_allclose(module.apply({"params": params}, x), logits)


def _np_forward(params, x, n_layers, slope=0.2):
  """The critic without dropout, numpy: ``(logits [b], features [b, h])``."""
  h = np.asarray(x, np.float64)
  for i in range(n_layers):
    dense = params[f"dense_{i}"]
    h = h @ np.asarray(dense["kernel"]) + np.asarray(dense["bias"])
    h = np.where(h > 0, h, slope * h)
  out = params["out"]
  return (h @ np.asarray(out["kernel"]) + np.asarray(out["bias"]))[:, 0], h


def test_hidden_dropout_perturbs_the_features_before_the_output():
  rate, n_layers = 0.4, 2
  x = jax.random.normal(jax.random.key(3), (9, DIM))
  noisy = models.Discriminator(hidden=17, n_layers=n_layers, input_dropout=0.0,
                               hidden_dropout=rate)
  clean = models.Discriminator(hidden=17, n_layers=n_layers, input_dropout=0.0)
  params = noisy.init(jax.random.key(0), x)["params"]
  # Dropout has no parameters: the same tree drives both modules.
  assert (jax.tree.structure(params)
          == jax.tree.structure(clean.init(jax.random.key(0), x)["params"]))
  want_logits, want_feats = _np_forward(params, x, n_layers)

  # Deterministic: a no-op, the plain forward pass.
  for module in (noisy, clean):
    logits, feats = module.apply({"params": params}, x, return_features=True)
    np.testing.assert_allclose(logits, want_logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(feats, want_feats, rtol=1e-5, atol=1e-5)
  logits, _ = models.make_critic(noisy)(params, x, None)
  np.testing.assert_allclose(logits, want_logits, rtol=1e-5, atol=1e-5)

  def sample(module, seed):
    return module.apply({"params": params}, x, deterministic=False,
                        return_features=True,
                        rngs={"dropout": jax.random.key(seed)})

  # Without input dropout, only the hidden dropout can make two keys differ.
  a_logits, a_feats = sample(noisy, 1)
  b_logits, _ = sample(noisy, 2)
  assert not np.allclose(a_logits, b_logits)
  assert not np.allclose(a_logits, want_logits)
  np.testing.assert_allclose(sample(clean, 1)[0], want_logits, rtol=1e-5,
                             atol=1e-5)
  # The features are the last layer's dropped-out activations (0 or scaled
  # by 1 / keep), and the logits are the output layer applied to them.
  a_feats = np.asarray(a_feats)
  dropped = a_feats == 0
  assert 0.2 < dropped.mean() < 0.6  # ~rate of 9 x 17 entries.
  out = params["out"]
  np.testing.assert_allclose(
      a_logits, (a_feats @ np.asarray(out["kernel"])
                 + np.asarray(out["bias"]))[:, 0], rtol=1e-5, atol=1e-5)
  # An earlier layer's mask changes what the last one sees, so the kept
  # entries are not simply the deterministic features rescaled.
  assert not np.allclose(a_feats[~dropped],
                         want_feats[~dropped] / (1 - rate), atol=1e-4)


def test_hidden_dropout_of_one_layer_is_an_inverted_dropout_mask():
  # One hidden layer: the kept features are exactly the clean ones / keep.
  rate = 0.3
  x = jax.random.normal(jax.random.key(4), (11, DIM))
  module = models.Discriminator(hidden=19, n_layers=1, input_dropout=0.0,
                                hidden_dropout=rate)
  params = module.init(jax.random.key(0), x)["params"]
  _, clean = _np_forward(params, x, 1)
  _, feats = module.apply({"params": params}, x, deterministic=False,
                          return_features=True,
                          rngs={"dropout": jax.random.key(5)})
  feats = np.asarray(feats)
  kept = feats != 0
  assert 0 < kept.mean() < 1
  np.testing.assert_allclose(feats[kept], clean[kept] / (1 - rate), rtol=1e-5,
                             atol=1e-6)


def test_discriminator_from_config_reads_every_model_field():
  config = registry.get_config("ctgan_thesis_es_en")
  module = models.discriminator_from_config(config.model)
  assert (module.hidden, module.n_layers, module.input_dropout,
          module.hidden_dropout, module.leaky_slope, module.layer_norm) == (
              2048, 2, 0.1, 0.1, 0.2, True)
  # A config saved before the field existed: off, as it was then.
  old = ml_collections.ConfigDict(
      {"hidden": 7, "n_layers": 1, "input_dropout": 0.2, "leaky_slope": 0.1,
       "layer_norm": False})
  module = models.discriminator_from_config(old)
  assert (module.hidden, module.n_layers, module.input_dropout,
          module.hidden_dropout, module.leaky_slope, module.layer_norm,
          module.layer_norm_epsilon) == (7, 1, 0.2, 0.0, 0.1, False, 1e-6)
  config.model.layer_norm_epsilon = 0.01
  assert models.discriminator_from_config(
      config.model).layer_norm_epsilon == 0.01


def _np_critic(params, x, epsilon, slope=0.2):
  """The LayerNorm critic's forward pass in numpy, from the formulas."""
  h = np.asarray(x, np.float64)
  for i in range(2):
    dense, norm = params[f"dense_{i}"], params[f"norm_{i}"]
    h = h @ np.asarray(dense["kernel"]) + np.asarray(dense["bias"])
    h = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True)
                                                  + epsilon)
    h = h * np.asarray(norm["scale"]) + np.asarray(norm["bias"])
    h = np.where(h > 0, h, slope * h)
  return h @ np.asarray(params["out"]["kernel"])[:, 0] + float(
      params["out"]["bias"][0])


@pytest.mark.parametrize("epsilon", [1e-6, 0.01, 1.0])
def test_layer_norm_epsilon_matches_numpy_and_caps_the_gain(epsilon):
  module = models.Discriminator(hidden=16, n_layers=2, layer_norm=True,
                                layer_norm_epsilon=epsilon)
  x = jax.random.normal(jax.random.key(0), (9, 5))
  params = module.init(jax.random.key(1), x)["params"]
  # Weights clipped to [-0.01, 0.01], as WGAN does: tiny pre-activations.
  params = jax.tree_util.tree_map(lambda p: jnp.clip(p, -0.01, 0.01), params)
  got = np.asarray(module.apply({"params": params}, x))
  np.testing.assert_allclose(got, _np_critic(params, x, epsilon), rtol=2e-4,
                             atol=1e-6)
  # The input slope. Each LayerNorm's Jacobian has norm <= 1 / sqrt(var +
  # epsilon) <= 1 / sqrt(epsilon), so with every parameter clipped to 0.01
  # (LN scales included) the slope is at most the product of the layers'
  # Frobenius norms and those gains.
  slope = jax.vmap(jax.grad(lambda v: module.apply({"params": params},
                                                   v[None])[0]))(x)
  norm = float(jnp.linalg.norm(slope, axis=1).max())
  frobenius = [float(jnp.linalg.norm(params[k]["kernel"]))
               for k in ("dense_0", "dense_1", "out")]
  def bound(eps):
    return float(np.prod(frobenius)) * (0.01 / np.sqrt(eps)) ** 2
  assert norm <= bound(epsilon) * (1 + 1e-4)
  if epsilon == 1e-6:
    # flax's default gain undoes the clip: far steeper than epsilon 1 allows.
    assert norm > 100 * bound(1.0)


def _critic_after_a_chunk(hidden_dropout):
  config = registry.get_config("ctgan_synthetic")
  config.model.hidden, config.model.input_dropout = 6, 0.0
  config.model.hidden_dropout = hidden_dropout
  config.train.batch_size, config.train.dis_steps = 8, 1
  config.train.chunk_steps = 2
  rng = np.random.default_rng(0)
  data = step_lib.EmbeddingData(
      *(jnp.asarray(rng.standard_normal((n, DIM)), jnp.float32)
        for n in (13, 17)))
  trainer = multi_seed.build_trainer(config, DIM)
  init_fn, chunk_fn = trainer.init_fn, trainer.chunk_fn(trainer.chunk_steps)
  state, run_keys = multi_seed.init_seeds(init_fn, [0])
  state, _ = chunk_fn(state, run_keys, data)
  return state.dis_params


def test_the_trainer_builds_the_critic_with_hidden_dropout():
  # Same keys, no input dropout: only a hidden dropout the trainer honours
  # can make the critic's updates differ.
  a, b = _critic_after_a_chunk(0.0), _critic_after_a_chunk(0.5)
  assert not all(np.allclose(x, y) for x, y in zip(jax.tree.leaves(a),
                                                   jax.tree.leaves(b)))


def test_compiled_chunks_are_shared_by_configs_that_differ_on_the_host_only():
  def config(**train_fields):
    c = registry.get_config("wgangp_synthetic")
    c.model.hidden = 6
    c.train.batch_size, c.train.dis_steps, c.train.chunk_steps = 8, 1, 3
    c.train.update(train_fields)
    return c

  a = config()
  b = config(dis_lr=2e-3, map_lr=0.05, n_epochs=2, stop_patience=3)
  assert multi_seed.build_chunk(a, DIM, 3) is multi_seed.build_chunk(b, DIM, 3)
  assert multi_seed.build_chunk(a, DIM, 3) is not multi_seed.build_chunk(a, DIM, 2)
  assert multi_seed.build_chunk(config(batch_size=4), DIM, 3) is not (
      multi_seed.build_chunk(a, DIM, 3))
  # The shared function trains b with b's learning rates: the same state as
  # a chunk compiled for b alone (the lr lives in the optimiser state).
  rng = np.random.default_rng(0)
  data = step_lib.EmbeddingData(
      *(jnp.asarray(rng.standard_normal((n, DIM)), jnp.float32)
        for n in (13, 17)))
  init_b = multi_seed.build_trainer(b, DIM).init_fn
  state, keys = multi_seed.init_seeds(init_b, [0])
  shared, _ = multi_seed.build_chunk(a, DIM, 3)(state, keys, data)
  multi_seed._CHUNKS.clear()  # pylint: disable=protected-access
  own, _ = multi_seed.build_chunk(b, DIM, 3)(state, keys, data)
  _assert_states_close(shared, own, atol=1e-6)
  moved, _ = multi_seed.build_chunk(config(), DIM, 3)(
      multi_seed.init_seeds(multi_seed.build_trainer(a, DIM).init_fn, [0])[0], keys,
      data)
  assert not np.allclose(moved.mapping, own.mapping)  # The lr matters.


def test_step_is_pure_and_moves_both_players():
  data, step, init = _setup()
  state = init(jax.random.key(0))
  key = jax.random.key(1)
  s1, m1 = jax.jit(step)(state, key, data)
  s2, m2 = jax.jit(step)(state, key, data)
  _assert_states_close(s1, s2, atol=0)  # Same inputs, same outputs.
  assert int(s1.step) == 1
  assert not np.allclose(s1.mapping, state.mapping)
  changed = [not np.allclose(a, b) for a, b in zip(
      jax.tree.leaves(s1.dis_params), jax.tree.leaves(state.dis_params))]
  assert any(changed)
  assert set(m1) >= {"critic_loss", "generator_loss"}
  assert all(np.isfinite(float(v)) for v in m1.values())


def test_step_traces_once():
  data, step, init = _setup()
  traces = []

  def counted(state, key, data):
    traces.append(1)  # Runs only while tracing.
    return step(state, key, data)

  jitted = jax.jit(counted)
  state = init(jax.random.key(0))
  key = jax.random.key(1)
  for _ in range(4):
    state, _ = jitted(state, key, data)
  assert len(traces) == 1


@pytest.mark.parametrize("objective,opt,layer_norm", [
    ("gan", "sgd", False), ("wgangp", "adam", True)])
def test_fused_chunk_equals_single_steps(objective, opt, layer_norm):
  data, step, init = _setup(objective=objective, map_optimizer=opt,
                            dis_optimizer=opt, layer_norm=layer_norm)
  state0 = init(jax.random.key(3))
  key = jax.random.key(4)
  stepped = state0
  jstep = jax.jit(step)
  for _ in range(6):
    stepped, _ = jstep(stepped, key, data)
  chunk = jax.jit(functools.partial(step_lib.train_chunk, n_steps=3,
                                    step_fn=step))
  fused, _ = chunk(state0, key, data)
  fused, _ = chunk(fused, key, data)
  _assert_states_close(stepped, fused)


def test_vmapped_seeds_equal_independent_runs():
  data, step, init = _setup()
  seeds = [0, 1, 2]
  init_keys = jnp.stack([jax.random.key(s) for s in seeds])
  run_keys = jnp.stack([jax.random.key(100 + s) for s in seeds])
  chunk = functools.partial(step_lib.train_chunk, n_steps=4, step_fn=step)
  batched = jax.jit(jax.vmap(chunk, in_axes=(0, 0, None)))(
      jax.vmap(init)(init_keys), run_keys, data)[0]
  for i in range(len(seeds)):
    single = jax.jit(chunk)(init(init_keys[i]), run_keys[i], data)[0]
    _assert_states_close(jax.tree.map(lambda x: x[i], batched), single)
  # Different seeds really differ.
  assert not np.allclose(batched.mapping[0], batched.mapping[1])


def test_learning_rate_is_state():
  data, step, init = _setup()
  state = init(jax.random.key(0))
  assert float(step_lib.learning_rate(state.map_opt_state)) == pytest.approx(0.1)
  frozen = state.replace(map_opt_state=step_lib.set_learning_rate(
      state.map_opt_state, 0.0))
  new, _ = jax.jit(step)(frozen, jax.random.key(1), data)
  # lr 0: the gradient step is a no-op; only the orthogonality update moves W
  # (and the identity is its fixed point).
  np.testing.assert_allclose(np.asarray(new.mapping), np.eye(DIM), atol=1e-6)


def test_unknown_optimizer_is_a_clear_error():
  with pytest.raises(ValueError, match="Unknown optimizer 'sgdd'"):
    step_lib.make_optimizer("sgdd", 0.1)


def _sgd_step(method, objective, **step_config):
  """A jitted step of an 11-wide critic, SGD 0.1 for both players."""
  obj = get_objective(method, ml_collections.ConfigDict(objective))
  tx = step_lib.make_optimizer("sgd", 0.1)
  return jax.jit(step_lib.bind_step(
      objective=obj, critic=models.make_critic(models.Discriminator(hidden=11)),
      map_tx=tx, dis_tx=tx,
      config=step_lib.StepConfig(batch_size=7, dis_steps=2, **step_config)))


def test_instance_noise_changes_the_step_and_anneals_away():
  data, _, init = _setup()

  def bound(noise_std):
    return _sgd_step("gan", {"smoothing": 0.1}, noise_std=noise_std,
                     noise_anneal_steps=10)

  state = init(jax.random.key(0))
  key = jax.random.key(1)
  clean, _ = bound(0.0)(state, key, data)
  noisy, metrics = bound(0.5)(state, key, data)
  assert not np.allclose(clean.mapping, noisy.mapping)
  assert all(np.isfinite(float(v)) for v in metrics.values())
  # Past the annealing horizon the noise is exactly zero: same as clean.
  late = state.replace(step=jnp.asarray(10, jnp.int32))
  _assert_states_close(bound(0.5)(late, key, data)[0],
                       bound(0.0)(late, key, data)[0], atol=0)


def test_map_grad_clip_caps_the_mapping_step_at_its_norm():
  # Known answer: with plain SGD (lr 0.1) and no orthogonalisation (beta 0)
  # W moves by exactly -lr * g * min(1, clip / |g|); the unclipped step gives
  # g itself, so the clipped step is that step rescaled to norm lr * clip.
  data, _, init = _setup()

  def bound(clip):
    return _sgd_step("wgan", {"clip": 0.25}, map_beta=0.0, map_grad_clip=clip)

  state = init(jax.random.key(0))
  key = jax.random.key(1)
  free, metrics = bound(0.0)(state, key, data)
  step = np.asarray(free.mapping) - np.asarray(state.mapping)
  g_norm = float(metrics["map_grad_norm"])
  np.testing.assert_allclose(np.linalg.norm(step), 0.1 * g_norm, rtol=1e-4)
  tight = 0.5 * g_norm
  capped, capped_metrics = bound(tight)(state, key, data)
  capped_step = np.asarray(capped.mapping) - np.asarray(state.mapping)
  np.testing.assert_allclose(capped_step, step * tight / g_norm, rtol=1e-4,
                             atol=1e-7)
  # The metric is the norm before the cap; a loose cap changes nothing.
  np.testing.assert_allclose(float(capped_metrics["map_grad_norm"]), g_norm,
                             rtol=1e-6)
  _assert_states_close(bound(10 * g_norm)(state, key, data)[0], free, atol=0)


def test_step_depends_on_the_run_key_and_only_on_it():
  data, step, init = _setup()
  state = init(jax.random.key(0))
  jstep = jax.jit(step)
  same_a, _ = jstep(state, jax.random.key(1), data)
  same_b, _ = jstep(state, jax.random.key(1), data)
  other, _ = jstep(state, jax.random.key(2), data)
  # Same key: bit-identical. Another key (nothing else changed): other batches,
  # so both players end elsewhere.
  _assert_states_close(same_a, same_b, atol=0)
  assert not np.allclose(same_a.mapping, other.mapping)
  assert not any(np.allclose(a, b) for a, b in zip(
      jax.tree.leaves(same_a.dis_params), jax.tree.leaves(other.dis_params)))


def test_fused_chunks_depend_on_the_run_key():
  data, step, init = _setup()
  chunk = jax.jit(functools.partial(step_lib.train_chunk, n_steps=3,
                                    step_fn=step))
  state = init(jax.random.key(0))
  a, metrics_a = chunk(state, jax.random.key(5), data)
  b, metrics_b = chunk(state, jax.random.key(5), data)
  c, metrics_c = chunk(state, jax.random.key(6), data)
  _assert_states_close(a, b, atol=0)
  assert float(metrics_a["critic_loss"]) == float(metrics_b["critic_loss"])
  assert not np.allclose(a.mapping, c.mapping)
  assert float(metrics_a["critic_loss"]) != float(metrics_c["critic_loss"])


def test_each_iteration_draws_new_numbers_from_its_step_count():
  # The key of an iteration is fold_in(run_key, step): the same run key at
  # another step count must give other batches (a step that used the run key
  # as is would repeat the same batches every iteration).
  data, step, init = _setup()
  state = init(jax.random.key(0))
  later = state.replace(step=jnp.asarray(7, jnp.int32))
  key = jax.random.key(1)
  a, _ = jax.jit(step)(state, key, data)
  b, _ = jax.jit(step)(later, key, data)
  assert int(b.step) == 8
  assert not np.allclose(a.mapping, b.mapping)


# --- sampling: each side from its own vocabulary ---------------------------
N_SRC, N_TGT = 5, 23  # More target than source words, as in UBiLexAT es-en.


@functools.lru_cache(maxsize=None)
def _marked_step(most_frequent):
  """A jitted step built from a registry config through `multi_seed.step_config`
  (cached: one compilation per setting), with its initial state."""
  config = registry.get_config("gan_synthetic")
  config.train.dis_most_frequent = most_frequent
  # 2 x 256 critic draws per side: any given row among 23 is missed with
  # probability (22/23)^512 < 1e-9.
  config.train.batch_size, config.train.dis_steps = 256, 2
  config.train.noise_std = 0.0
  module = models.Discriminator(hidden=7)
  obj = get_objective("gan", ml_collections.ConfigDict({"smoothing": 0.1}))
  tx = step_lib.make_optimizer("sgd", 0.1)
  step = jax.jit(step_lib.bind_step(
      objective=obj, critic=models.make_critic(module), map_tx=tx, dis_tx=tx,
      config=multi_seed.step_config(config)))
  return step, step_lib.create_train_state(jax.random.key(0), DIM, module, tx, tx)


def _finite_after_step(most_frequent, nan_src=(), nan_tgt=()):
  """One step on data whose rows `nan_src` / `nan_tgt` are NaN: the state
  stays finite iff no marked row was sampled (a NaN row poisons every
  gradient)."""
  step, state = _marked_step(most_frequent)
  rng = np.random.default_rng(0)
  src = rng.standard_normal((N_SRC, DIM)).astype(np.float32)
  tgt = rng.standard_normal((N_TGT, DIM)).astype(np.float32)
  src[list(nan_src)] = np.nan
  tgt[list(nan_tgt)] = np.nan
  new, _ = step(state, jax.random.key(1),
                step_lib.EmbeddingData(jnp.asarray(src), jnp.asarray(tgt)))
  return all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(
      (new.mapping, new.dis_params)))


def test_all_words_means_all_of_each_side():
  # dis_most_frequent = 0: target rows >= n_src are drawn (the critic sees
  # all of the target vocabulary as real), ...
  assert _finite_after_step(0)
  assert not _finite_after_step(0, nan_tgt=range(N_SRC, N_TGT))
  assert not _finite_after_step(0, nan_tgt=[N_TGT - 1])
  # ... and the last source row too.
  assert not _finite_after_step(0, nan_src=[N_SRC - 1])


@pytest.mark.parametrize("most_frequent", [3, 11, 1000])
def test_most_frequent_caps_each_side_at_its_own_size(most_frequent):
  lim_src, lim_tgt = min(most_frequent, N_SRC), min(most_frequent, N_TGT)
  # Nothing beyond min(N, size) is drawn on either side ...
  assert _finite_after_step(most_frequent, nan_src=range(lim_src, N_SRC),
                            nan_tgt=range(lim_tgt, N_TGT))
  # ... and the last row within it is, on each side.
  assert not _finite_after_step(most_frequent, nan_tgt=[lim_tgt - 1])
  assert not _finite_after_step(most_frequent, nan_src=[lim_src - 1])


def test_negative_most_frequent_is_a_config_error():
  config = registry.get_config("gan_synthetic")
  config.train.dis_most_frequent = -1
  with pytest.raises(errors.ConfigError, match="train.dis_most_frequent=-1"):
    multi_seed.step_config(config)
