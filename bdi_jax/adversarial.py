"""The adversarial phase: train one mapping per seed, keep each seed's best.

:func:`adversarial_training` runs the epoch loop on the host around the
compiled chunks of bdi_jax/multi_seed.py: chunks of ``lax.scan``-fused steps
for every live seed at once; a seed whose losses or mapping turn non-finite
is rolled back to its state before the chunk with halved learning rates (and
marked failed after ``max_rollbacks``); every ``check_every`` chunks and at
each epoch end every live seed is scored (bdi_jax/scoring.py), its best
mapping kept, its take-off noted, the learning-rate policy and the stopping
rule applied (bdi_jax/schedule.py), and a checkpoint saved (also on Ctrl-C /
SIGTERM, bdi_jax/interrupts.py). Each helper takes the loop's state
(:class:`bdi_jax.loop_state.LoopState`) and returns the next one.
"""

import dataclasses
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import console as console_lib
from bdi_jax import interrupts, loop_state, multi_seed, run_plan, schedule
from bdi_jax import scoring, takeoff
from bdi_jax import step as step_lib
from bdi_jax.loop_state import LoopState

__all__ = ["Settings", "settings_from_config", "adversarial_training"]

Log = Callable[[Dict], None]


class Settings(NamedTuple):
  """The epoch loop's host-side settings (none of them is compiled)."""
  n_epochs: int
  epoch_size: int
  batch_size: int
  max_rollbacks: int
  check_every: int
  map_lr: float
  dis_lr: float
  map_lr_scales: Tuple[float, ...]  # Per seed; () for all 1.
  lr_policy: schedule.LRPolicy
  stop_rule: schedule.StopRule


def settings_from_config(config) -> Settings:
  t = config.train
  return Settings(
      n_epochs=int(t.n_epochs), epoch_size=int(t.epoch_size),
      batch_size=int(t.batch_size), max_rollbacks=int(t.max_rollbacks),
      check_every=int(t.check_every or 0), map_lr=float(t.map_lr),
      dis_lr=float(t.dis_lr), map_lr_scales=tuple(t.map_lr_scales),
      lr_policy=schedule.LRPolicy.from_config(t),
      stop_rule=schedule.StopRule.from_config(t))


def _chunk_plan(s: Settings, chunk_steps: int) -> List[int]:
  """An epoch is epoch_size samples: full chunks, then a shorter one."""
  iters = s.epoch_size // s.batch_size
  plan = [chunk_steps] * (iters // chunk_steps)
  if iters % chunk_steps:
    plan.append(iters % chunk_steps)
  return plan


def _run_chunk(chunk_fn, state, run_keys, data, alive: np.ndarray):
  """One chunk for the live seeds only; stopped and failed seeds cost nothing.

  When some seeds are no longer alive, the chunk runs on the live seeds'
  slice of the state (one compilation per number of live seeds) and the
  result is written back; the others keep their state, with zero metrics.
  Returns ``(state, metrics)`` with metrics on the host, ``[n_seeds]`` each.
  """
  if alive.all():
    state, metrics = chunk_fn(state, run_keys, data)
    return state, jax.device_get(metrics)  # Host sync once per chunk.
  live = jnp.asarray(np.flatnonzero(alive))
  sub, sub_metrics = chunk_fn(jax.tree.map(lambda x: x[live], state),
                              run_keys[live], data)
  state = jax.tree.map(lambda full, part: full.at[live].set(part), state, sub)
  sub_metrics = jax.device_get(sub_metrics)
  metrics = {}
  for k, v in sub_metrics.items():
    v = np.asarray(v)
    full = np.ones(alive.shape, v.dtype) if k == "finite" else np.zeros(
        alive.shape, v.dtype)
    full[np.flatnonzero(alive)] = v
    metrics[k] = full
  return state, metrics


def _with_learning_rates(state, loop: LoopState):
  return state.replace(
      map_opt_state=step_lib.set_learning_rate(
          state.map_opt_state, loop.map_lr.astype(np.float32)),
      dis_opt_state=step_lib.set_learning_rate(
          state.dis_opt_state, loop.dis_lr.astype(np.float32)))


def _take_seeds(mask: np.ndarray, new, old):
  """Per seed: ``old`` where ``mask`` (roll back), else ``new``."""
  m = jnp.asarray(mask)

  def pick(n, o):
    return jnp.where(m.reshape((-1,) + (1,) * (n.ndim - 1)), o, n)

  return jax.tree.map(pick, new, old)


def _set(values: tuple, i: int, value) -> tuple:  # values[i] = value, copied.
  return values[:i] + (value,) + values[i + 1:]


def _handle_divergence(state, previous, finite, loop: LoopState, seeds,
                       max_rollbacks: int, console, log: Log):
  """Rolls seeds with a non-finite chunk back, halving their learning rates.

  Returns ``(state, loop, bad)``.
  """
  bad = ~finite
  if not bad.any():
    return state, loop, bad
  map_lr, dis_lr = loop.map_lr.copy(), loop.dis_lr.copy()
  rollbacks, failed = loop.rollbacks.copy(), loop.failed
  for i in np.flatnonzero(bad):
    if failed[i] is not None:
      continue
    rollbacks[i] += 1
    if rollbacks[i] > max_rollbacks:
      failed = _set(failed, i, (
          f"non-finite loss or mapping {rollbacks[i]} times "
          f"(learning rates halved {max_rollbacks} times); stopped"))
      # A failed seed stays at its last finite state and learns no more.
      map_lr[i] = dis_lr[i] = 0.0
      message = f"seed {seeds[i]} failed: {failed[i]}"
    else:
      map_lr[i] *= 0.5
      dis_lr[i] *= 0.5
      message = (f"seed {seeds[i]}: non-finite loss or mapping; rolled back "
                 f"to the state before this chunk, learning rates halved to "
                 f"{map_lr[i]:.3g} (mapping) / {dis_lr[i]:.3g} "
                 f"(critic), rollback {rollbacks[i]}/{max_rollbacks}")
    console.log(message)
    log({"phase": "divergence", "seed": seeds[i], "message": message})
  loop = dataclasses.replace(loop, map_lr=map_lr, dis_lr=dis_lr,
                             rollbacks=rollbacks, failed=failed)
  state = _take_seeds(bad | ~loop.alive(), state, previous)
  return _with_learning_rates(state, loop), loop, bad


def _accumulate(loop: LoopState, metrics, ok: np.ndarray) -> LoopState:
  sums = dict(loop.sums)
  for k, v in metrics.items():
    v = np.where(ok, np.asarray(v, np.float64), 0.0)
    old = sums.get(k, (0.0,) * len(ok))
    sums[k] = tuple(float(a + b) for a, b in zip(old, v))
  counts = tuple(c + int(o) for c, o in zip(loop.counts, ok))
  return dataclasses.replace(loop, sums=sums, counts=counts)


def _chunk_caption(metrics, loop: LoopState) -> str:
  keys = [k for k in ("dis_loss", "w_estimate", "gen_loss") if k in metrics]
  parts = [f"{k} {float(np.mean(metrics[k])):.4g}" for k in keys[:2]]
  if loop.timed_seconds > 0:
    parts.append(f"{loop.rate():,.0f} samples/s")
  return " ".join(parts)


def _p1(precision, method: str = "csls") -> Optional[float]:
  return (precision or {}).get(method, {}).get("p@1")


def _check(spaces, scoring_settings, s: Settings, state, loop: LoopState,
           seeds, took_off, log: Log, *, epoch_end: bool):
  """Scores every live seed's mapping, keeps its best, notes its take-off.

  Runs at each epoch end and, with ``check_every``, every that many chunks
  within an epoch (what lets a seed stop soon after it has taken off).
  Returns ``(loop, criteria [seeds] (NaN for seeds not scored), their CSLS
  P@1 texts)``.
  """
  epoch = loop.epoch
  ws = np.asarray(jax.device_get(state.mapping))
  steps = np.asarray(jax.device_get(state.step))
  n = len(seeds)
  criteria = np.full(n, np.nan)
  p1s = []
  alive = loop.alive()
  live = np.flatnonzero(alive)
  where = f"adversarial epoch {epoch + 1}"
  if not epoch_end:
    where += f" step {int(steps[live[0]]) if len(live) else 0}"
  scored_by_seed = dict(zip(live.tolist(), scoring.score_mappings(
      spaces, ws[live], scoring_settings, where)))
  best, history = list(loop.best), list(loop.history)
  takeoff_step, takeoff_epoch = list(loop.takeoff_step), list(
      loop.takeoff_epoch)
  for i, seed in enumerate(seeds):
    if not alive[i]:
      p1s.append("-")
      continue
    scored = scored_by_seed[i]
    criteria[i] = scored.criterion
    new_best = best[i] is None or scored.criterion > best[i].criterion
    best[i] = scored if new_best else best[i]
    history[i] = history[i] + (scored.criterion,)
    if takeoff_step[i] is None and new_best and took_off(scored):
      takeoff_step[i] = int(steps[i])
      takeoff_epoch[i] = len(history[i]) - 1
    p1 = _p1(scored.precision)
    p1s.append("-" if p1 is None else f"{p1:.3f}")
    if not epoch_end:
      log({"phase": "check", "epoch": epoch + 1, "seed": seed,
           "step": int(steps[i]), "criterion": scored.criterion,
           "precision": scored.precision})
    else:
      count = max(1, loop.counts[i])
      log({"phase": "adversarial", "epoch": epoch + 1, "seed": seed,
           "step": int(steps[i]), "criterion": scored.criterion,
           "precision": scored.precision, "map_lr": float(loop.map_lr[i]),
           **{k: v[i] / count for k, v in loop.sums.items()},
           "samples_per_s": loop.rate()})
  loop = dataclasses.replace(
      loop, best=tuple(best), history=tuple(history),
      takeoff_step=tuple(takeoff_step), takeoff_epoch=tuple(takeoff_epoch))
  return loop, criteria, p1s


def _apply_stop_rule(s: Settings, loop: LoopState, seeds, alive: np.ndarray,
                     epochs_done: int, console, log: Log) -> LoopState:
  stopped = loop.stopped
  map_lr, dis_lr = loop.map_lr.copy(), loop.dis_lr.copy()
  for i in np.flatnonzero(alive):
    reason = schedule.stop_reason(s.stop_rule, loop.history[i],
                                  loop.takeoff_epoch[i],
                                  epochs_done=epochs_done)
    if reason:
      # A stopped seed learns no more: its rates go to 0 and its state is
      # held at the last chunk's (see _handle_divergence).
      stopped = _set(stopped, i, reason)
      map_lr[i] = dis_lr[i] = 0.0
      console.log(f"seed {seeds[i]} stopped in epoch {loop.epoch + 1}: "
                  f"{reason}")
      log({"phase": "stop", "seed": seeds[i], "epoch": loop.epoch + 1,
           "message": reason})
  return dataclasses.replace(loop, stopped=stopped, map_lr=map_lr,
                             dis_lr=dis_lr)


def _end_epoch(spaces, scoring_settings, s: Settings, state, loop: LoopState,
               seeds, took_off, console, log: Log) -> LoopState:
  """Scores every live seed, keeps its best, applies the lr policy and stops."""
  epoch = loop.epoch
  alive = loop.alive()
  # The learning-rate policy compares epoch ends only (mid-epoch checks must
  # not change when the rate shrinks).
  best_before = np.asarray([max(h) if h else np.nan
                            for h in loop.epoch_criteria])
  loop, criteria, p1s = _check(spaces, scoring_settings, s, state, loop,
                               seeds, took_off, log, epoch_end=True)
  loop = dataclasses.replace(loop, epoch_criteria=tuple(
      h + (float(criteria[i]),) if alive[i] else h
      for i, h in enumerate(loop.epoch_criteria)))
  texts = [f"{c:.4f}" if alive[i] else
           ("failed" if loop.failed[i] else "stopped")
           for i, c in enumerate(criteria)]
  new_lr, new_drops = schedule.next_learning_rate(
      s.lr_policy, loop.map_lr, loop.drops,
      np.nan_to_num(criteria, nan=-np.inf), best_before)
  loop = dataclasses.replace(
      loop, map_lr=np.where(alive, new_lr, loop.map_lr),
      drops=np.where(alive, new_drops, loop.drops))
  loop = _apply_stop_rule(s, loop, seeds, alive, epoch + 1, console, log)
  line = f"epoch {epoch + 1}/{s.n_epochs}: criterion {' '.join(texts)}"
  if spaces.test_pairs is not None:
    line += f" | CSLS P@1 {' '.join(p1s)}"
  rate = loop.rate()  # The compiling first chunk of a size is left out.
  line += (f" | {rate:,.0f} samples/s" if np.isfinite(rate)
           else " | samples/s after the first compiled chunk")
  console.log(line)
  return loop


def adversarial_training(spaces: scoring.Spaces, trainer: multi_seed.Trainer,
                         s: Settings, scoring_settings: scoring.Settings,
                         seeds: Sequence[int], took_off: takeoff.Test, *,
                         start_w: Optional[np.ndarray] = None, run=None,
                         checkpoints: bool = True,
                         console: Optional[console_lib.Console] = None
                         ) -> LoopState:
  """Trains one mapping per seed.

  Args:
    spaces, trainer, s, scoring_settings: the data on the device, the
      compiled functions, the loop's and the checks' settings.
    seeds: one mapping is trained per seed.
    took_off: whether a seed's new best mapping means it has taken off
      (bdi_jax/takeoff.py).
    start_w: ``[seeds, d, d]`` start mappings (e.g. GW) instead of I.
    run: the run's workdir (bdi_jax/outputs.py; None logs nothing).
    checkpoints: False (the restarted seeds): no checkpoint saved or resumed.
    console: progress and log lines (the plan: bdi_jax/run_plan.py).

  Returns:
    The final :class:`LoopState`: each seed's best mapping by the criterion
    (None for a seed that failed before its first check) and its
    bookkeeping (failures, rollbacks, take-off, early stop).
  """
  console = console or console_lib.Console(bars=False, enabled=False)
  log: Log = ((lambda r: run.append_jsonl("metrics.jsonl", r))
              if run is not None else (lambda r: None))
  n = len(seeds)
  plan = _chunk_plan(s, trainer.chunk_steps)
  iters = sum(plan)
  chunk_fns = {steps: trainer.chunk_fn(steps) for steps in set(plan)}
  compiled = set()  # Chunk sizes already run once (the first call compiles).
  tracker = run_plan.start(trainer, spaces, s, seeds, plan, console, run)
  state, run_keys = multi_seed.init_seeds(trainer.init_fn, seeds)
  resuming = run is not None and run.resumed and checkpoints
  if start_w is not None and not resuming:
    state = state.replace(mapping=jnp.asarray(start_w.astype(np.float32)))
  data = step_lib.EmbeddingData(spaces.src, spaces.tgt)
  scales = np.asarray(s.map_lr_scales or (1.0,) * n, np.float64)
  loop = loop_state.fresh(n, s.map_lr * scales, s.dis_lr * scales)
  if resuming:
    state, loop = loop_state.load(run, state, spaces, scoring_settings, seeds)
    sharding = multi_seed.seed_sharding(n)
    if sharding is not None:
      state = jax.device_put(state, sharding)
    console.log(f"resuming from {run.checkpoint} at epoch {loop.epoch + 1}, "
                f"chunk {loop.chunk + 1}/{len(plan)}")
    tracker.resumed(loop.epoch * len(plan) + loop.chunk)
  state = _with_learning_rates(state, loop)
  run_for_checkpoints = run if checkpoints else None

  with interrupts.stop_on_signals() as stop:
    while loop.epoch < s.n_epochs and loop.alive().any():
      epoch = loop.epoch
      if loop.chunk == 0:
        loop = dataclasses.replace(loop, sums={}, counts=(0,) * n)
      with console.bar(iters, f"epoch {epoch + 1}/{s.n_epochs}") as bar:
        bar.update(sum(plan[:loop.chunk]))
        while loop.chunk < len(plan):
          steps = plan[loop.chunk]
          previous = state
          tic = time.perf_counter()
          state, metrics = _run_chunk(chunk_fns[steps], previous, run_keys,
                                      data, loop.alive())
          seconds = time.perf_counter() - tic
          tracker.chunk(seconds, compiled=steps not in compiled)
          finite = np.asarray(metrics.pop("finite"), bool)
          state, loop, bad = _handle_divergence(
              state, previous, finite, loop, seeds, s.max_rollbacks, console,
              log)
          loop = _accumulate(loop, metrics, ~bad & loop.alive())
          if steps in compiled:
            loop = dataclasses.replace(
                loop,
                timed_samples=loop.timed_samples + steps * 2 * s.batch_size * n,
                timed_seconds=loop.timed_seconds + seconds)
          compiled.add(steps)
          step_now = np.asarray(jax.device_get(state.step))
          alive = loop.alive()
          for i, seed in enumerate(seeds):
            if alive[i]:
              log({"phase": "chunk", "epoch": epoch + 1, "seed": seed,
                   "step": int(step_now[i]),
                   **{k: float(np.asarray(v)[i]) for k, v in metrics.items()}})
          loop = dataclasses.replace(loop, chunk=loop.chunk + 1)
          bar.update(steps, _chunk_caption(metrics, loop))
          if (s.check_every and loop.chunk < len(plan)
              and loop.chunk % s.check_every == 0 and loop.alive().any()):
            alive = loop.alive()
            loop, _, _ = _check(spaces, scoring_settings, s, state, loop,
                                seeds, took_off, log, epoch_end=False)
            loop = _apply_stop_rule(s, loop, seeds, alive, loop.epoch,
                                    console, log)
            if not loop.alive().any():
              break
          interrupts.record_state(run_for_checkpoints, state, loop, seeds)
          if stop.requested and loop.chunk < len(plan):
            raise interrupts.interrupted(run, stop.signum)  # Saves the state.
      loop = _end_epoch(spaces, scoring_settings, s, state, loop, seeds,
                        took_off, console, log)
      loop = dataclasses.replace(loop, epoch=epoch + 1, chunk=0)
      state = _with_learning_rates(state, loop)
      loop_state.save(run_for_checkpoints, state, loop, seeds)
      interrupts.record_state(run_for_checkpoints, state, loop, seeds)
      if stop.requested and loop.epoch < s.n_epochs:
        raise interrupts.interrupted(run, stop.signum)
  tracker.finish(run_for_checkpoints)
  return dataclasses.replace(loop, best=tuple(
      dataclasses.replace(b, origin=f"{b.origin} (then failed: {reason})")
      if reason and b is not None else b
      for b, reason in zip(loop.best, loop.failed)))
