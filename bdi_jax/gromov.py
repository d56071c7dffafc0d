"""Gromov-Wasserstein alignment of two embedding spaces (a critic-free start).

Alvarez-Melis & Jaakkola 2018 ("Gromov-Wasserstein alignment of word embedding
spaces"): the words of two languages are matched by comparing *distances
within* each space, not the vectors themselves, so the match is unchanged by
any rotation of either space and needs neither a dictionary nor a critic. For
the ``n`` most frequent words of each side (unit rows, centred, unit again),
with intra-space costs ``Cx_ik = ||x_i - x_k||^2`` and ``Cy_jl`` likewise,
entropic GW finds the coupling

  ``P* = argmin_P sum_ijkl (Cx_ik - Cy_jl)^2 P_ij P_kl - eps H(P)``

over couplings with uniform marginals (Peyré, Cuturi & Solomon 2016). The
orthogonal ``W`` that best explains it, ``argmax_W sum_ij P_ij <W x_i, y_j>``
(weighted Procrustes), is the start that the usual refinement then improves.

The solver is ott-jax's ``ott.solvers.quadratic.gromov_wasserstein`` on
``ott.geometry.pointcloud.PointCloud`` geometries (squared Euclidean costs, so
the quadratic term is computed through low-rank factors and the ``n x n`` cost
matrices are never built).
"""

from typing import Dict, NamedTuple, Tuple

import jax
import jax.numpy as jnp

from bdi_jax.objectives.sinkhorn import import_ott

__all__ = ["GWResult", "prepare", "gw_coupling", "coupling_procrustes",
           "gw_mapping"]


class GWResult(NamedTuple):
  w: jax.Array  # [d, d] orthogonal, mapped = x @ w.T.
  coupling: jax.Array  # [n, m], rows sum to 1/n, columns to 1/m.
  metrics: Dict[str, jax.Array]


def _unit(x: jax.Array) -> jax.Array:
  return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def prepare(x: jax.Array) -> jax.Array:
  """Unit rows, centred, unit rows again (``[n, d] -> [n, d]``): the
  distances GW compares are then cosine distances around the mean word."""
  x = _unit(jnp.asarray(x, jnp.float32))
  return _unit(x - jnp.mean(x, axis=0, keepdims=True))


def gw_coupling(x: jax.Array, y: jax.Array, *, epsilon: float = 0.01,
                max_iterations: int = 50, sinkhorn_iterations: int = 2000,
                threshold: float = 1e-3) -> Tuple[jax.Array, Dict]:
  """Entropic GW coupling of two point clouds (as given, no preparation).

  Args:
    x: ``[n, d]`` points of one space.
    y: ``[m, d']`` points of the other (``d'`` may differ from ``d``).
    epsilon: entropic regularisation of each linearised problem, absolute, in
      units of the intra-space costs (for prepared rows, in ``[0, 4]``).
    max_iterations: outer GW iterations (each one a Sinkhorn problem).
    sinkhorn_iterations: cap on the iterations of each inner Sinkhorn.
    threshold: the inner Sinkhorn's marginal tolerance.

  Returns:
    ``(P [n, m], metrics)`` with ``gw_cost`` (the regularised GW cost) and
    ``gw_converged`` (1.0 when the outer loop and every inner Sinkhorn
    converged).
  """
  # ott-jax is optional (the "ot" extra): imported when a GW start runs.
  pointcloud = import_ott("geometry.pointcloud")
  quadratic_problem = import_ott("problems.quadratic.quadratic_problem")
  sinkhorn = import_ott("solvers.linear.sinkhorn")
  gromov_wasserstein = import_ott("solvers.quadratic.gromov_wasserstein")
  prob = quadratic_problem.QuadraticProblem(
      pointcloud.PointCloud(x, x), pointcloud.PointCloud(y, y))
  solver = gromov_wasserstein.GromovWasserstein(
      sinkhorn.Sinkhorn(max_iterations=sinkhorn_iterations,
                        threshold=threshold),
      epsilon=epsilon, max_iterations=max_iterations)
  out = solver(prob)
  metrics = {"gw_cost": out.reg_gw_cost,
             "gw_converged": jnp.asarray(out.converged, jnp.float32)}
  return out.matrix, metrics


def coupling_procrustes(x: jax.Array, y: jax.Array,
                        coupling: jax.Array) -> jax.Array:
  """Orthogonal ``W`` maximising ``sum_ij P_ij <W x_i, y_j>``.

  The soft version of :func:`bdi_jax.refine.procrustes`: with
  ``U S V^T = svd(y^T P^T x)``, ``W = U V^T`` (a permutation ``P`` gives the
  hard Procrustes of the matched pairs).

  Args:
    x: ``[n, d]``.
    y: ``[m, d]``.
    coupling: ``[n, m]`` non-negative weights.

  Returns:
    ``W [d, d]``, applied as ``x @ W.T``.
  """
  if x.ndim != 2 or y.ndim != 2 or coupling.shape != (x.shape[0], y.shape[0]):
    raise ValueError(
        f"need x [n, d], y [m, d], coupling [n, m]; got {x.shape}, {y.shape}, "
        f"{coupling.shape}")
  u, _, vt = jnp.linalg.svd(y.T @ (coupling.T @ x), full_matrices=False)
  return u @ vt


def gw_mapping(src: jax.Array, tgt: jax.Array, *, n_words: int = 2000,
               **solver_kwargs) -> GWResult:
  """GW start: couple the ``n_words`` first rows of each side, then Procrustes.

  Args:
    src: ``[n_src, d]`` source embeddings, frequency-ordered.
    tgt: ``[n_tgt, d]`` target embeddings, frequency-ordered.
    n_words: rows of each side that take part (capped at each side's size).
    **solver_kwargs: passed to :func:`gw_coupling`.

  Returns:
    :class:`GWResult`; ``w`` maps the (unprepared) source space onto the
    target space, ``src @ w.T``.
  """
  if n_words < 2:
    raise ValueError(f"n_words must be >= 2, got {n_words}")
  x = prepare(src[:n_words])
  y = prepare(tgt[:n_words])
  coupling, metrics = gw_coupling(x, y, **solver_kwargs)
  # The rotation is estimated on the prepared rows, the ones GW matched; it is
  # orthogonal, so it applies to the raw space as well (centring aside, which
  # the refinement's Procrustes absorbs).
  return GWResult(coupling_procrustes(x, y, coupling), coupling, metrics)
