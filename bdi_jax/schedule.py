"""The mapping's learning-rate policy, as a pure function of the criterion.

Conneau et al. 2018 decay the learning rate every epoch and shrink it further
when the unsupervised criterion falls below its best so far. Kept apart from
the epoch loop so it can be tested on scripted criterion sequences and applied
to every seed at once (arrays over the seed axis).
"""

from typing import NamedTuple

import numpy as np

__all__ = ["LRPolicy", "next_learning_rate"]


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
