"""Ctrl-C and SIGTERM: honoured within seconds, with a checkpoint if training ran.

A signal sets a flag that the epoch loop checks between chunks, where the
state is consistent: it saves a checkpoint and raises
:class:`bdi_jax.errors.Interrupted`. A chunk can be long, though, and XLA's
compilation or a check's scoring runs in C++, where Python runs no signal
handler. So a command line also calls :func:`install`: a watchdog thread is
woken by the signal itself (``signal.set_wakeup_fd``) and, if the main thread
has not taken the stop within ``GRACE_S``, saves the last consistent state
the loop recorded (:func:`record`), prints the line saying how to resume and
ends the process with 128 + the signal (130 for SIGINT, 143 for SIGTERM).
A second Ctrl-C stops at once, whatever the state.
"""

import contextlib
import os
import signal
import sys
import threading
import time
from typing import Callable, Optional

from bdi_jax import errors

__all__ = ["StopFlag", "stop_on_signals", "interrupted", "install", "record",
           "record_state", "GRACE_S"]

# Seconds the main thread has to take a stop itself (between two chunks)
# before the watchdog does (``BDI_INTERRUPT_GRACE_S``; tests set it to 0).
GRACE_S = float(os.environ.get("BDI_INTERRUPT_GRACE_S", "2"))
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopFlag:
  requested = False
  signum = signal.SIGINT


class _Process:
  """The process-wide state of :func:`install` (None: not installed)."""

  def __init__(self):
    self.flag = StopFlag()
    self.claim = threading.Lock()  # Taken by whoever ends the run.
    self.save: Optional[Callable[[], str]] = None  # Saves; returns the path.
    self.saved_at = None  # A checkpoint already on disk (path), if any.
    self.on_exit: Callable[[], None] = lambda: None


_PROCESS: Optional[_Process] = None


def _handler(flag: StopFlag):
  def handler(signum, frame):
    del frame
    if flag.requested and signum == signal.SIGINT:  # A second Ctrl-C.
      signal.signal(signum, signal.SIG_DFL)
      raise KeyboardInterrupt
    flag.requested, flag.signum = True, signum
  return handler


@contextlib.contextmanager
def stop_on_signals():
  """Yields a :class:`StopFlag` that SIGINT / SIGTERM set (main thread only;
  elsewhere Python cannot install handlers, so the flag never sets). Under
  :func:`install` it is the process's flag."""
  if _PROCESS is not None:
    yield _PROCESS.flag
    return
  flag = StopFlag()
  if threading.current_thread() is not threading.main_thread():
    yield flag
    return
  old = {s: signal.signal(s, _handler(flag)) for s in _SIGNALS}
  try:
    yield flag
  finally:
    for s, h in old.items():
      signal.signal(s, h)


_RECORDED = _Process()  # What record() was last told (with or without install).


def record(save: Optional[Callable[[], str]], saved_at=None) -> None:
  """The loop's last consistent state: ``save()`` writes it as a checkpoint
  and returns its path (None: training is not running); ``saved_at``: a
  checkpoint on disk already."""
  for holder in (_RECORDED, _PROCESS):
    if holder is not None:
      holder.save, holder.saved_at = save, saved_at


class _SizesAt:
  """A run whose log sizes are those of the moment the state was recorded,
  so that a checkpoint saved later still cuts the logs back to that state."""

  def __init__(self, run, sizes):
    self.enabled, self.checkpoint, self._sizes = True, run.checkpoint, sizes

  def size(self, name: str) -> int:
    return self._sizes.get(name, 0)


def record_state(run, train_state, loop, seeds) -> None:
  """Records the epoch loop's state after a chunk (see :func:`record`)."""
  if run is None or not run.enabled:
    return
  from bdi_jax import loop_state  # pylint: disable=g-import-not-at-top
  frozen = _SizesAt(run, {f: run.size(f) for f in ("metrics.jsonl",
                                                     "train.log")})

  def save():
    loop_state.save(frozen, train_state, loop, seeds)
    return run.checkpoint

  record(save)


def _message(signum: int, where) -> str:
  # Imported here: provenance imports JAX, which --help should not start.
  from bdi_jax import provenance  # pylint: disable=g-import-not-at-top
  name = signal.Signals(signum).name
  if where is None:
    return (f"interrupted ({name}) before training started; nothing to "
            f"resume: rerun the same command to start again")
  return (f"interrupted ({name}): the training state was saved to {where}; "
          f"rerun the same command to resume: {provenance.command_line()}")


def interrupted(run, signum: Optional[int] = None) -> errors.Interrupted:
  """The error that ends an interrupted run, saying how to resume. Under
  :func:`install`, the main thread takes the stop here (if the watchdog has
  taken it already, this thread waits for the process to end)."""
  if _PROCESS is not None:
    if not _PROCESS.claim.acquire(blocking=False):
      while True:
        time.sleep(1)
    signum = signum or _PROCESS.flag.signum
  where = _RECORDED.save() if _RECORDED.save is not None else None
  if where is None and run is not None and run.enabled:
    where = run.checkpoint if run.checkpoint.exists() else None
  e = errors.Interrupted(_message(signum or signal.SIGINT, where))
  e.signum = signum or signal.SIGINT
  return e


def _watch(read_fd: int, process: _Process) -> None:
  while True:
    data = os.read(read_fd, 1)
    if not data:
      return
    time.sleep(GRACE_S)  # The main thread's turn first.
    if not process.claim.acquire(blocking=False):
      return  # The main thread took it.
    signum = data[0] if data[0] in _SIGNALS else process.flag.signum
    try:
      where = process.save() if process.save is not None else None
    except Exception as e:  # pylint: disable=broad-except
      where = None
      print(f"warning: the checkpoint could not be saved ({e})",
            file=sys.stderr, flush=True)
    where = where or process.saved_at
    print(_message(signum, where), file=sys.stderr, flush=True)
    process.on_exit()
    os._exit(128 + signum)  # pylint: disable=protected-access


def install(on_exit: Callable[[], None] = lambda: None) -> None:
  """Process-wide signal handling for a command line (main thread only).

  Args:
    on_exit: called by the watchdog just before it ends the process (e.g.
      releases the workdir lock).
  """
  global _PROCESS
  if _PROCESS is not None:
    return
  process = _Process()
  process.on_exit = on_exit
  read_fd, write_fd = os.pipe()
  os.set_blocking(write_fd, False)
  signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
  for s in _SIGNALS:
    signal.signal(s, _handler(process.flag))
  threading.Thread(target=_watch, args=(read_fd, process), daemon=True,
                   name="bdi-interrupt-watchdog").start()
  _PROCESS = process
