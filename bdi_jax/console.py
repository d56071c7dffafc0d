"""What a run shows while it works: progress bars and its log lines.

Bars are ``rich.progress`` bars on stderr: they redraw in place on a terminal
(any width: rich fits them to it) and stay silent when stderr is a file, so
logs hold no stale bar lines. Log lines (one per epoch, per refinement...) are
shown above the bars when absl's verbosity is INFO or more (the default;
``--verbosity=-1`` hides them) and appended to the run's ``train.log`` whatever
the verbosity. ``bars=False`` hides the bars only.
"""

import contextlib
import pathlib
import time
from typing import Optional

from absl import flags
from absl import logging
from rich import console as rich_console
from rich import progress as rich_progress

__all__ = ["Console", "Bar"]


def _show_lines() -> bool:
  # Library use (no absl flags parsed): show them. Under an absl app, follow
  # its verbosity: INFO (the default) shows them, --verbosity=-1 hides them.
  if not flags.FLAGS.is_parsed():
    return True
  return logging.level_info()


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

  def log(self, text: str) -> None:
    """Shows one line (above any bar) and appends it to ``train.log``."""
    if not self.enabled:
      return
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
