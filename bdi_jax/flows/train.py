"""One training step for ML, GAN and GAN+ML flows, and fused chunks of them.

An *epoch* is what the thesis's Algorithms 5-6 loop over: one fresh batch
and one update of the flows (and weights), preceded, when a critic is
trained, by ``critic_steps`` critic updates on fresh batches. The step is a
pure ``(state, run_key, data) -> (state, metrics)``; its key is
``fold_in(run_key, state.step)``, so results do not depend on how epochs are
grouped into ``lax.scan`` chunks (as in :mod:`bdi_jax.step`).

The generator minimises (thesis eq. 4.10, plus eq. 4.11's regulariser)

  ``gan * (-mean f(g_c(z))) - lambda_ml * mean log p(x) + lambda_ent * ER``

and the critic minimises :func:`bdi_jax.objectives.wgangp.critic_loss`
(``mean f(fake) - mean f(real) + lambda_gp * GP``): the project's own loss
and penalty, with the flows' samples as ``fake``. With ``critic="pgan"`` the
critic is the posterior-weighted mixture of :mod:`critics`.
"""

import functools
from typing import Any, Callable, Dict, NamedTuple, Optional

import flax
import jax
import jax.numpy as jnp
import optax

from bdi_jax.flows import critics
from bdi_jax.flows import mixflow
from bdi_jax.flows import nice
from bdi_jax.objectives import wgangp

__all__ = ["OBJECTIVES", "WEIGHT_RULES", "TrainSpec", "FlowState",
           "make_adam", "init_state", "make_critic", "train_step",
           "train_chunk", "train_chunk_seeds"]

# Objective -> (maximum-likelihood term, adversarial term).
OBJECTIVES: Dict[str, tuple] = {
    "ml": (True, False),
    "gan": (False, True),
    "gan_ml": (True, True),
}
# How the mixture weights learn: by gradient through a softmax (eq. 4.9), by
# damped EM (eq. 4.7-4.8), or not at all (a single flow).
WEIGHT_RULES = ("softmax", "em", "fixed")


class TrainSpec(NamedTuple):
  """Static settings of the step (hashable: bound before ``jax.jit``)."""
  flow: nice.FlowSpec
  sampler: Callable  # (key, n, data) -> [n, D], see toy_data
  n_components: int = 1
  objective: str = "ml"
  weights: str = "fixed"
  batch_size: int = 300
  flow_lr: float = 0.005
  critic_lr: float = 0.002
  weight_lr: float = 0.005
  adam_b1: float = 0.5
  adam_b2: float = 0.9
  lambda_ml: float = 1.0
  lambda_gp: float = 0.1
  lambda_ent: float = 0.0
  critic_steps: int = 5
  critic: str = "single"  # or "pgan"
  critic_depth: int = 5
  critic_width: int = 100
  share_critic: bool = False
  # PGAN: False is the thesis as written (the posterior a constant); True
  # (ours, an ablation) lets the critic's penalty differentiate the posterior
  # in x, see critics.make_pgan.
  posterior_in_gp: bool = False
  c_start: int = 0  # EM: epochs before the weights first move
  lambda_c: float = 1.0  # EM damping (eq. 4.8)
  # Scale of the coupling functions' output-layer weights at init (1: LeCun
  # normal; 0: every coupling starts as the identity, as in Glow).
  m_out_scale: float = 1.0
  reference: Optional[Callable] = None  # x -> true log p(x), for metrics


class FlowState(flax.struct.PyTreeNode):
  step: jax.Array
  flow: Any  # mixflow params, leading axis T
  flow_opt: Any
  logits: jax.Array  # [T]; log p(c) up to a constant
  logits_opt: Any
  critic: Any  # None without an adversarial term
  critic_opt: Any


def make_adam(spec: TrainSpec, lr: float) -> optax.GradientTransformation:
  """Adam with the thesis's betas (0.5, 0.9) unless the spec says otherwise."""
  return optax.adam(lr, b1=spec.adam_b1, b2=spec.adam_b2)


def _check(spec: TrainSpec) -> None:
  if spec.objective not in OBJECTIVES:
    raise ValueError(f"unknown objective {spec.objective!r}; known: "
                     f"{sorted(OBJECTIVES)}")
  if spec.weights not in WEIGHT_RULES:
    raise ValueError(f"unknown weight rule {spec.weights!r}; known: "
                     f"{list(WEIGHT_RULES)}")
  if spec.critic not in ("single", "pgan"):
    raise ValueError(f"unknown critic {spec.critic!r}; known: single, pgan")


def init_state(key: jax.Array, spec: TrainSpec) -> FlowState:
  """Fresh flows, uniform weights and (when adversarial) a fresh critic."""
  _check(spec)
  flow_key, critic_key = jax.random.split(key)
  flow = mixflow.init(flow_key, spec.flow, spec.n_components,
                      out_scale=spec.m_out_scale)
  logits = jnp.zeros((spec.n_components,))
  critic = critic_opt = None
  if OBJECTIVES[spec.objective][1]:
    if spec.critic == "pgan":
      critic = critics.init_mixture(critic_key, spec.flow.dim,
                                    spec.critic_depth, spec.critic_width,
                                    spec.n_components, spec.share_critic)
    else:
      critic = critics.init_single(critic_key, spec.flow.dim,
                                   spec.critic_depth, spec.critic_width)
    critic_opt = make_adam(spec, spec.critic_lr).init(critic)
  return FlowState(step=jnp.zeros((), jnp.int32), flow=flow,
                   flow_opt=make_adam(spec, spec.flow_lr).init(flow),
                   logits=logits,
                   logits_opt=make_adam(spec, spec.weight_lr).init(logits),
                   critic=critic, critic_opt=critic_opt)


def make_critic(spec: TrainSpec, flow, logits, *, for_critic: bool = False):
  """The critic function for the objectives' API; PGAN's posterior uses the
  current flows and weights, held constant. In the critic's own update
  (``for_critic``) the posterior's x-dependence enters the penalty when
  ``spec.posterior_in_gp`` (see :func:`critics.make_pgan`); the generator
  always sees a constant posterior (thesis Sec. 4.3)."""
  if spec.critic == "single":
    return critics.single
  flow, logits = jax.lax.stop_gradient((flow, logits))
  return critics.make_pgan(
      functools.partial(mixflow.posterior, flow, logits, base=spec.flow.base),
      through_x=for_critic and spec.posterior_in_gp)


def _critic_updates(spec: TrainSpec, state: FlowState, key, data):
  critic_fn = make_critic(spec, state.flow, state.logits, for_critic=True)
  tx = make_adam(spec, spec.critic_lr)

  def one(carry, k):
    params, opt = carry
    real_key, fake_key, gp_key = jax.random.split(k, 3)
    real = spec.sampler(real_key, spec.batch_size, data)
    fake, _ = mixflow.sample(state.flow, state.logits, fake_key,
                             spec.batch_size, spec.flow.base)
    fake = jax.lax.stop_gradient(fake)
    (_, metrics), grads = jax.value_and_grad(
        wgangp.critic_loss, argnums=1, has_aux=True)(
            critic_fn, params, real, fake, gp_key, gp_lambda=spec.lambda_gp)
    updates, opt = tx.update(grads, opt, params)
    return (optax.apply_updates(params, updates), opt), metrics

  keys = jax.random.split(key, spec.critic_steps)
  (params, opt), metrics = jax.lax.scan(one, (state.critic, state.critic_opt),
                                        keys)
  return params, opt, jax.tree.map(jnp.mean, metrics)


def train_step(spec: TrainSpec, state: FlowState, run_key: jax.Array,
               data=None):
  """One epoch: critic updates (if adversarial), then flows and weights."""
  use_ml, use_gan = OBJECTIVES[spec.objective]
  key = jax.random.fold_in(run_key, state.step)
  critic_key, real_key, fake_key = jax.random.split(key, 3)
  metrics = {}
  critic, critic_opt = state.critic, state.critic_opt
  if use_gan:
    critic, critic_opt, c_metrics = _critic_updates(spec, state, critic_key,
                                                    data)
    metrics.update(critic_loss=c_metrics["critic_loss"],
                   w_estimate=c_metrics["w_estimate"], gp=c_metrics["gp"])
  real = spec.sampler(real_key, spec.batch_size, data)
  learn_logits = spec.weights == "softmax"

  def loss_fn(flow, logits):
    if not learn_logits:
      logits = jax.lax.stop_gradient(logits)
    log_p = mixflow.log_prob(flow, logits, real, spec.flow.base)
    aux = {"nll_sum": -jnp.sum(log_p)}
    total = jnp.zeros(())
    if use_ml:
      total = total - spec.lambda_ml * jnp.mean(log_p)
    if use_gan:
      critic_fn = make_critic(spec, flow, logits)
      fake, _ = mixflow.sample(flow, jax.lax.stop_gradient(logits), fake_key,
                               spec.batch_size, spec.flow.base)
      g_loss, _ = wgangp.generator_loss(critic_fn, critic, fake, None)
      total = total + g_loss
      aux["generator_loss"] = g_loss
    if spec.lambda_ent:
      total = total + spec.lambda_ent * mixflow.entropic_regulariser(logits)
    return total, aux

  (_, aux), (g_flow, g_logits) = jax.value_and_grad(
      loss_fn, argnums=(0, 1), has_aux=True)(state.flow, state.logits)
  updates, flow_opt = make_adam(spec, spec.flow_lr).update(
      g_flow, state.flow_opt, state.flow)
  flow = optax.apply_updates(state.flow, updates)
  logits, logits_opt = state.logits, state.logits_opt
  if learn_logits:
    updates, logits_opt = make_adam(spec, spec.weight_lr).update(
        g_logits, logits_opt, logits)
    logits = optax.apply_updates(logits, updates)
  elif spec.weights == "em":
    # E step with the flows before this update (eq. 4.5); damped M step for
    # the weights (eq. 4.8) once C_start epochs have passed.
    q = mixflow.posterior(state.flow, state.logits, real, spec.flow.base)
    old = jax.nn.softmax(state.logits)
    new = mixflow.em_weights(old, q, spec.lambda_c)
    new = jnp.where(state.step >= spec.c_start, new, old)
    logits = jnp.log(jnp.maximum(new, 1e-30))
  metrics.update(aux)
  metrics["weights"] = jax.nn.softmax(logits)
  if spec.reference is not None:
    metrics["reference_nll_sum"] = -jnp.sum(spec.reference(real))
  new_state = state.replace(step=state.step + 1, flow=flow, flow_opt=flow_opt,
                            logits=logits, logits_opt=logits_opt,
                            critic=critic, critic_opt=critic_opt)
  return new_state, metrics


@functools.partial(jax.jit, static_argnums=(0, 4))
def train_chunk(spec: TrainSpec, state: FlowState, run_key: jax.Array, data,
                n_steps: int):
  """``n_steps`` epochs fused in one ``lax.scan``; metrics are
  ``[n_steps, ...]``."""

  def body(s, _):
    return train_step(spec, s, run_key, data)

  return jax.lax.scan(body, state, None, length=n_steps)


@functools.partial(jax.jit, static_argnums=(0, 4))
def train_chunk_seeds(spec: TrainSpec, states: FlowState,
                      run_keys: jax.Array, data, n_steps: int):
  """:func:`train_chunk` for many seeds at once (``jax.vmap``; states and
  keys carry a leading seed axis, the data is shared)."""
  return jax.vmap(lambda s, k: train_chunk.__wrapped__(
      spec, s, k, data, n_steps))(states, run_keys)
