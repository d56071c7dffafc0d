"""NICE, Mixflow, the PGAN critic and the flow training step against
independent references (numpy / scipy / finite differences)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special
from scipy import stats

from bdi_jax.flows import critics
from bdi_jax.flows import mixflow
from bdi_jax.flows import nice
from bdi_jax.flows import toy_data
from bdi_jax.flows import train
from bdi_jax.objectives import wgangp

jax.config.update("jax_enable_x64", False)


# --- numpy references -------------------------------------------------------
def np_mlp(layers, x):
  h = np.asarray(x, np.float64)
  for i, layer in enumerate(layers):
    h = h @ np.asarray(layer["w"], np.float64) + np.asarray(layer["b"],
                                                            np.float64)
    if i < len(layers) - 1:
      h = np.maximum(h, 0.0)
  return h


def np_nice_forward(params, x):
  """Data -> latent, written out with explicit index sets."""
  h = np.array(x, np.float64)
  dim = h.shape[1]
  for layer, m in enumerate(params["couplings"]):
    kept = list(range(layer % 2, dim, 2))
    shifted = list(range(1 - layer % 2, dim, 2))
    h[:, shifted] = h[:, shifted] + np_mlp(m, h[:, kept])
  return h * np.exp(np.asarray(params["log_scale"], np.float64))


def np_gauss_log_prob(params, x):
  z = np_nice_forward(params, x)
  return (np.sum(stats.norm.logpdf(z), axis=1)
          + np.sum(np.asarray(params["log_scale"], np.float64)))


def component(params, i):
  return jax.tree.map(lambda p: p[i], params)


def random_scales(params, key, scale=0.3):
  s = params["log_scale"]
  params["log_scale"] = scale * jax.random.normal(key, s.shape)
  return params


# --- coupling layers and NICE ----------------------------------------------
@pytest.mark.parametrize("dim", [2, 5])
def test_coupling_inverse_and_log_det(dim):
  spec = nice.FlowSpec(dim=dim, n_couplings=3, depth=2, width=16)
  key1, key2, key3 = jax.random.split(jax.random.key(0), 3)
  params = random_scales(nice.init(key1, spec), key2)
  x = jax.random.normal(key3, (7, dim))
  z, log_det = nice.forward(params, x)
  np.testing.assert_allclose(nice.inverse(params, z), x, atol=1e-5)
  for layer, m in enumerate(params["couplings"]):
    y = nice.coupling_forward(m, x, layer)
    np.testing.assert_allclose(nice.coupling_inverse(m, y, layer), x,
                               atol=1e-5)
  # The Jacobian of the whole flow at each row, by autodiff; its log-det from
  # numpy's slogdet must be 0 (couplings) + sum log|S|.
  jac = jax.vmap(jax.jacfwd(lambda r: nice.forward(params, r[None])[0][0]))(x)
  sign, logdet = np.linalg.slogdet(np.asarray(jac, np.float64))
  expected = float(np.sum(params["log_scale"]))
  np.testing.assert_allclose(sign, 1.0)
  np.testing.assert_allclose(logdet, expected, atol=1e-4)
  np.testing.assert_allclose(log_det, expected, atol=1e-6)
  # Couplings alone: unit determinant.
  jac_c = jax.vmap(jax.jacfwd(
      lambda r: nice.coupling_forward(params["couplings"][0], r[None],
                                      0)[0]))(x)
  np.testing.assert_allclose(np.linalg.det(np.asarray(jac_c, np.float64)),
                             1.0, atol=1e-5)


@pytest.mark.parametrize("base,reference", [("gaussian", stats.norm),
                                            ("logistic", stats.logistic)])
def test_nice_with_zero_coupling_is_scaled_base(base, reference):
  spec = nice.FlowSpec(dim=4, n_couplings=4, depth=2, width=8, base=base)
  params = nice.init(jax.random.key(1), spec, out_scale=0.0)  # m == 0
  log_s = jnp.array([0.5, -0.3, 0.0, 1.2])
  params["log_scale"] = log_s
  x = np.asarray(jax.random.normal(jax.random.key(2), (11, 4))) * 2.0
  # f(x) = S x, so x_d ~ base scaled by 1 / S_d.
  expected = np.sum(reference.logpdf(x, scale=np.exp(-np.asarray(log_s))),
                    axis=1)
  np.testing.assert_allclose(nice.log_prob(params, x, base), expected,
                             rtol=1e-5, atol=1e-5)


def test_nice_log_prob_matches_numpy_and_integrates_to_one():
  spec = nice.FlowSpec(dim=2, n_couplings=4, depth=2, width=16)
  params = random_scales(nice.init(jax.random.key(3), spec),
                         jax.random.key(4))
  x = np.asarray(jax.random.normal(jax.random.key(5), (9, 2)))
  np.testing.assert_allclose(nice.log_prob(params, x),
                             np_gauss_log_prob(params, x), rtol=1e-5,
                             atol=1e-4)
  # A density: its integral over a wide grid is 1.
  g = np.linspace(-12, 12, 241)
  xx, yy = np.meshgrid(g, g)
  grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
  density = np.exp(np.asarray(nice.log_prob(params, grid)))
  mass = np.sum(density) * (g[1] - g[0]) ** 2
  np.testing.assert_allclose(mass, 1.0, atol=1e-2)


# --- Mixflow ----------------------------------------------------------------
def test_mixflow_log_prob_is_logsumexp_over_components():
  spec = nice.FlowSpec(dim=3, n_couplings=2, depth=2, width=8)
  params = mixflow.init(jax.random.key(6), spec, 4)
  params["log_scale"] = 0.2 * jax.random.normal(jax.random.key(7), (4, 3))
  logits = jnp.array([0.3, -1.0, 2.0, 0.1])
  x = np.asarray(jax.random.normal(jax.random.key(8), (13, 3)))
  log_w = np.log(special.softmax(np.asarray(logits, np.float64)))
  comps = np.stack([np_gauss_log_prob(component(params, i), x)
                    for i in range(4)], axis=1)
  expected = special.logsumexp(comps + log_w, axis=1)
  np.testing.assert_allclose(mixflow.log_prob(params, logits, x, "gaussian"),
                             expected, rtol=1e-5, atol=1e-4)
  post = mixflow.posterior(params, logits, x, "gaussian")
  np.testing.assert_allclose(post, special.softmax(comps + log_w, axis=1),
                             atol=1e-5)


def test_mixflow_samples_hit_components_at_their_weights():
  spec = nice.FlowSpec(dim=2, n_couplings=2, depth=1, width=4)
  params = mixflow.init(jax.random.key(9), spec, 2, out_scale=0.0)
  # Layer 0 shifts coordinate 1 by its bias: component 0 lives at x_1 = +10,
  # component 1 at x_1 = -10 (the latent is x_1 + b).
  bias = params["couplings"][0][-1]["b"]
  params["couplings"][0][-1]["b"] = bias.at[0].set(-10.0).at[1].set(10.0)
  p0, n = 0.3, 4000
  logits = jnp.log(jnp.array([p0, 1 - p0]))
  x, c = mixflow.sample(params, logits, jax.random.key(10), n, "gaussian")
  upper = np.asarray(x[:, 1] > 0)
  np.testing.assert_array_equal(upper, np.asarray(c) == 0)
  tol = 4 * np.sqrt(p0 * (1 - p0) / n)  # 4 binomial standard deviations
  assert abs(upper.mean() - p0) < tol


def np_kmeans_pp(x, u):
  """Greedy k-means++ written out in numpy: seed j's candidates are the rows
  where the cumulative squared distance first exceeds ``u[j, l]`` times the
  total; the candidate leaving the smallest total is kept."""
  x = np.asarray(x, np.float64)
  n = len(x)
  chosen = [min(int(u[0, 0] * n), n - 1)]
  d2 = ((x - x[chosen[0]]) ** 2).sum(1)
  for j in range(1, len(u)):
    cdf = np.cumsum(d2)
    best = None
    for ul in u[j]:
      i = min(int(np.searchsorted(cdf, ul * cdf[-1], side="right")), n - 1)
      new = np.minimum(d2, ((x - x[i]) ** 2).sum(1))
      if best is None or new.sum() < best[1].sum():
        best = (i, new)
    chosen.append(best[0])
    d2 = best[1]
  return x[chosen]


@pytest.mark.parametrize("n_trials", [1, None])
def test_kmeans_pp_matches_numpy(n_trials):
  x = np.asarray(toy_data.swiss_roll(jax.random.key(20), 200))
  key = jax.random.key(21)
  trials = 2 + int(np.log(6)) if n_trials is None else n_trials
  u = np.asarray(jax.random.uniform(key, (6, trials)))
  got = mixflow.kmeans_pp(key, x, 6, n_trials)
  np.testing.assert_allclose(got, np_kmeans_pp(x, u), atol=1e-6)


def test_greedy_kmeans_pp_seeds_every_gmm_mode():
  x = np.asarray(toy_data.gmm(jax.random.key(22), 300))
  means = np.asarray(toy_data.gmm_means())
  for k in range(5):
    seeds = np.asarray(mixflow.kmeans_pp(jax.random.key(100 + k), x, 6))
    nearest = np.argmin(((seeds[:, None] - means[None]) ** 2).sum(-1), 1)
    assert sorted(nearest) == list(range(6))


def test_centre_at_puts_each_component_peak_on_its_point():
  spec = nice.FlowSpec(dim=5, n_couplings=3, depth=2, width=8)
  params = mixflow.init(jax.random.key(23), spec, 3)
  params = random_scales(params, jax.random.key(24))
  points = 4.0 * np.asarray(jax.random.normal(jax.random.key(25), (3, 5)))
  centred = mixflow.centre_at(params, points)
  for i in range(3):
    p = component(centred, i)
    # f_i(point_i) = 0, so log p(point_i | c=i) is the base's peak plus the
    # scaling's log-determinant (unit-Jacobian couplings).
    np.testing.assert_allclose(np_nice_forward(p, points[i:i + 1]), 0.0,
                               atol=1e-5)
    np.testing.assert_allclose(nice.inverse(p, jnp.zeros((1, 5)))[0],
                               points[i], atol=1e-5)
    peak = -2.5 * np.log(2 * np.pi) + np.sum(np.asarray(p["log_scale"]))
    np.testing.assert_allclose(np_gauss_log_prob(p, points[i:i + 1]), peak,
                               rtol=1e-5)
  # Only the couplings' output biases move.
  for old, new in zip(jax.tree.leaves(params["couplings"]),
                      jax.tree.leaves(centred["couplings"])):
    assert old.shape == new.shape
  for layer in range(3):
    for j, (a, b) in enumerate(zip(params["couplings"][layer],
                                   centred["couplings"][layer])):
      np.testing.assert_array_equal(a["w"], b["w"])
      if j < len(params["couplings"][layer]) - 1:
        np.testing.assert_array_equal(a["b"], b["b"])
  with pytest.raises(ValueError, match="2 couplings"):
    one = nice.FlowSpec(dim=2, n_couplings=1, depth=1, width=4)
    mixflow.centre_at(mixflow.init(jax.random.key(26), one, 2),
                      np.zeros((2, 2)))


def test_em_update_matches_eq_4_7_4_8():
  spec = nice.FlowSpec(dim=2, n_couplings=2, depth=1, width=8)
  params = mixflow.init(jax.random.key(11), spec, 3)
  w = np.array([0.2, 0.5, 0.3])
  x = np.asarray(toy_data.gmm(jax.random.key(12), 50))
  comps = np.stack([np_gauss_log_prob(component(params, i), x)
                    for i in range(3)], axis=1)
  q = special.softmax(comps + np.log(w), axis=1)  # eq. 4.5
  for lam in (1.0, 0.25):
    expected = w + lam * (q.mean(axis=0) - w)  # eq. 4.7 then 4.8
    got = mixflow.em_weights(jnp.asarray(w),
                             mixflow.posterior(params, jnp.log(w), x,
                                               "gaussian"), lam)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(np.sum(got), 1.0, atol=1e-6)


def fixed_batch(key, n, data):
  del key, n
  return data


def test_train_step_em_rule_and_c_start():
  flow = nice.FlowSpec(dim=2, n_couplings=2, depth=1, width=8)
  x = np.asarray(toy_data.gmm(jax.random.key(13), 40))
  for c_start in (0, 1):
    spec = train.TrainSpec(flow=flow, sampler=fixed_batch, n_components=3,
                           objective="ml", weights="em", batch_size=40,
                           c_start=c_start, lambda_c=0.4)
    state = train.init_state(jax.random.key(14), spec)
    new, metrics = train.train_step(spec, state, jax.random.key(15),
                                    jnp.asarray(x))
    comps = np.stack([np_gauss_log_prob(component(state.flow, i), x)
                      for i in range(3)], axis=1)
    w = np.full(3, 1 / 3)
    q = special.softmax(comps + np.log(w), axis=1)
    expected = w + 0.4 * (q.mean(0) - w) if c_start == 0 else w
    np.testing.assert_allclose(metrics["weights"], expected, atol=1e-5)
    expected_nll = -special.logsumexp(comps + np.log(w), axis=1).sum()
    np.testing.assert_allclose(metrics["nll_sum"], expected_nll, rtol=1e-5)


def test_entropic_regulariser_and_dominant_components():
  logits = jnp.array([0.0, 1.0, -2.0])
  w = special.softmax([0.0, 1.0, -2.0])
  np.testing.assert_allclose(mixflow.entropic_regulariser(logits),
                             -np.mean(np.log(w)), rtol=1e-6)
  np.testing.assert_allclose(mixflow.entropic_regulariser(jnp.zeros(6)),
                             np.log(6), rtol=1e-6)
  assert mixflow.dominant_components(np.full(6, 1 / 6)) == 6
  assert mixflow.dominant_components([0.95, 0.03, 0.02]) == 1
  assert mixflow.dominant_components([0.5, 0.3, 0.15, 0.05]) == 3


# --- critics ----------------------------------------------------------------
def test_pgan_critic_posterior_mixture():
  spec = nice.FlowSpec(dim=2, n_couplings=2, depth=1, width=8)
  flows = mixflow.init(jax.random.key(16), spec, 3)
  logits = jnp.array([0.1, 0.5, -0.2])
  x = np.asarray(toy_data.gmm(jax.random.key(17), 25))
  for share in (False, True):
    params = critics.init_mixture(jax.random.key(18), 2, 2, 16, 3, share)
    post = lambda v: mixflow.posterior(flows, logits, v, "gaussian")
    scores, weights = critics.make_pgan(post)(params, x)
    np.testing.assert_allclose(np.sum(weights, axis=1), 1.0, atol=1e-6)
    per = np.asarray(critics.mixture_scores(params, x))
    np.testing.assert_allclose(scores, np.sum(np.asarray(post(x)) * per, 1),
                               rtol=1e-5, atol=1e-5)
    if not share:
      for i in range(3):
        np.testing.assert_allclose(
            per[:, i], np_mlp(component(params["heads"], i), x)[:, 0],
            rtol=1e-4, atol=1e-4)
  # T = 1: the posterior is 1 and f_mix is the single critic.
  one_flow = mixflow.init(jax.random.key(19), spec, 1)
  single = critics.init_single(jax.random.key(20), 2, 2, 16)
  mixed = {"heads": jax.tree.map(lambda p: p[None], single)}
  f_mix = critics.make_pgan(
      lambda v: mixflow.posterior(one_flow, jnp.zeros(1), v, "gaussian"))
  np.testing.assert_allclose(f_mix(mixed, x)[0], critics.single(single, x)[0],
                             rtol=1e-6, atol=1e-6)


def _fd_grad(f, x, eps=1e-3):
  """Central finite differences of a per-row scalar function, [n, d]."""
  g = np.zeros_like(x)
  for j in range(x.shape[1]):
    d = np.zeros_like(x)
    d[:, j] = eps
    g[:, j] = (f(x + d) - f(x - d)) / (2 * eps)
  return g


def test_gradient_penalty_of_flow_critics_matches_finite_differences():
  real = np.asarray(toy_data.gmm(jax.random.key(21), 17), np.float64)
  fake = np.asarray(jax.random.normal(jax.random.key(22), (17, 2)), np.float64)
  mid = 0.5 * (real + fake)  # key=None: midpoints, no dropout
  single = critics.init_single(jax.random.key(23), 2, 3, 32)
  real32, fake32 = real.astype(np.float32), fake.astype(np.float32)
  gp, _ = wgangp.gradient_penalty(critics.single, single, real32, fake32, None)
  g = _fd_grad(lambda v: np_mlp(single, v)[:, 0], mid)
  np.testing.assert_allclose(
      gp, np.mean((np.linalg.norm(g, axis=1) - 1) ** 2), rtol=1e-3)
  # PGAN: the posterior is held constant, so the penalty sees
  # sum_i p_i grad f_i.
  spec = nice.FlowSpec(dim=2, n_couplings=2, depth=1, width=8)
  flows = mixflow.init(jax.random.key(24), spec, 3)
  post = lambda v: mixflow.posterior(flows, jnp.zeros(3), v, "gaussian")
  params = critics.init_mixture(jax.random.key(25), 2, 2, 16, 3)
  gp_mix, _ = wgangp.gradient_penalty(critics.make_pgan(post), params,
                                      real32, fake32, None)
  p_mid = np.asarray(post(jnp.asarray(mid, jnp.float32)), np.float64)
  g_mix = _fd_grad(lambda v: np.sum(p_mid * np.stack(
      [np_mlp(component(params["heads"], i), v)[:, 0] for i in range(3)], 1),
                                    1), mid)
  np.testing.assert_allclose(
      gp_mix, np.mean((np.linalg.norm(g_mix, axis=1) - 1) ** 2), rtol=1e-3)
  # through_x: the penalty sees the whole f_mix, posterior included.
  gp_x, _ = wgangp.gradient_penalty(
      critics.make_pgan(post, through_x=True), params, real32, fake32, None)

  def f_mix(v):
    p_v = np.asarray(post(jnp.asarray(v, jnp.float32)), np.float64)
    return np.sum(p_v * np.stack(
        [np_mlp(component(params["heads"], i), v)[:, 0] for i in range(3)],
        1), 1)

  g_x = _fd_grad(f_mix, mid, eps=1e-2)
  np.testing.assert_allclose(
      gp_x, np.mean((np.linalg.norm(g_x, axis=1) - 1) ** 2), rtol=1e-2)
  assert abs(gp_x - gp_mix) > 1e-3  # the posterior's gradient matters here


# --- the training step ------------------------------------------------------
def test_chunk_equals_steps_and_critic_uses_wgangp():
  flow = nice.FlowSpec(dim=2, n_couplings=2, depth=1, width=8)
  spec = train.TrainSpec(flow=flow, sampler=toy_data.gmm, n_components=2,
                         objective="gan_ml", weights="softmax",
                         batch_size=16, critic_steps=2, critic="pgan",
                         critic_depth=1, critic_width=8, lambda_ent=0.5,
                         reference=toy_data.gmm_log_prob)
  state = train.init_state(jax.random.key(26), spec)
  run_key = jax.random.key(27)
  # Fused: one scan of 2 epochs; step by step: two scans of 1 epoch.
  fused, m_fused = train.train_chunk(spec, state, run_key, None, 2)
  s = state
  for _ in range(2):
    s, m = train.train_chunk(spec, s, run_key, None, 1)
  m = jax.tree.map(lambda v: v[0], m)
  for a, b in zip(jax.tree.leaves(fused), jax.tree.leaves(s)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(m_fused["critic_loss"][-1], m["critic_loss"],
                             rtol=1e-5)
  # The reported critic loss is wgangp.critic_loss on the step's batches:
  # W-loss + lambda_gp * GP, with its gp metric.
  np.testing.assert_allclose(
      m["critic_loss"],
      -m["w_estimate"] + spec.lambda_gp * m["gp"], rtol=1e-4, atol=1e-5)
  assert np.all(np.isfinite(np.asarray(m_fused["nll_sum"])))


def test_gmm_ground_truth_and_nll_scale():
  x = np.asarray(toy_data.gmm(jax.random.key(28), 20000), np.float64)
  means = np.asarray(toy_data.gmm_means(), np.float64)
  dens = np.mean([stats.multivariate_normal(m, 0.1 * np.eye(2)).pdf(x)
                  for m in means], axis=0)
  np.testing.assert_allclose(toy_data.gmm_log_prob(x), np.log(dens),
                             rtol=1e-4, atol=1e-4)
  # Expected NLL per point: log 6 + log(2 pi e 0.1) (separated modes), so a
  # batch of 300 sums to about 698 (the thesis quotes 723.35).
  per_point = np.log(6) + np.log(2 * np.pi * np.e * 0.1)
  assert abs(-np.mean(np.log(dens)) - per_point) < 0.03
  radii = np.linalg.norm(x, axis=1)
  assert abs(np.mean(radii) - 5.0) < 0.05
