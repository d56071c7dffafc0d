"""Markdown tables for the console report."""

from typing import Any, Sequence

__all__ = ["markdown_table", "fmt"]


def fmt(value: Any, digits: int = 2) -> str:
  """Formats a cell: thousands separators for big numbers, '-' for missing."""
  if value is None:
    return "-"
  if isinstance(value, bool):
    return "yes" if value else "no"
  if isinstance(value, int):
    return f"{value:,}"
  if isinstance(value, float):
    if value != value:  # NaN.
      return "nan"
    if abs(value) >= 1000:
      return f"{value:,.0f}"
    return f"{value:.{digits}f}"
  return str(value)


def markdown_table(headers: Sequence[str],
                   rows: Sequence[Sequence[Any]]) -> str:
  """A GitHub-flavoured markdown table, columns padded for the terminal."""
  cells = [[str(h) for h in headers]] + [[fmt(v) for v in r] for r in rows]
  widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
  lines = []
  for n, r in enumerate(cells):
    lines.append("| " + " | ".join(c.rjust(w) if n else c.ljust(w)
                                   for c, w in zip(r, widths)) + " |")
    if n == 0:
      # Right-aligned columns: the cells are numbers.
      lines.append("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
  return "\n".join(lines)
