"""Ctrl-C and SIGTERM during training: a flag the loop checks between chunks.

A signal only sets the flag; the epoch loop checks it where the state is
consistent, saves a checkpoint and raises :class:`bdi_jax.errors.Interrupted`.
A second Ctrl-C stops at once, whatever the state.
"""

import contextlib
import signal
import threading

from bdi_jax import errors, provenance

__all__ = ["StopFlag", "stop_on_signals", "interrupted"]


class StopFlag:
  requested = False


@contextlib.contextmanager
def stop_on_signals():
  """Yields a :class:`StopFlag` that SIGINT / SIGTERM set (main thread only;
  elsewhere Python cannot install handlers, so the flag never sets)."""
  flag = StopFlag()
  if threading.current_thread() is not threading.main_thread():
    yield flag
    return

  def handler(signum, frame):
    del frame
    if flag.requested:  # A second Ctrl-C: stop now, whatever the state.
      signal.signal(signum, signal.SIG_DFL)
      raise KeyboardInterrupt
    flag.requested = True

  old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
  try:
    yield flag
  finally:
    for s, h in old.items():
      signal.signal(s, h)


def interrupted(run) -> errors.Interrupted:
  """The error that ends an interrupted run, saying how to resume."""
  where = run.checkpoint if run is not None and run.enabled else "nothing"
  return errors.Interrupted(
      f"interrupted: the training state was saved to {where}; rerun the same "
      f"command to resume: {provenance.command_line()}")
