"""The host-side state of the adversarial epoch loop, and its checkpoint.

The compiled :class:`bdi_jax.step.TrainState` holds what the step changes; a
:class:`LoopState` holds the rest of what the loop knows per seed (learning
rates, failures, take-off, the criterion history, each seed's best mapping)
and where the loop is. It is immutable: every phase of the loop takes one and
returns a new one (``dataclasses.replace``), so what a function changes is
what it returns.
"""

import dataclasses
from typing import Any, Dict, Optional, Tuple

import numpy as np

from bdi_jax import checkpoint as ckpt_lib
from bdi_jax import errors, scoring

__all__ = ["LoopState", "fresh", "save", "load"]


@dataclasses.dataclass(frozen=True)
class LoopState:
  """Per-seed bookkeeping of the adversarial phase (checkpointed)."""
  map_lr: np.ndarray  # [seeds] float64
  dis_lr: np.ndarray
  drops: np.ndarray  # [seeds] epochs that ended below the best criterion.
  rollbacks: np.ndarray  # [seeds] non-finite chunks rolled back.
  failed: Tuple[Optional[str], ...]  # Reason, or None while the seed lives.
  takeoff_step: Tuple[Optional[int], ...]
  # Each seed's criterion at every check, and at epoch ends only (what the
  # learning-rate policy sees).
  history: Tuple[Tuple[float, ...], ...]
  epoch_criteria: Tuple[Tuple[float, ...], ...]
  takeoff_epoch: Tuple[Optional[int], ...]  # Index into history.
  stopped: Tuple[Optional[str], ...]  # Why it stopped early, or None.
  best: Tuple[Optional[scoring.Mapping], ...]  # By the criterion.
  epoch: int = 0  # Next epoch to run (0-based).
  chunk: int = 0  # Next chunk of that epoch.
  # This epoch's metric sums over finite chunks, and how many, per seed.
  sums: Dict[str, Tuple[float, ...]] = dataclasses.field(default_factory=dict)
  counts: Tuple[int, ...] = ()
  timed_samples: float = 0.0  # Samples in chunks that did not compile.
  timed_seconds: float = 0.0

  def rate(self) -> float:
    """Samples/s over the chunks that did not compile (NaN before any)."""
    return (self.timed_samples / self.timed_seconds
            if self.timed_seconds > 0 else float("nan"))

  def alive(self) -> np.ndarray:
    """Seeds still training: neither failed nor stopped."""
    return np.asarray([f is None and s is None
                       for f, s in zip(self.failed, self.stopped)])


def fresh(n: int, map_lr: np.ndarray, dis_lr: np.ndarray) -> LoopState:
  """The state before the first chunk of ``n`` seeds."""
  return LoopState(
      map_lr=np.asarray(map_lr, np.float64),
      dis_lr=np.asarray(dis_lr, np.float64),
      drops=np.zeros(n, np.int64), rollbacks=np.zeros(n, np.int64),
      failed=(None,) * n, takeoff_step=(None,) * n,
      history=((),) * n, epoch_criteria=((),) * n,
      takeoff_epoch=(None,) * n, stopped=(None,) * n, best=(None,) * n,
      counts=(0,) * n)


def save(run, train_state, loop: LoopState, seeds) -> None:
  """Writes the training state and ``loop`` to the run's checkpoint."""
  if run is None or not run.enabled:
    return
  arrays = ckpt_lib.tree_to_arrays("state", train_state)
  arrays.update(map_lr=loop.map_lr, dis_lr=loop.dis_lr, drops=loop.drops,
                rollbacks=loop.rollbacks)
  for i, b in enumerate(loop.best):
    if b is not None:
      arrays[f"best_w/{i}"] = b.w
  meta: Dict[str, Any] = {
      "seeds": list(seeds), "epoch": loop.epoch, "chunk": loop.chunk,
      "failed": list(loop.failed), "takeoff_step": list(loop.takeoff_step),
      "history": [list(h) for h in loop.history],
      "takeoff_epoch": list(loop.takeoff_epoch),
      "epoch_criteria": [list(h) for h in loop.epoch_criteria],
      "stopped": list(loop.stopped),
      "sums": {k: list(v) for k, v in loop.sums.items()},
      "counts": list(loop.counts),
      "timed_samples": loop.timed_samples,
      "timed_seconds": loop.timed_seconds,
      "best_origin": [b.origin if b else None for b in loop.best],
      # Append-only files are cut back to these sizes on resume, so that a
      # resumed run's logs hold each chunk and epoch exactly once.
      "sizes": {f: run.size(f) for f in ("metrics.jsonl", "train.log")},
  }
  ckpt_lib.save(run.checkpoint, arrays, meta)


def load(run, like_state, spaces: scoring.Spaces, settings: scoring.Settings,
         seeds):
  """``(train_state, loop)`` from the run's checkpoint; truncates the logs
  to where they were when it was saved."""
  arrays, meta = ckpt_lib.load(run.checkpoint)
  if meta["seeds"] != list(seeds):
    raise errors.WorkdirError(
        f"{run.checkpoint} was saved for seeds {meta['seeds']}, not "
        f"{list(seeds)}; pass --overwrite to start over")
  train_state = ckpt_lib.arrays_to_tree("state", arrays, like_state)
  # The best mappings are re-scored (deterministic) rather than stored with
  # their CSLS context, which is large.
  best = tuple(
      scoring.score_mapping(spaces, arrays[f"best_w/{i}"], settings, origin)
      if origin is not None else None
      for i, origin in enumerate(meta["best_origin"]))
  loop = LoopState(
      map_lr=arrays["map_lr"], dis_lr=arrays["dis_lr"],
      drops=arrays["drops"], rollbacks=arrays["rollbacks"],
      failed=tuple(meta["failed"]), takeoff_step=tuple(meta["takeoff_step"]),
      history=tuple(tuple(h) for h in meta["history"]),
      epoch_criteria=tuple(tuple(h) for h in meta["epoch_criteria"]),
      takeoff_epoch=tuple(meta["takeoff_epoch"]),
      stopped=tuple(meta["stopped"]), best=best,
      epoch=meta["epoch"], chunk=meta["chunk"],
      sums={k: tuple(v) for k, v in meta["sums"].items()},
      counts=tuple(meta["counts"]), timed_samples=meta["timed_samples"],
      timed_seconds=meta["timed_seconds"])
  for name, size in meta["sizes"].items():
    run.truncate(name, size)
  return train_state, loop
