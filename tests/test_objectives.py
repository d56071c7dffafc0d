"""Tests for the adversarial objectives, their registry and instance noise."""

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from bdi_jax import models
from bdi_jax.objectives import REGISTRY
from bdi_jax.objectives import base
from bdi_jax.objectives import ctgan
from bdi_jax.objectives import gan
from bdi_jax.objectives import get_objective
from bdi_jax.objectives import noise
from bdi_jax.objectives import wgan
from bdi_jax.objectives import wgangp
from experiments.configs import registry

OBJECTIVES = ("gan", "wgan", "wgangp", "ctgan")
B, D, H = 7, 5, 9  # Odd, unequal sizes catch axis mix-ups.


def linear_critic(params, x, key):
  del key
  return x @ params["w"], x


@functools.lru_cache(maxsize=None)  # Arrays are immutable; init once.
def setup(input_dropout=0.2, layer_norm=False, seed=0):
  module = models.Discriminator(hidden=H, n_layers=2,
                                input_dropout=input_dropout,
                                layer_norm=layer_norm)
  k_init, k_real, k_fake = jax.random.split(jax.random.key(seed), 3)
  params = module.init(k_init, jnp.zeros((1, D)))["params"]
  real = jax.random.normal(k_real, (B, D)) + 1.0
  fake = jax.random.normal(k_fake, (B, D))
  return models.make_critic(module), params, real, fake


def objective(name, **fields):
  return get_objective(name, ml_collections.ConfigDict(fields))


# ------------------------------------------------------------------ registry
def _np_bce(logits, label):
  p = 1.0 / (1.0 + np.exp(-logits))
  return -(label * np.log(p) + (1 - label) * np.log(1 - p))


def _reference_losses(name, w, real, fake, fields):
  """(critic loss, generator loss) of objective `name` for the linear critic
  x -> x @ w, deterministic (key None), from each paper's formula in numpy."""
  lr, lf = real @ w, fake @ w
  wasserstein = -(lr.mean() - lf.mean())
  # A linear critic's input gradient is w everywhere: GP = (|w| - 1)^2.
  gp = (np.linalg.norm(w) - 1.0) ** 2
  if name == "gan":
    s = fields["smoothing"]
    return (0.5 * (_np_bce(lr, 1 - s).mean() + _np_bce(lf, s).mean()),
            _np_bce(lf, 1 - s).mean())
  if name == "wgan":
    return wasserstein, -lf.mean()
  if name == "wgangp":
    return wasserstein + fields["gp_lambda"] * gp, -lf.mean()
  if name == "ctgan":  # No dropout without a key: the consistency term is 0.
    return wasserstein + fields["gp_lambda"] * gp, -lf.mean()
  raise KeyError(name)


@pytest.mark.parametrize("name", OBJECTIVES)
def test_registry_builds_each_objective_with_its_config(name):
  # Non-default hyper-parameters: the registry must bind them, not defaults.
  fields = {"smoothing": 0.3, "clip": 0.05, "gp_lambda": 2.5,
            "ct_lambda": 3.0, "ct_margin": 0.0, "ct_feature_weight": 0.2}
  obj = objective(name, **fields)
  assert isinstance(obj, base.Objective) and obj.name == name
  rng = np.random.default_rng(20)
  w = rng.normal(size=D)
  # Equal batch sizes: the penalty pairs real and fake rows.
  real, fake = rng.normal(size=(B, D)) + 1.0, rng.normal(size=(B, D))
  params = {"w": jnp.asarray(w, jnp.float32)}
  loss, _ = obj.critic_loss(linear_critic, params, jnp.asarray(real, jnp.float32),
                            jnp.asarray(fake, jnp.float32), None)
  g_loss, _ = obj.generator_loss(linear_critic, params,
                                 jnp.asarray(fake, jnp.float32), None)
  want_loss, want_g = _reference_losses(name, w, real, fake, fields)
  np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
  np.testing.assert_allclose(g_loss, want_g, rtol=1e-5)
  # Only WGAN projects, onto the configured box.
  big = {"w": jnp.full((D,), 1.0)}
  projected = np.asarray(obj.project(big)["w"])
  np.testing.assert_allclose(projected, 0.05 if name == "wgan" else 1.0,
                             rtol=1e-6)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_objective_builds_from_the_default_config(name):
  from experiments.configs import default  # pylint: disable=g-import-not-at-top
  obj = get_objective(name, default.get_config().objective)
  # Each name is wired to its own module, not to another's.
  assert obj.name == name


def test_registry_rejects_unknown_names():
  with pytest.raises(ValueError, match="Unknown objective"):
    objective("wgan-gp")


# ------------------------------------------------------------ shared contract
@pytest.mark.parametrize("name", OBJECTIVES)
def test_losses_are_finite_scalars(name):
  critic, params, real, fake = setup()
  obj = objective(name)

  @jax.jit
  def run(p, r, f, key):
    stochastic = obj.critic_loss(critic, p, r, f, key)
    deterministic = obj.critic_loss(critic, p, r, f, None)
    generator = obj.generator_loss(critic, p, f, key)
    # The generator's gradient flows through ``fake``.
    g = jax.grad(lambda ff: obj.generator_loss(critic, p, ff, key)[0])(f)
    return stochastic, deterministic, generator, g

  stochastic, deterministic, generator, g = run(params, real, fake,
                                                jax.random.key(1))
  for loss, metrics in (stochastic, deterministic):
    assert loss.shape == () and np.isfinite(loss)
    assert all(v.shape == () for v in metrics.values())
    np.testing.assert_allclose(metrics["critic_loss"], loss, rtol=1e-6)
  assert set(stochastic[1]) == set(deterministic[1])
  assert generator[0].shape == () and np.isfinite(generator[0])
  assert "generator_loss" in generator[1]
  assert g.shape == fake.shape and np.any(np.asarray(g) != 0)


@pytest.mark.parametrize("name", OBJECTIVES)
def test_critic_loss_falls_when_real_scores_rise(name):
  critic, params, real, fake = setup()
  obj = objective(name)

  def loss(shift):
    """Critic loss with ``shift[0]`` added to real and ``shift[1]`` to fake."""

    def shifted_critic(p, x, key):
      scores, features = critic(p, x, key)
      # Membership is piecewise constant in x, so it adds nothing to input
      # gradients (the penalty) and cancels in the consistency term.
      is_real = jnp.any(jnp.all(x[:, None, :] == real[None], axis=-1), axis=-1)
      return scores + jnp.where(is_real, shift[0], shift[1]), features

    return obj.critic_loss(shifted_critic, params, real, fake,
                           jax.random.key(2))[0]

  grad_real, grad_fake = jax.jit(jax.grad(loss))(jnp.zeros(2))
  assert grad_real < 0 and grad_fake > 0, (grad_real, grad_fake)


@pytest.mark.parametrize("name", OBJECTIVES)
def test_generator_loss_falls_when_fake_scores_rise(name):
  critic, params, _, fake = setup()
  obj = objective(name)

  def loss(shift):
    shifted = lambda p, x, k: jax.tree.map(  # noqa: E731
        lambda a, b: a + b, critic(p, x, k), (shift, 0.0))
    return obj.generator_loss(shifted, params, fake, jax.random.key(3))[0]

  assert jax.jit(jax.grad(loss))(0.0) < 0


# ------------------------------------------------------------------ vanilla
def test_gan_critic_loss_matches_numpy_bce():
  rng = np.random.default_rng(0)
  params = {"w": jnp.asarray(rng.normal(size=D), jnp.float32)}
  real = jnp.asarray(rng.normal(size=(B, D)), jnp.float32)
  fake = jnp.asarray(rng.normal(size=(B + 2, D)), jnp.float32)
  s = 0.1
  loss, _ = gan.critic_loss(linear_critic, params, real, fake, None,
                            smoothing=s)

  def bce(logits, y):
    p = 1.0 / (1.0 + np.exp(-logits))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))

  w = np.asarray(params["w"], np.float64)
  lr, lf = np.asarray(real, np.float64) @ w, np.asarray(fake, np.float64) @ w
  expected = 0.5 * (bce(lr, 1 - s).mean() + bce(lf, s).mean())
  np.testing.assert_allclose(loss, expected, rtol=1e-5)


# --------------------------------------------------------------------- wgan
def test_wgan_w_estimate_is_mean_real_minus_mean_fake():
  rng = np.random.default_rng(1)
  params = {"w": jnp.asarray(rng.normal(size=D), jnp.float32)}
  real = jnp.asarray(rng.normal(size=(B, D)), jnp.float32)
  fake = jnp.asarray(rng.normal(size=(B - 3, D)), jnp.float32)  # b != b'.
  loss, metrics = wgan.critic_loss(linear_critic, params, real, fake, None)
  w = np.asarray(params["w"])
  expected = (np.asarray(real) @ w).mean() - (np.asarray(fake) @ w).mean()
  np.testing.assert_allclose(metrics["w_estimate"], expected, rtol=1e-5)
  np.testing.assert_allclose(loss, -expected, rtol=1e-5)
  g_loss, _ = wgan.generator_loss(linear_critic, params, fake, None)
  np.testing.assert_allclose(g_loss, -(np.asarray(fake) @ w).mean(), rtol=1e-5)


def test_weight_clipping_boxes_weights_and_keeps_in_range_ones():
  _, params, _, _ = setup()
  params = jax.tree.map(lambda p: 3.0 * p + 0.1, params)
  c = 0.25
  clipped = objective("wgan", clip=c).project(params)
  assert jax.tree.structure(clipped) == jax.tree.structure(params)
  n_inside = n_outside = 0
  for before, after in zip(jax.tree.leaves(params), jax.tree.leaves(clipped)):
    before, after = np.asarray(before), np.asarray(after)
    assert np.all(np.abs(after) <= c)
    inside = np.abs(before) <= c
    np.testing.assert_array_equal(after[inside], before[inside])
    np.testing.assert_array_equal(after[~inside], c * np.sign(before[~inside]))
    n_inside += inside.sum()
    n_outside += (~inside).sum()
  assert n_inside > 0 and n_outside > 0  # Both branches were exercised.
  # Idempotent: a projection.
  for a, b in zip(jax.tree.leaves(clipped),
                  jax.tree.leaves(wgan.clip_weights(clipped, c))):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ("gan", "wgangp", "ctgan"))
def test_other_objectives_do_not_project(name):
  _, params, _, _ = setup()
  assert objective(name).project(params) is params


# ------------------------------------------------------------------- wgangp
def test_gradient_penalty_matches_finite_differences():
  critic, params, real, fake = setup(input_dropout=0.3, layer_norm=True)
  with jax.enable_x64(True):
    params, real, fake = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64),
                                      (params, real, fake))
    # With a key: random eps and a dropout mask, both rebuilt below.
    key = jax.random.key(4)
    gp, metrics = jax.jit(lambda k: wgangp.gradient_penalty(
        critic, params, real, fake, k))(key)
    # Rebuild the documented interpolates and dropout key.
    eps_key, dropout_key = jax.random.split(key)
    eps = jax.random.uniform(eps_key, (B, 1), jnp.float64)
    x_hat = np.asarray(eps * real + (1 - eps) * fake)
    score = jax.jit(lambda x: critic(params, x, dropout_key)[0])
    h = 1e-6
    grads = np.zeros((B, D))
    for i in range(B):
      for j in range(D):
        up, down = x_hat.copy(), x_hat.copy()
        up[i, j] += h
        down[i, j] -= h
        diff = np.asarray(score(up)) - np.asarray(score(down))
        grads[i, j] = diff[i] / (2 * h)
    norms = np.linalg.norm(grads, axis=-1)
    assert gp.dtype == jnp.float64
    np.testing.assert_allclose(metrics["grad_norm"], norms.mean(), rtol=1e-6)
    np.testing.assert_allclose(gp, np.mean((norms - 1.0) ** 2), rtol=1e-5,
                               atol=1e-9)


def test_gradient_penalty_is_zero_for_unit_linear_critic():
  _, _, real, fake = setup()
  w = jax.random.normal(jax.random.key(5), (D,))
  penalty = jax.jit(lambda p, k: wgangp.gradient_penalty(
      linear_critic, p, real, fake, k))
  for scale, expected in ((1.0, 0.0), (2.0, 1.0), (0.0, 1.0)):
    params = {"w": scale * w / jnp.linalg.norm(w)}
    for key in (jax.random.key(6), None):
      gp, metrics = penalty(params, key)
      np.testing.assert_allclose(gp, expected, atol=1e-6)
      np.testing.assert_allclose(metrics["grad_norm"], scale, atol=1e-6)
  # The zero-gradient case (scale 0) has a finite parameter gradient.
  g = jax.jit(jax.grad(lambda p: penalty(p, None)[0]))({"w": jnp.zeros(D)})
  assert np.all(np.isfinite(np.asarray(g["w"])))


def test_wgangp_loss_is_wgan_plus_weighted_penalty():
  critic, params, real, fake = setup()
  obj = objective("wgangp", gp_lambda=3.0)  # The config field is bound.

  @jax.jit
  def run(key):
    loss, metrics = obj.critic_loss(critic, params, real, fake, key)
    score_key, gp_key = jax.random.split(key)
    w_loss, _ = wgan.critic_loss(critic, params, real, fake, score_key)
    gp, _ = wgangp.gradient_penalty(critic, params, real, fake, gp_key)
    return loss, metrics, w_loss, gp

  loss, metrics, w_loss, gp = run(jax.random.key(7))
  np.testing.assert_allclose(loss, w_loss + 3.0 * gp, rtol=1e-6)
  assert {"w_estimate", "gp", "grad_norm"} <= set(metrics)


# -------------------------------------------------------------------- ctgan
def test_consistency_term_is_positive_with_dropout():
  critic, params, real, _ = setup(input_dropout=0.5)
  ct, metrics = ctgan.consistency_term(critic, params, 5.0 * real,
                                       jax.random.key(8), margin=0.0)
  assert ct > 0
  assert metrics["ct_score_dist"] > 0 and metrics["ct_feature_dist"] > 0


def test_consistency_term_sees_hidden_dropout_alone():
  # The thesis's perturbation: no input dropout, dropout before the output.
  x = 5.0 * (jax.random.normal(jax.random.key(11), (B, D)) + 1.0)
  ct = {}
  for rate in (0.0, 0.5):
    module = models.Discriminator(hidden=H, n_layers=2, input_dropout=0.0,
                                  hidden_dropout=rate)
    params = module.init(jax.random.key(0), jnp.zeros((1, D)))["params"]
    ct[rate], metrics = ctgan.consistency_term(
        models.make_critic(module), params, x, jax.random.key(12), margin=0.0)
  assert float(ct[0.0]) == 0.0
  assert ct[0.5] > 0
  assert metrics["ct_score_dist"] > 0 and metrics["ct_feature_dist"] > 0


def test_consistency_term_is_zero_without_dropout():
  key = jax.random.key(9)
  # No dropout at all.
  critic, params, real, _ = setup(input_dropout=0.0)
  ct, metrics = ctgan.consistency_term(critic, params, real, key, margin=0.0)
  assert float(ct) == 0.0 and float(metrics["ct_score_dist"]) == 0.0
  # Dropout, but both passes forced onto the same key: identical masks.
  critic, params, real, _ = setup(input_dropout=0.5)
  same_key = lambda p, x, k: critic(p, x, key)  # noqa: E731
  ct, _ = ctgan.consistency_term(same_key, params, real, key, margin=0.0)
  assert float(ct) == 0.0
  # Deterministic loss: no dropout, so no consistency penalty.
  _, metrics = ctgan.critic_loss(critic, params, real, real + 1.0, None)
  assert float(metrics["ct"]) == 0.0


def test_consistency_term_passes_use_different_keys():
  seen = []

  def spy_critic(p, x, key):
    seen.append(key)
    mask = jax.random.bernoulli(key, 0.5, x.shape)
    return p * jnp.sum(x * mask, axis=-1), x * mask

  x = jnp.ones((B, D))
  ctgan.consistency_term(spy_critic, jnp.ones(()), x, jax.random.key(10))
  assert len(seen) == 2 and seen[0] is not None
  assert not np.array_equal(jax.random.key_data(seen[0]),
                            jax.random.key_data(seen[1]))
  masks = [np.asarray(jax.random.bernoulli(k, 0.5, x.shape)) for k in seen]
  assert not np.array_equal(*masks)


def test_ctgan_loss_adds_weighted_terms():
  critic, params, real, fake = setup(input_dropout=0.5)
  # Non-default values check that every config field is bound.
  obj = objective("ctgan", gp_lambda=1.5, ct_lambda=3.0, ct_margin=0.0,
                  ct_feature_weight=0.2)

  @jax.jit
  def run(key):
    loss, metrics = obj.critic_loss(critic, params, real, fake, key)
    score_key, gp_key, ct_key = jax.random.split(key, 3)
    w_loss, _ = wgan.critic_loss(critic, params, real, fake, score_key)
    gp, _ = wgangp.gradient_penalty(critic, params, real, fake, gp_key)
    ct, _ = ctgan.consistency_term(critic, params, real, ct_key, margin=0.0,
                                   feature_weight=0.2)
    return loss, metrics, w_loss, gp, ct

  loss, metrics, w_loss, gp, ct = run(jax.random.key(11))
  np.testing.assert_allclose(loss, w_loss + 1.5 * gp + 3.0 * ct, rtol=1e-6)
  assert metrics["ct"] > 0
  assert {"w_estimate", "gp", "grad_norm", "ct"} <= set(metrics)


# CT-GAN's consistency term against an independent numpy reference: the two
# dropout passes are recorded (the inputs and hidden activations each
# Dropout layer let through), the critic is rebuilt in float64 numpy from its
# parameters and those masks, and Wei et al. 2018's term (their Sec. 3,
# with d(x', x'') absorbed into M') is computed from the two passes:
#   CT = mean_x max(0, |D(x') - D(x'')| + 0.1 * ||D_(x') - D_(x'')||_2 - M').
# M' = 0.2 is the presets' margin (objective.ct_margin); the inputs are
# chosen so that rows fall on both sides of it.
_PRESET_MARGIN = 0.2


def _is_dropout(module, method_name):
  import flax.linen as nn  # pylint: disable=g-import-not-at-top
  return isinstance(module, nn.Dropout) and method_name == "__call__"


def _recording_critic(module, passes):
  """The production critic's contract, also recording each pass's dropout
  outputs (eager, so they are concrete arrays)."""

  def critic(params, x, key):
    (logits, features), state = module.apply(
        {"params": params}, x, deterministic=key is None,
        return_features=True, rngs=None if key is None else {"dropout": key},
        capture_intermediates=_is_dropout)
    drops = {name: v["__call__"][0]
             for name, v in state["intermediates"].items()}
    # Passes under a transformation (the gradient penalty's jax.grad) hold
    # tracers; only the concrete ones (scores, consistency term) are kept.
    if not any(isinstance(v, jax.core.Tracer) for v in drops.values()):
      passes.append({k: np.asarray(v, np.float64) for k, v in drops.items()})
    return logits, features

  return critic


def _np_critic(module, params, x, drops):
  """``(scores [b], features [b, h])`` of ``module`` in float64 numpy, with
  the dropout masks read off one recorded pass."""
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
  x = np.asarray(x, np.float64)

  def dropout(h, rate, name):
    if rate == 0:
      return h
    out = drops[name]
    keep = out != 0  # Kept entries are h / (1 - rate), never exactly 0 here.
    assert 0 < keep.mean() < 1, name  # A real mask: some kept, some dropped.
    np.testing.assert_allclose(out, np.where(keep, h / (1 - rate), 0.0),
                               rtol=1e-4, atol=1e-5)
    return np.where(keep, h / (1 - rate), 0.0)

  h = dropout(x, module.input_dropout, "Dropout_0")
  for i in range(module.n_layers):
    h = h @ p[f"dense_{i}"]["kernel"] + p[f"dense_{i}"]["bias"]
    if module.layer_norm:
      mu, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
      h = ((h - mu) / np.sqrt(var + module.layer_norm_epsilon)
           * p[f"norm_{i}"]["scale"] + p[f"norm_{i}"]["bias"])
    h = np.where(h > 0, h, module.leaky_slope * h)
    h = dropout(h, module.hidden_dropout, f"hidden_dropout_{i}")
  scores = (h @ p["out"]["kernel"] + p["out"]["bias"])[:, 0]
  return scores, h


def _np_consistency_rows(module, params, x, pass_1, pass_2, feature_weight):
  """Per-row ``|D(x') - D(x'')| + w ||D_(x') - D_(x'')||`` in numpy."""
  s1, f1 = _np_critic(module, params, x, pass_1)
  s2, f2 = _np_critic(module, params, x, pass_2)
  return np.abs(s1 - s2) + feature_weight * np.linalg.norm(f1 - f2, axis=-1)


# Input dropout on an un-normalised critic (the tuned presets' perturbation;
# row scales spread the distances over the margin) and hidden dropout after
# LayerNorm (the thesis's perturbation, "before the output").
_CT_CRITICS = {
    "input_dropout": dict(hidden=H, n_layers=2, input_dropout=0.3),
    "hidden_dropout": dict(hidden=H, n_layers=2, input_dropout=0.0,
                           hidden_dropout=0.3, layer_norm=True),
}


def _ct_case(kind):
  module = models.Discriminator(**_CT_CRITICS[kind])
  k_init, k_x = jax.random.split(jax.random.key(21))
  params = module.init(k_init, jnp.zeros((1, D)))["params"]
  # Rows from 1/20 to 5 times a Gaussian: per-row distances from well below
  # to well above M'.
  scale = np.geomspace(0.05, 5.0, 16)[:, None]
  x = jnp.asarray(scale * np.asarray(jax.random.normal(k_x, (16, D))),
                  jnp.float32)
  if kind == "hidden_dropout":
    # LayerNorm undoes the row scales; smaller weights (and LayerNorm gains)
    # put these rows' distances on both sides of M' instead (0.09 to 0.34).
    params = jax.tree.map(lambda a: 0.3 * a, params)
  return module, params, x


@pytest.mark.parametrize("kind", sorted(_CT_CRITICS))
@pytest.mark.parametrize("feature_weight", (0.1, 0.05))
def test_consistency_term_matches_numpy_rebuild(kind, feature_weight):
  module, params, x = _ct_case(kind)
  passes = []
  key = jax.random.key(22)
  ct, metrics = ctgan.consistency_term(
      _recording_critic(module, passes), params, x, key,
      margin=_PRESET_MARGIN, feature_weight=feature_weight)
  assert len(passes) == 2
  rows = _np_consistency_rows(module, params, x, *passes, feature_weight)
  # The margin is exercised: rows on both sides of M'.
  assert (rows < _PRESET_MARGIN).sum() >= 3, rows
  assert (rows > _PRESET_MARGIN).sum() >= 3, rows
  want = np.mean(np.maximum(0.0, rows - _PRESET_MARGIN))
  np.testing.assert_allclose(ct, want, rtol=1e-4, atol=1e-6)
  # Only the rows above M' count: not the plain mean minus M'.
  assert abs(want - max(0.0, rows.mean() - _PRESET_MARGIN)) > 1e-3
  s1, f1 = _np_critic(module, params, x, passes[0])
  s2, f2 = _np_critic(module, params, x, passes[1])
  np.testing.assert_allclose(metrics["ct_score_dist"],
                             np.abs(s1 - s2).mean(), rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(metrics["ct_feature_dist"],
                             np.linalg.norm(f1 - f2, axis=-1).mean(),
                             rtol=1e-4, atol=1e-6)
  # The recording wrapper is the production critic: same keys, same term.
  ct_prod, _ = ctgan.consistency_term(
      models.make_critic(module), params, x, key, margin=_PRESET_MARGIN,
      feature_weight=feature_weight)
  np.testing.assert_allclose(ct_prod, ct, rtol=1e-6)


def test_ctgan_preset_loss_adds_numpy_consistency_term():
  # The preset's objective fields (margin 0.2, feature weight 0.1, weight 2)
  # through the registry; the loss's CT part is the numpy rebuild's.
  fields = registry.get_config("ctgan_synthetic").objective
  assert fields.ct_margin == _PRESET_MARGIN
  module, params, x = _ct_case("input_dropout")
  fake = x[::-1] + 0.5
  key = jax.random.key(23)
  passes = []
  obj = get_objective("ctgan", fields)
  loss, metrics = obj.critic_loss(_recording_critic(module, passes), params,
                                  x, fake, key)
  # The last two passes are the consistency term's, both on the real rows.
  rows = _np_consistency_rows(module, params, x, passes[-2], passes[-1],
                              fields.ct_feature_weight)
  assert (rows < _PRESET_MARGIN).sum() >= 3 and (
      rows > _PRESET_MARGIN).sum() >= 3, rows
  want = np.mean(np.maximum(0.0, rows - _PRESET_MARGIN))
  np.testing.assert_allclose(metrics["ct"], want, rtol=1e-4, atol=1e-6)
  # Without the term (weight 0), with the same key: the loss drops by
  # ct_lambda * CT exactly.
  no_ct = get_objective("ctgan", ml_collections.ConfigDict(
      dict(fields.to_dict(), ct_lambda=0.0)))
  loss_0, _ = no_ct.critic_loss(models.make_critic(module), params, x, fake,
                                key)
  np.testing.assert_allclose(loss - loss_0, fields.ct_lambda * want,
                             rtol=1e-3, atol=1e-5)


# ------------------------------------------------------------ instance noise
def test_instance_noise_std_anneals_linearly_to_zero():
  std = jax.jit(lambda s: noise.instance_noise_std(s, 0.4, 100))
  for step, expected in ((0, 0.4), (25, 0.3), (50, 0.2), (100, 0.0),
                         (250, 0.0)):
    np.testing.assert_allclose(std(jnp.int32(step)), expected, atol=1e-7)
  assert float(noise.instance_noise_std(5, 0.4, 0)) == 0.0


def test_instance_noise_is_independent_between_real_and_fake():
  zeros = jnp.zeros((4001, D))
  real, fake = noise.add_instance_noise(jax.random.key(13), zeros, zeros, 0.3)
  real, fake = np.asarray(real).ravel(), np.asarray(fake).ravel()
  assert not np.allclose(real, fake)
  assert abs(np.corrcoef(real, fake)[0, 1]) < 0.05
  np.testing.assert_allclose(real.std(), 0.3, rtol=0.05)
  np.testing.assert_allclose(fake.std(), 0.3, rtol=0.05)
  x = jnp.ones((B, D))
  same_r, same_f = noise.add_instance_noise(jax.random.key(14), x, 2 * x, 0.0)
  np.testing.assert_array_equal(same_r, x)
  np.testing.assert_array_equal(same_f, 2 * x)
