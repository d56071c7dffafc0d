"""An unsupervised failure detector: did this seed's mapping work?

Without any dictionary, a user still sees how far refinement lifts the
unsupervised criterion (mean CSLS cosine of frequent words' translations)
above the identity mapping's, which is what an unrelated map scores. A correct
start refines to a much higher criterion; a failed one converges to a poor
fixed point only a little above the identity's.

How the gain threshold was chosen: docs/notes/detector-calibration.md.
"""

from typing import Dict, Optional

import numpy as np

__all__ = ["refinement_signals", "predict_success"]


def refinement_signals(size: int, n_max: int, overlap: Optional[float]
                       ) -> Dict[str, Optional[float]]:
  """Signals of one refinement round's induced dictionary.

  Args:
    size: pairs the round induced.
    n_max: the most pairs possible (the smaller vocabulary, capped by
      ``refine.max_rank``).
    overlap: Jaccard index of the round's pairs and the previous round's
      (None in the first round).

  Returns:
    ``{"mutual_fraction": size / n_max, "dictionary_overlap": overlap}``.
  """
  return {"mutual_fraction": size / max(1, n_max),
          "dictionary_overlap": None if overlap is None else float(overlap)}


def predict_success(refined_criterion: Optional[float],
                    identity_criterion: float, *, min_gain: float) -> bool:
  """True when refinement lifted the criterion clearly above the identity's."""
  if refined_criterion is None or not np.isfinite(refined_criterion):
    return False
  return refined_criterion - identity_criterion >= min_gain
