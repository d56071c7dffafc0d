"""The mapping's learning-rate policy, as a pure function of the criterion.

Conneau et al. 2018 decay the learning rate every epoch and shrink it further
when the unsupervised criterion falls below its best so far. Kept apart from
the epoch loop so it can be tested on scripted criterion sequences and applied
to every seed at once (arrays over the seed axis).
"""

from typing import NamedTuple, Optional, Sequence

import numpy as np

__all__ = ["LRPolicy", "next_learning_rate", "StopRule", "stop_reason"]


class LRPolicy(NamedTuple):
  decay: float = 0.98  # Multiplied in every epoch.
  shrink: float = 0.5  # Extra factor on a criterion drop (1 = never).
  patience: int = 1  # Drops below the best forgiven before shrinking.
  min_lr: float = 1e-6

  @classmethod
  def from_config(cls, train_config) -> "LRPolicy":
    t = train_config
    return cls(decay=t.lr_decay, shrink=t.lr_shrink,
               patience=t.lr_shrink_patience, min_lr=t.min_lr)


def next_learning_rate(policy: LRPolicy, lr, drops, criterion, best_before):
  """The learning rates after an epoch, for every seed at once.

  Args:
    policy: the schedule's constants.
    lr: ``[seeds]`` current mapping learning rates.
    drops: ``[seeds]`` epochs so far that ended below the best criterion.
    criterion: ``[seeds]`` this epoch's criterion.
    best_before: ``[seeds]`` best criterion before this epoch (NaN: none yet).

  Returns:
    ``(lr, drops)``, new arrays. The first ``patience`` drops are forgiven:
    before a map "takes off" its criterion only wanders, and shrinking then
    would stall training for good.
  """
  lr = np.maximum(policy.min_lr, np.asarray(lr, np.float64) * policy.decay)
  best_before = np.asarray(best_before, np.float64)
  dropped = ~np.isnan(best_before) & (np.asarray(criterion) < best_before)
  drops = np.asarray(drops, np.int64) + dropped
  shrink = dropped & (drops > policy.patience) & (policy.shrink < 1)
  lr = np.where(shrink, np.maximum(policy.min_lr, lr * policy.shrink), lr)
  return lr, drops


class StopRule(NamedTuple):
  # Checks (criterion evaluations: every train.check_every chunks and at each
  # epoch end) without improvement after take-off (0 = off).
  patience: int = 0
  margin: float = 0.001  # What counts as an improvement of the criterion.
  takeoff_budget: int = 0  # Epochs to take off in (0 = no budget).

  @classmethod
  def from_config(cls, train_config) -> "StopRule":
    t = train_config
    return cls(patience=t.stop_patience, margin=t.stop_margin,
               takeoff_budget=t.takeoff_budget)


def stop_reason(rule: StopRule, criteria: Sequence[float],
                takeoff_index: Optional[int], *,
                epochs_done: Optional[int] = None) -> Optional[str]:
  """Why a seed should stop after the checks so far, or None to go on.

  Args:
    rule: the stopping settings.
    criteria: the seed's criterion at each check so far (oldest first).
    takeoff_index: index into ``criteria`` of the check at which it took off,
      or None if it has not.
    epochs_done: whole epochs trained (for the take-off budget); default
      ``len(criteria)``, i.e. one check per epoch.
  """
  n = len(criteria)
  epochs = n if epochs_done is None else epochs_done
  if takeoff_index is None:
    if rule.takeoff_budget and epochs >= rule.takeoff_budget:
      return f"did not take off within {rule.takeoff_budget} epochs"
    return None
  if not rule.patience:
    return None
  # The last check that beat every earlier one by more than the margin.
  last, best = 0, criteria[0]
  for e in range(1, n):
    if criteria[e] > best + rule.margin:
      last = e
    best = max(best, criteria[e])
  since = n - 1 - max(last, takeoff_index)
  if since >= rule.patience:
    return (f"criterion not improved by more than {rule.margin:g} for "
            f"{since} checks after take-off")
  return None
