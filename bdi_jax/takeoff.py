"""When a seed has taken off: its mapping, refined, passes the detector.

The early stop counts from a seed's take-off, so a take-off called too soon
stops a seed that has not found the alignment. The criterion alone cannot
call it on every pair: on the synthetic data misaligned GAN mappings reach
0.37-0.38 of the way from what random starts refine to (the detector's null)
to 1, while aligned UBiLexAT zh-en mappings sit at 0.23-0.30 when they take
off. So a seed's check is a take-off candidate when its criterion is a new
best for the seed and above :func:`threshold`; the candidate is refined
exactly as the seeds and the null are, and the seed has taken off when the
failure detector passes the result (bdi_jax/detector.py). A seed that never
passes trains to the end of its budget.
"""

import dataclasses
from typing import Any, Dict, Optional

from bdi_jax import detector, refine, scoring

__all__ = ["Test", "threshold", "make_test"]


def threshold(identity_criterion: float, null: Optional[detector.Null],
              eval_config) -> float:
  """The criterion above which a check is a take-off candidate.

  With a null and ``eval.takeoff_null_gain`` > 0: that fraction of the way
  from the null's mean to 1. On UBiLexAT zh-en 0.2 gives 0.647, where the
  margin once tuned by hand for zh-en gave 0.640; on es-en 0.662, between
  the seeds' criterion before their take-off (at most 0.63) and after it
  (0.79). Otherwise the identity mapping's criterion plus
  ``eval.takeoff_margin``.
  """
  gain = eval_config.get("takeoff_null_gain", 0.2)
  if null is not None and gain > 0:
    return null.mean + gain * (1.0 - null.mean)
  return identity_criterion + eval_config.takeoff_margin


@dataclasses.dataclass(frozen=True)
class Test:
  """Whether a seed's new best mapping (scored) means it has taken off:
  above ``threshold`` and, with a null, passed by the detector once
  refined."""
  spaces: scoring.Spaces
  settings: scoring.Settings
  null: Optional[detector.Null]
  threshold: float
  limits: Dict[str, Any]  # detector.judge's thresholds.

  def __call__(self, mapping: scoring.Mapping) -> bool:
    if not mapping.criterion > self.threshold:
      return False
    if self.null is None:
      return True
    try:
      refined, = refine.refine_mappings(self.spaces, [mapping], self.settings,
                                        [0])
    except ValueError:  # A degenerate mapping induced no pair.
      return False
    return detector.judge(refined.criterion,
                          refined.signals.get("dictionary_overlap"),
                          self.null, **self.limits).success


def make_test(spaces: scoring.Spaces, settings: scoring.Settings,
              null: Optional[detector.Null], identity_criterion: float,
              eval_config) -> Test:
  """The take-off test of a run, from its data, null and ``eval`` config."""
  return Test(spaces, settings, null,
              threshold(identity_criterion, null, eval_config),
              detector.thresholds(eval_config))
