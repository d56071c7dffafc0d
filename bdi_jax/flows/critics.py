"""Critics for the flow GANs, in the objectives' critic API.

``critic(params, x, key) -> (scores [n], features [n, h])`` is what
:mod:`bdi_jax.objectives.wgangp` calls; these critics have no dropout, so the
key is unused.

The PGAN critic (thesis Sec. 4.3, eq. 4.13) mixes one critic per flow
component by the flows' posterior, ``f_mix(x) = sum_i p(c=i|x) f_i(x)``. The
thesis treats the posterior as a constant in every update (it only assigns
weights), so it enters under ``stop_gradient``: no gradient reaches the flows
through it, and the penalty's input gradient sees ``sum_i p_i grad f_i``.
With weight sharing (Sec. 4.3.1) the critics share every hidden layer and
differ in their output layers only.
"""

from typing import Callable

import jax
import jax.numpy as jnp

from bdi_jax.flows import mlp

__all__ = ["init_single", "single", "init_mixture", "mixture_scores",
           "make_pgan"]


def init_single(key, dim: int, depth: int, width: int):
  """A ReLU MLP critic ``R^dim -> R`` (``depth`` hidden layers)."""
  return mlp.init(key, [dim] + mlp.hidden_sizes(depth, width) + [1])


def single(params, x: jax.Array, key=None):
  """The objectives' critic API for :func:`init_single`'s parameters."""
  del key  # No dropout.
  return mlp.apply(params, x)[:, 0], x


def init_mixture(key, dim: int, depth: int, width: int, n_components: int,
                 share: bool = False):
  """T critics; ``share`` keeps one trunk and T output layers."""
  head_key, trunk_key = jax.random.split(key)
  if not share:
    keys = jax.random.split(head_key, n_components)
    return {"heads": jax.vmap(
        lambda k: init_single(k, dim, depth, width))(keys)}
  trunk = init_single(trunk_key, dim, depth, width)[:-1]
  keys = jax.random.split(head_key, n_components)
  heads = jax.vmap(lambda k: mlp.init(k, [width, 1]))(keys)
  return {"trunk": trunk, "heads": heads}


def mixture_scores(params, x: jax.Array) -> jax.Array:
  """Every component critic's score: ``[n, D] -> [n, T]``."""
  if "trunk" in params:
    h = x
    for layer in params["trunk"]:
      h = jax.nn.relu(h @ layer["w"] + layer["b"])
    per = jax.vmap(lambda p: mlp.apply(p, h)[:, 0])(params["heads"])
  else:
    per = jax.vmap(lambda p: mlp.apply(p, x)[:, 0])(params["heads"])
  return per.T


def make_pgan(posterior: Callable[[jax.Array], jax.Array], *,
              through_x: bool = False):
  """The posterior-smoothed critic ``f_mix`` (eq. 4.13).

  Args:
    posterior: ``x [n, D] -> p(c | x) [n, T]``, the flows' posterior (the
      caller holds the flows' parameters constant).
    through_x: keep the posterior's dependence on ``x`` in input gradients.
      ``False`` is the thesis as written (the posterior a constant). With
      it, a constant offset ``c_i`` on critic i moves the critic loss by
      ``c_i (E_real p_i - E_fake p_i)`` at no cost in the penalty (a
      constant has no gradient), so while a component's posterior mass
      differs between real and generated points the critic loss is
      unbounded below; measured (1,000 epochs): with randomly started
      components 4 of 5 GMM seeds diverged; with components started on
      k-means++ seeds (the toy rows) 0 of 5 GMM seeds but 3 of 3 swiss-roll
      seeds did. ``True`` (ours, an ablation) lets the penalty see the
      whole ``grad f_mix = sum_i p_i grad f_i + f_i grad p_i``, which
      bounds it.

  Returns:
    ``critic(params, x, key) -> (f_mix(x) [n], p(c|x) [n, T])``.
  """

  def critic(params, x, key=None):
    del key
    weights = posterior(x)
    if not through_x:
      weights = jax.lax.stop_gradient(weights)
    return jnp.sum(weights * mixture_scores(params, x), axis=-1), weights

  return critic
