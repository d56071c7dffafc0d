"""Methods that start from a computed mapping instead of adversarial training.

Each entry is ``start(task, spaces, config, seed) -> W [d, d]`` (mapped =
``X @ W.T``), a pure function of its inputs; the pipeline scores the result and
refines it exactly as it refines a GAN's best mapping. ``deterministic`` says
whether the seed matters (if not, several seeds share one start).
"""

import functools
import warnings
from typing import Callable, Dict, NamedTuple

import jax
import numpy as np

from bdi_jax import errors, gromov, refine, scoring

__all__ = ["Start", "STARTS", "get_start", "start_mappings", "start_weights"]


class Start(NamedTuple):
  fn: Callable  # (task, spaces, config, seed) -> np.ndarray [d, d]
  deterministic: bool
  description: str
  needs_train_dict: bool = False  # Reads config.data.train_dict.


def procrustes_start(task, spaces, config, seed) -> np.ndarray:
  """Supervised: orthogonal Procrustes on the training dictionary."""
  del seed  # Deterministic.
  if task.train_pairs is None:
    raise errors.ConfigError(
        f"method {config.method!r} needs config.data.train_dict (a training "
        "dictionary, or \"identical\" for identical strings)")
  n, dim = len(task.train_pairs), spaces.src.shape[1]
  if n < dim:  # e.g. "identical" on two languages that share few words.
    warnings.warn(
        f"config.data.train_dict={config.data.train_dict!r}: {n} training "
        f"pairs for {dim} dimensions; Procrustes fits the map only on the "
        f"{n}-d span of the pairs (give a dictionary of at least {dim} pairs)")
  w = refine.procrustes(spaces.src[task.train_pairs[:, 0]],
                        spaces.tgt[task.train_pairs[:, 1]])
  return np.asarray(w)


def gw_start(task, spaces, config, seed) -> np.ndarray:
  """Unsupervised: Gromov-Wasserstein coupling of the most frequent words of
  each side, then its Procrustes map (:mod:`bdi_jax.gromov`; fields
  ``config.gw``)."""
  del task, seed  # Deterministic: the solver starts from the product coupling.
  g = config.gw
  if g.n_words < 2:
    raise errors.ConfigError(
        f"config.gw.n_words={g.n_words}: need at least 2 words per side")
  solve = jax.jit(functools.partial(
      gromov.gw_mapping, n_words=int(g.n_words), epsilon=float(g.epsilon),
      max_iterations=int(g.max_iterations),
      sinkhorn_iterations=int(g.sinkhorn_iterations)))
  return np.asarray(solve(spaces.src, spaces.tgt).w)


STARTS: Dict[str, Start] = {
    "procrustes": Start(procrustes_start, True, "supervised Procrustes",
                        needs_train_dict=True),
    "gw": Start(gw_start, True, "Gromov-Wasserstein coupling + Procrustes"),
}


def get_start(name: str) -> Start:
  try:
    return STARTS[name]
  except KeyError:
    raise errors.ConfigError(
        f"unknown start method {name!r}; known: {sorted(STARTS)}") from None


def start_weights(name: str, task, spaces, config, seeds) -> np.ndarray:
  """``[len(seeds), d, d]`` start mappings of the method ``name``."""
  start = get_start(name)
  if start.deterministic:  # The same for every seed: compute it once.
    return np.stack([start.fn(task, spaces, config, seeds[0])] * len(seeds))
  return np.stack([start.fn(task, spaces, config, s) for s in seeds])


def start_mappings(task, spaces, config, seeds, settings, console):
  """The computed-start phase: each seed's start, scored. A deterministic
  start is computed and scored once, and the same Mapping serves every seed
  (so it is refined once)."""
  start = get_start(config.method)
  if start.deterministic:
    w = start.fn(task, spaces, config, seeds[0])
    return [scoring.score_mapping(spaces, w, settings,
                                  start.description)] * len(seeds)
  out = []
  for seed in seeds:
    w = start.fn(task, spaces, config, seed)
    out.append(scoring.score_mapping(spaces, w, settings, start.description))
    console.log(f"{start.description} seed {seed}: criterion "
                f"{out[-1].criterion:.4f}")
  return out
