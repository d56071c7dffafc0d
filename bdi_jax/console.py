"""What a run shows while it works: progress bars and its log lines.

Bars are ``rich.progress`` bars on stderr: they redraw in place on a terminal
(any width: rich fits them to it) and stay silent when stderr is a file, so
logs hold no stale bar lines. Log lines (one per epoch, per refinement...) are
shown above the bars when absl's verbosity is INFO or more (the default;
``--verbosity=-1`` hides them) and appended to the run's ``train.log`` whatever
the verbosity. ``bars=False`` hides the bars only. A console with a
``train.log`` writes a heartbeat line whenever it has been silent for
``HEARTBEAT_S`` seconds, saying what the run is doing (:func:`activity`).
"""

import contextlib
import os
import pathlib
import threading
import time
import weakref
from typing import Optional

from absl import flags
from absl import logging
from rich import console as rich_console
from rich import progress as rich_progress

__all__ = ["Console", "Bar", "activity", "HEARTBEAT_S"]


def _show_lines() -> bool:
  # Library use (no absl flags parsed): show them. Under an absl app, follow
  # its verbosity: INFO (the default) shows them, --verbosity=-1 hides them.
  if not flags.FLAGS.is_parsed():
    return True
  return logging.level_info()


# A line at least this often, so that a long compilation, chunk or check
# never looks like a hang (in train.log and on the console).
HEARTBEAT_S = float(os.environ.get("BDI_HEARTBEAT_S", "25"))
_ACTIVITY = ["starting"]  # What the run is doing, for the heartbeat.


def activity(text: str) -> None:
  """Says what the run is doing now (the next heartbeat line shows it)."""
  _ACTIVITY[0] = text


def _heartbeat(ref) -> None:
  """Logs a line when the console has been silent for HEARTBEAT_S; ends with
  its console (or once its train.log has moved: the run has finished)."""
  while True:
    time.sleep(1.0)
    console = ref()
    if console is None:
      return
    now = time.monotonic()
    if now - console._last >= HEARTBEAT_S:  # pylint: disable=protected-access
      try:
        console.log(f"working: {_ACTIVITY[0]} ({now - console._started:,.0f} "  # pylint: disable=protected-access
                    "s since the start)")
      except OSError:
        return
    del console


class Bar:
  """One progress bar; ``update(n, text)`` advances it and sets its caption."""

  def __init__(self, progress: Optional[rich_progress.Progress], task_id):
    self._progress = progress
    self._task = task_id

  def update(self, advance: int = 0, text: str = "") -> None:
    if self._progress is not None:
      self._progress.update(self._task, advance=advance, info=text)


class Console:
  """A run's console and ``train.log``.

  Args:
    bars: show progress bars (``config.progress``).
    log_path: ``train.log`` to append every shown line to (None: no file).
    enabled: False silences everything (processes other than 0).
  """

  def __init__(self, *, bars: bool = True,
               log_path: Optional[pathlib.Path] = None, enabled: bool = True):
    self.bars = bars and enabled
    self.log_path = log_path
    self.enabled = enabled
    self._rich = rich_console.Console(stderr=True, highlight=False)
    self._progress: Optional[rich_progress.Progress] = None
    self._lock = threading.Lock()  # The heartbeat thread logs too.
    self._last = self._started = time.monotonic()
    if enabled and log_path is not None:
      threading.Thread(target=_heartbeat, args=(weakref.ref(self),),
                       daemon=True, name="bdi-heartbeat").start()

  def log(self, text: str) -> None:
    """Shows one line (above any bar) and appends it to ``train.log``."""
    if not self.enabled:
      return
    with self._lock:
      self._last = time.monotonic()
      if _show_lines():
        self._rich.print(text, markup=False, soft_wrap=True)
      if self.log_path is not None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_path, "a", encoding="utf-8") as f:
          f.write(f"{stamp} {text}\n")

  @contextlib.contextmanager
  def bar(self, total: int, desc: str):
    """``with console.bar(n, "epoch 1/8") as bar: bar.update(k, "loss 0.3")``."""
    if not self.bars or not self._rich.is_terminal:  # A log file: no bars.
      yield Bar(None, None)
      return
    progress = rich_progress.Progress(
        rich_progress.TextColumn("{task.description}"),
        rich_progress.BarColumn(bar_width=None),
        rich_progress.MofNCompleteColumn(),
        rich_progress.TimeElapsedColumn(),
        rich_progress.TimeRemainingColumn(),
        rich_progress.TextColumn("{task.fields[info]}"),
        console=self._rich, transient=True, expand=False)
    with progress:
      task = progress.add_task(desc, total=max(int(total), 1), info="")
      yield Bar(progress, task)
