r"""Lab-only critics for KL (both directions) and total variation.

Variational (f-GAN) lower bounds, Nguyen, Wainwright & Jordan 2010 and
Nowozin, Cseke & Tomioka 2016, Eq. 4 and Table 2: for a convex ``f`` with
conjugate ``f*``,

  ``D_f(P || Q) >= sup_T E_P T(x) - E_Q f*(T(x))``,

with equality at ``T = f'(p / q)``. The critic's raw logit ``v`` is mapped to
``T`` by the output activation of Nowozin et al.'s Table 2:

* ``kl``: ``KL(P_real || P_fake)``; ``f(u) = u log u``, ``f*(t) = exp(t - 1)``,
  ``T = v``.
* ``reverse_kl``: ``KL(P_fake || P_real)``, the same bound with the roles
  swapped and ``T = -v`` (the critic still scores real rows high).
* ``tv``: total variation ``sup_A |P(A) - Q(A)|``; ``f(u) = |u - 1| / 2``,
  ``f*(t) = t`` on ``|t| <= 1/2``, ``T = tanh(v) / 2``. (Nowozin et al. write
  ``f(u) = |u - 1| / 2``, so the bound is the TV distance in ``[0, 1]``.)

On disjoint supports both KLs are infinite: the bound grows with every critic
step without limit, which is what the estimate shows. The library's objectives
(:mod:`bdi_jax.objectives`) do not include these; they exist only to draw the
parallel-lines figure, so they live here, behind :data:`LAB_OBJECTIVES`.
"""

from typing import Callable, Dict

import jax.numpy as jnp

from bdi_jax.objectives import base
from bdi_jax.objectives import wgan

__all__ = ["kl_bound", "tv_bound", "LAB_OBJECTIVES", "make"]


def kl_bound(t_p, t_q):
  """``E_P T - E_Q exp(T - 1)``: a lower bound on ``KL(P || Q)``."""
  return jnp.mean(t_p) - jnp.mean(jnp.exp(t_q - 1.0))


def tv_bound(t_p, t_q):
  """``E_P T - E_Q T`` for ``|T| <= 1/2``: a lower bound on ``TV(P, Q)``."""
  return jnp.mean(t_p) - jnp.mean(t_q)


def _kl(real_scores, fake_scores):
  return kl_bound(real_scores, fake_scores)


def _reverse_kl(real_scores, fake_scores):
  return kl_bound(-fake_scores, -real_scores)


def _tv(real_scores, fake_scores):
  return tv_bound(0.5 * jnp.tanh(real_scores), 0.5 * jnp.tanh(fake_scores))


# name -> the bound as a function of (real_scores [b], fake_scores [b]).
_BOUNDS: Dict[str, Callable] = {
    "kl": _kl,
    "reverse_kl": _reverse_kl,
    "tv": _tv,
}


def _critic_loss(critic, params, real, fake, key, *, bound):
  real_scores, fake_scores = wgan.critic_scores(critic, params, real, fake, key)
  estimate = bound(real_scores, fake_scores)
  return -estimate, {"critic_loss": -estimate, "f_estimate": estimate}


def _generator_loss(critic, params, fake, key):
  # Unused: the lab only trains these critics against fixed fakes. A plain
  # "raise the fake scores" loss keeps the Objective whole.
  scores, _ = critic(params, fake, key)
  loss = -jnp.mean(scores)
  return loss, {"generator_loss": loss}


def make(name: str) -> base.Objective:
  """The lab objective ``name`` (``kl``, ``reverse_kl`` or ``tv``)."""
  bound = _BOUNDS[name]
  return base.Objective(
      name=name,
      critic_loss=lambda c, p, r, f, k: _critic_loss(c, p, r, f, k,
                                                     bound=bound),
      generator_loss=_generator_loss,
      project=base.identity_projection,
  )


LAB_OBJECTIVES = tuple(_BOUNDS)
