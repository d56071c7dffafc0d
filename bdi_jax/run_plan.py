"""The adversarial phase's plan: what it will train, its memory, its time.

Before the first step, :func:`announce` prints the seeds, steps and chunks
and an estimate of the memory from the shapes of the training state (no
array is allocated for it), and stops a run that cannot fit with the figure
and the settings that shrink it. :class:`Tracker` then times the chunks:
after the first chunk that did not compile it prints the remaining time, and
at the end how many chunks this process trained (a resumed run trains only
those its checkpoint had not).
"""

import dataclasses
import os
import shutil
import time
from typing import Optional, Sequence, Tuple

import jax
import numpy as np

from bdi_jax import console as console_lib
from bdi_jax import errors
from bdi_jax import interrupts
from bdi_jax import multi_seed

__all__ = ["Estimate", "estimate", "available_bytes", "check_fits",
           "announce", "start", "Tracker"]

GiB = 1024 ** 3
# Bytes the other live copies of the state take: the state before a chunk
# (kept to roll a diverged seed back) and the one a chunk returns.
STATE_COPIES = 3


@dataclasses.dataclass(frozen=True)
class Estimate:
  """Bytes of the adversarial phase, from shapes (an estimate: XLA's
  temporaries are not counted exactly)."""
  state: int  # Every seed's mapping, critic and optimiser state, per copy.
  working: int  # Per-step gradients and activations of every seed.
  data: int  # Both embedding matrices.
  scoring: int  # Every seed's mapped source space during a check.

  @property
  def total(self) -> int:
    return STATE_COPIES * self.state + self.working + self.data + self.scoring


def _leaves(tree):
  return [x for x in jax.tree.leaves(tree) if hasattr(x, "shape")]


def estimate(trainer: multi_seed.Trainer, n_src: int, n_tgt: int, dim: int,
             batch_size: int, seeds: Sequence[int]) -> Estimate:
  """The memory of training ``seeds`` at once, from the state's shapes.

  The state's shapes come from ``jax.eval_shape`` of the real init function,
  so they are exact; the per-step working memory assumes gradients the size
  of the state and, per seed and sample of both sides, activations as wide
  as the critic's layers (the total width of its bias vectors), forward and
  backward.
  """
  init_keys, _ = multi_seed.seed_keys(list(seeds))
  shapes = jax.eval_shape(trainer.init_fn, init_keys)
  leaves = _leaves(shapes)
  state = sum(int(np.prod(x.shape)) * x.dtype.itemsize for x in leaves)
  # Per-seed vectors ([seeds, width]) are the critic's biases and norms.
  width = sum(int(x.shape[-1]) for x in leaves if len(x.shape) == 2)
  n = len(seeds)
  working = state + n * 2 * batch_size * (dim + width) * 4 * 2
  return Estimate(state=state, working=working,
                  data=(n_src + n_tgt) * dim * 4, scoring=n * n_src * dim * 4)


def available_bytes() -> Tuple[Optional[int], str]:
  """Memory this run may use, and what it is: the first device's free memory
  on an accelerator, the host's available memory on a CPU (None: unknown)."""
  device = jax.devices()[0]
  if device.platform != "cpu":
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
      return (int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0)),
              f"free on {device.device_kind}")
  try:
    with open("/proc/meminfo", encoding="ascii") as f:
      info = dict(line.split(":", 1) for line in f)
    return int(info["MemAvailable"].split()[0]) * 1024, "available on the host"
  except (OSError, KeyError, ValueError):
    pass
  try:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), (
        "on the host")
  except (ValueError, OSError):
    return None, "unknown"


def _gib(n: float) -> str:
  return f"{n / GiB:.2f} GiB" if n >= 0.01 * GiB else f"{n / 1024 ** 2:.1f} MiB"


def check_fits(trainer, n_src: int, n_tgt: int, dim: int, batch_size: int,
               seeds: Sequence[int]) -> None:
  """Refuses, before anything runs, a phase that would not fit in memory.

  Raises:
    ConfigError: the estimate exceeds what the device or host has; the
      message gives both figures and the settings that lower it.
  """
  est = estimate(trainer, n_src, n_tgt, dim, batch_size, seeds)
  have, what = available_bytes()
  _refuse_if_too_big(est, have, what, batch_size, len(seeds), n_src, dim)


def start(trainer, spaces, s, seeds, chunk_plan, console, run=None
          ) -> "Tracker":
  """:func:`announce`, then a :class:`Tracker` of the phase's chunks. No
  state of this phase is recorded for a signal yet (bdi_jax/interrupts.py);
  a checkpoint already on disk (e.g. the first seeds', before a restart)
  is what a signal keeps until then."""
  checkpoint = run.checkpoint if run is not None and run.enabled else None
  interrupts.record(None, saved_at=checkpoint if checkpoint is not None
                    and checkpoint.exists() else None)
  try:
    announce(trainer, spaces, s, seeds, chunk_plan, console)
  except errors.ConfigError:
    # Refused before any training: a fresh run leaves no staging folder.
    if (checkpoint is not None and not run.resumed
        and not checkpoint.exists()):
      shutil.rmtree(run.staging, ignore_errors=True)
    raise
  console_lib.activity("adversarial training: compiling and running the "
                       "first chunk")
  return Tracker(console, len(chunk_plan) * s.n_epochs)


def announce(trainer, spaces, s, seeds, chunk_plan, console, *,
             resumed_at: int = 0) -> None:
  """Prints the plan; refuses a run whose estimate exceeds the memory.

  Raises:
    ConfigError: the estimated memory exceeds what the device or host has;
      the message gives both figures and the settings that lower it.
  """
  n_src, dim = spaces.src.shape
  est = estimate(trainer, n_src, spaces.tgt.shape[0], dim, s.batch_size,
                 seeds)
  have, what = available_bytes()
  chunks = len(chunk_plan) * s.n_epochs
  steps = sum(chunk_plan) * s.n_epochs
  left = f", {chunks - resumed_at} left" if resumed_at else ""
  console.log(
      f"plan: {len(seeds)} seed{'s' if len(seeds) > 1 else ''} x {steps:,} "
      f"steps ({s.n_epochs} epochs of {len(chunk_plan)} chunks{left}), batch "
      f"{s.batch_size}, {n_src:,} x {spaces.tgt.shape[0]:,} words, {dim}-d; "
      f"memory ~{_gib(est.total)} (estimate from shapes"
      + (f"; {_gib(have)} {what})" if have else ")")
      + "; time estimate after the first timed chunk")
  smaller = min(n_src, spaces.tgt.shape[0])
  if s.batch_size > smaller:
    console.log(
        f"warning: config.train.batch_size={s.batch_size} is larger than the "
        f"smaller vocabulary ({smaller} words): each batch repeats words; "
        f"lower the batch to at most {smaller}, or give more words "
        "(config.data.max_vocab)")
  _refuse_if_too_big(est, have, what, s.batch_size, len(seeds), n_src, dim)


def _refuse_if_too_big(est: Estimate, have: Optional[int], what: str,
                       batch_size: int, n_seeds: int, n_src: int, dim: int):
  if have is not None and est.total > have:
    per_seed = (STATE_COPIES * est.state + est.working + est.scoring) / n_seeds
    fits = max(0, int((have - est.data) // max(per_seed, 1)))
    raise errors.ConfigError(
        f"this run needs about {_gib(est.total)} (estimated from shapes: "
        f"{n_seeds} seeds, batch {batch_size}, {n_src:,} words, {dim}-d) "
        f"but {_gib(have)} is {what}; lower config.n_seeds (about {fits} "
        "fit; experiments.stability --seeds_per_run splits a study), "
        "config.train.batch_size or config.data.max_vocab")


class Tracker:
  """Times the chunks of one adversarial phase; counts the ones trained."""

  def __init__(self, console, total_chunks: int, done_chunks: int = 0):
    self.console = console
    self.total, self.done_before = total_chunks, done_chunks
    self.trained = 0
    self._timed = False

  def chunk(self, seconds: float, compiled: bool) -> None:
    """One chunk ran in ``seconds``; ``compiled``: its call compiled."""
    self.trained += 1
    console_lib.activity(
        f"adversarial training, {self.done_before + self.trained} of "
        f"{self.total} chunks done (or scoring a check)")
    if compiled or self._timed:
      return
    self._timed = True
    left = self.total - self.done_before - self.trained
    eta = time.strftime("%H:%M", time.localtime(time.time() + left * seconds))
    self.console.log(
        f"time estimate: {seconds:.2f} s a chunk, ~{left * seconds:,.0f} s "
        f"for the {left} chunks left (about {eta}; checks and refinement "
        "not included)")

  def resumed(self, done_chunks: int) -> None:
    self.done_before = done_chunks

  def finish(self, run=None) -> None:
    """Logs the count; the checkpoint on disk is what a signal now keeps."""
    checkpoint = run.checkpoint if run is not None and run.enabled else None
    interrupts.record(None, saved_at=checkpoint if checkpoint is not None
                      and checkpoint.exists() else None)
    console_lib.activity("scoring and refinement")
    self.console.log(
        f"adversarial phase: {self.trained} chunks trained in this process"
        + (f" ({self.done_before} done before the resume)"
           if self.done_before else ""))
