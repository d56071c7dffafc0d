"""The learning-rate policy on scripted criterion sequences."""

import numpy as np

from bdi_jax import schedule


def _replay(policy, criteria, lr0=0.1):
  """Brute force, one seed at a time, straight from the rule's wording."""
  lr, drops, best, out = lr0, 0, None, []
  for c in criteria:
    lr = max(policy.min_lr, lr * policy.decay)
    if best is not None and c < best:
      drops += 1
      if policy.shrink < 1 and drops > policy.patience:
        lr = max(policy.min_lr, lr * policy.shrink)
    best = c if best is None else max(best, c)
    out.append(lr)
  return out


def test_matches_the_rule_for_every_seed_at_once():
  policy = schedule.LRPolicy(decay=0.9, shrink=0.5, patience=1, min_lr=1e-3)
  criteria = np.asarray([[0.1, 0.3, 0.2, 0.25, 0.1, 0.4, 0.39],
                         [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01],
                         [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
  lr, drops = np.full(3, 0.1), np.zeros(3, np.int64)
  best = np.full(3, np.nan)
  got = []
  for e in range(criteria.shape[1]):
    lr, drops = schedule.next_learning_rate(policy, lr, drops, criteria[:, e],
                                            best)
    best = np.fmax(best, criteria[:, e])
    got.append(lr)
  got = np.stack(got, 1)
  for i in range(3):
    np.testing.assert_allclose(got[i], _replay(policy, criteria[i]))
  # Rising criterion: decay only. Falling: the first drop is forgiven, then
  # every drop shrinks.
  np.testing.assert_allclose(got[2], 0.1 * 0.9 ** np.arange(1, 8))
  np.testing.assert_allclose(got[1, 1], 0.1 * 0.9 ** 2)
  np.testing.assert_allclose(got[1, 2], 0.1 * 0.9 ** 3 * 0.5)
  np.testing.assert_allclose(got[1, -1], 0.1 * 0.9 ** 7 * 0.5 ** 5)


def test_no_shrink_and_no_decay_keep_the_rate():
  policy = schedule.LRPolicy(decay=1.0, shrink=1.0, patience=0, min_lr=0)
  lr, drops = schedule.next_learning_rate(policy, [0.1], [5], [0.0], [1.0])
  assert lr[0] == 0.1 and drops[0] == 6


def test_min_lr_bounds_the_rate():
  policy = schedule.LRPolicy(decay=0.5, shrink=0.5, patience=0, min_lr=0.01)
  lr, _ = schedule.next_learning_rate(policy, [0.02], [0], [0.0], [1.0])
  assert lr[0] == 0.01


def _brute_stop(rule, criteria, takeoff):
  """Stop after epoch e when no epoch in (max(last gain, takeoff), e] gained."""
  if takeoff is None:
    return bool(rule.takeoff_budget) and len(criteria) >= rule.takeoff_budget
  if not rule.patience:
    return False
  gains = [e for e in range(1, len(criteria))
           if criteria[e] > max(criteria[:e]) + rule.margin]
  anchor = max([0, takeoff] + gains)
  return len(criteria) - 1 - anchor >= rule.patience


def test_stop_rule_on_scripted_sequences():
  rule = schedule.StopRule(patience=2, margin=0.01, takeoff_budget=4)
  seq = [0.40, 0.45, 0.70, 0.75, 0.755, 0.752, 0.80, 0.79, 0.795]
  got = [schedule.stop_reason(rule, seq[:n], 2) is not None
         for n in range(3, len(seq) + 1)]
  want = [_brute_stop(rule, seq[:n], 2) for n in range(3, len(seq) + 1)]
  assert got == want
  # Took off at epoch 2, gains at 3 (0.75) and 6 (0.80); 4 and 5 gain less than
  # the margin, so after epoch 5 (0-based) two epochs passed without a gain.
  assert got == [False, False, False, True, False, False, True]
  # Never took off: the budget stops it after 4 epochs, not before.
  flat = [0.4, 0.41, 0.4, 0.42, 0.41]
  assert schedule.stop_reason(rule, flat[:3], None) is None
  assert "did not take off within 4" in schedule.stop_reason(rule, flat[:4],
                                                             None)
  # Off by default.
  assert schedule.stop_reason(schedule.StopRule(), seq, 2) is None


def test_take_off_budget_counts_epochs_not_checks():
  # Several checks per epoch: patience counts checks, the budget epochs.
  rule = schedule.StopRule(patience=2, margin=0.01, takeoff_budget=2)
  flat = [0.4, 0.41, 0.40, 0.42, 0.41, 0.40]  # 6 checks, never took off.
  assert schedule.stop_reason(rule, flat, None, epochs_done=1) is None
  assert "within 2 epochs" in schedule.stop_reason(rule, flat, None,
                                                   epochs_done=2)
  seq = [0.4, 0.7, 0.72, 0.715, 0.719]  # Took off at check 1, best at 2.
  assert schedule.stop_reason(rule, seq[:4], 1, epochs_done=0) is None
  assert "2 checks" in schedule.stop_reason(rule, seq, 1, epochs_done=0)
