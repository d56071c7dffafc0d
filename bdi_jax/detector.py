"""An unsupervised failure detector: did this seed's mapping work?

Refinement lifts any start to some fixed point: a random rotation of the
source space refines to a clearly higher criterion (mean CSLS cosine of
frequent words' translations) than it started from, and how much depends on
the data. So the detector compares a seed with no constant. It measures a
**null** in the same run, on the same data, with the same settings: a few
random orthogonal starts (Haar), refined exactly as the seeds are. A seed is
predicted to have succeeded when, after refinement,

* its criterion covers at least ``min_gain`` of the way from the null's mean
  to a perfect 1 (``(c - mean) / (1 - mean)``), and lies at least ``min_z``
  null spreads above that mean (so a null that scatters widely is not
  mistaken for a tight one); and
* its dictionary has settled: the overlap (Jaccard) of the last two rounds'
  dictionaries covers at least ``min_stability`` of the way from the null's
  overlap to 1. A wrong mapping can match the spaces' coarse structure (a
  high criterion) while its dictionary keeps changing; a right one is a
  fixed point. (Skipped with a single refinement round.)

How the thresholds were chosen, on every committed study and on generated
data: docs/notes/detector-calibration.md.
"""

from typing import Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import refine, scoring

__all__ = ["Null", "random_rotations", "measure_null", "Verdict", "judge",
           "thresholds", "NO_SUCCESS"]

# summary.json's "status" when the detector passed no seed.
NO_SUCCESS = "no seed succeeded"

# The spread of a null is never taken as smaller than this (cosine units):
# with a handful of starts that all refine to nearly the same point, a raw
# std of ~1e-3 would make any small lift look significant.
MIN_SPREAD = 0.01


class Null(NamedTuple):
  """What random starts refine to on this run's data."""
  criteria: np.ndarray  # [n] refined criteria.
  overlaps: np.ndarray  # [n] last-round dictionary overlaps (NaN: 1 round).

  @property
  def mean(self) -> float:
    return float(np.mean(self.criteria))

  @property
  def spread(self) -> float:
    return max(float(np.std(self.criteria)), MIN_SPREAD)

  @property
  def overlap(self) -> float:
    return float(np.mean(self.overlaps))


def random_rotations(key: jax.Array, n: int, dim: int) -> jax.Array:
  """``[n, dim, dim]`` Haar-distributed orthogonal matrices (QR of a
  Gaussian with the signs of R's diagonal folded in; Mezzadri 2007)."""
  a = jax.random.normal(key, (n, dim, dim))
  q, r = jnp.linalg.qr(a)
  return q * jnp.sign(jnp.diagonal(r, axis1=-2, axis2=-1))[:, None, :]


def measure_null(spaces: scoring.Spaces, settings: scoring.Settings,
                 key: jax.Array, n: int) -> Optional[Null]:
  """Scores and refines ``n`` random rotations; None when ``n`` is 0."""
  if n <= 0:
    return None
  ws = np.asarray(random_rotations(key, n, spaces.src.shape[1]))
  starts = scoring.score_mappings(spaces, ws, settings, "null start")
  refined = refine.refine_mappings(spaces, starts, settings, list(range(n)))
  overlaps = [m.signals.get("dictionary_overlap") for m in refined]
  return Null(np.asarray([m.criterion for m in refined], np.float64),
              np.asarray([np.nan if o is None else o for o in overlaps],
                         np.float64))


class Verdict(NamedTuple):
  """The detector's view of one seed (None: not measured)."""
  success: bool
  gain: Optional[float]  # Criterion: fraction of the way from the null to 1.
  z: Optional[float]  # Criterion: in units of the null's spread.
  stability: Optional[float]  # Dictionary overlap: fraction from null to 1.

  def as_dict(self) -> Dict[str, Optional[float]]:
    return {"predicted_success": self.success, "null_gain": self.gain,
            "null_z": self.z, "null_stability": self.stability}


def _toward_one(value: float, null: float) -> float:
  """How far ``value`` lies from ``null`` toward 1, as a fraction."""
  return (value - null) / max(1e-12, 1.0 - null)


def judge(criterion: Optional[float], overlap: Optional[float],
          null: Optional[Null], *, min_gain: float, min_z: float,
          min_stability: float) -> Verdict:
  """Whether a seed's refined criterion and dictionary stand out from the
  null. Without a null (``eval.detector_null_starts = 0``) or a finite
  criterion the seed is not predicted to have succeeded."""
  if null is None or criterion is None or not np.isfinite(criterion):
    return Verdict(False, None, None, None)
  gain = _toward_one(criterion, null.mean)
  z = (criterion - null.mean) / null.spread
  stability = None
  if overlap is not None and np.isfinite(null.overlap):
    stability = _toward_one(overlap, null.overlap)
  success = (gain >= min_gain and z >= min_z
             and (stability is None or stability >= min_stability))
  return Verdict(bool(success), float(gain), float(z),
                 None if stability is None else float(stability))


def thresholds(eval_config) -> Dict[str, float]:
  """:func:`judge`'s thresholds from a config's ``eval`` section (defaults
  for configs saved before the fields existed)."""
  e = eval_config
  return dict(min_gain=e.get("detector_min_gain", 0.25),
              min_z=e.get("detector_min_z", 3.0),
              min_stability=e.get("detector_min_stability", 0.55))
