"""A dependency-free progress bar for long host-side loops.

On a terminal it redraws one line; in a log file (CI, nohup) it prints a line at
most every ``log_seconds`` so logs stay short.
"""

import sys
import time
from typing import Optional, TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
  """``with ProgressBar(total, "epoch 1") as bar: bar.update(n, loss=...)``."""

  def __init__(self, total: int, desc: str = "", *, stream: Optional[TextIO] = None,
               enabled: bool = True, width: int = 28, log_seconds: float = 30.0):
    self.total = max(int(total), 1)
    self.desc = desc
    self.stream = stream or sys.stderr
    self.enabled = enabled
    self.width = width
    self.log_seconds = log_seconds
    self.done = 0
    self.postfix = ""
    self._start = time.perf_counter()
    self._last_print = -float("inf")
    self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()

  def update(self, n: int = 1, **postfix) -> None:
    self.done = min(self.done + n, self.total)
    if postfix:
      self.postfix = " ".join(f"{k}={_fmt(v)}" for k, v in postfix.items())
    now = time.perf_counter()
    if self._tty or now - self._last_print >= self.log_seconds:
      self._draw(final=False)
      self._last_print = now

  def close(self) -> None:
    self._draw(final=True)

  def _draw(self, final: bool) -> None:
    if not self.enabled:
      return
    elapsed = time.perf_counter() - self._start
    frac = self.done / self.total
    filled = int(self.width * frac)
    bar = "#" * filled + "." * (self.width - filled)
    eta = elapsed / frac - elapsed if frac > 0 else float("nan")
    line = (f"{self.desc} [{bar}] {self.done}/{self.total} "
            f"{elapsed:.0f}s<{eta:.0f}s {self.postfix}")
    end = "\n" if (final or not self._tty) else ""
    self.stream.write(("\r" if self._tty else "") + line + end)
    self.stream.flush()


def _fmt(v) -> str:
  try:
    return f"{float(v):.4g}"
  except (TypeError, ValueError):
    return str(v)
