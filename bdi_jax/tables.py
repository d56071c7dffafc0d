"""The one markdown-table writer (benchmarks, experiments, docs).

Cells may be any value: numbers are formatted by `format_cell` (thousands
separators, a fixed number of decimals, '-' for None), strings pass through.
Columns whose cells are all numbers (or missing) are right-aligned, the others
left-aligned, unless `align` says otherwise.
"""

import math
import numbers
from typing import Any, Optional, Sequence

__all__ = ["format_cell", "markdown_table"]


def format_cell(value: Any, digits: int = 3) -> str:
  """Formats one table cell.

  Args:
    value: None (written '-'), a bool ('yes'/'no'), an int (thousands
      separators), a float (`digits` decimals; no decimals from 1,000 up;
      'nan'/'inf'), or anything else (its `str`, with '|' escaped).
    digits: decimals for floats below 1,000.

  Returns:
    The cell's text.
  """
  if value is None:
    return "-"
  if isinstance(value, bool):
    return "yes" if value else "no"
  if isinstance(value, numbers.Integral):
    return f"{int(value):,}"
  if isinstance(value, numbers.Real):
    value = float(value)
    if not math.isfinite(value):
      return str(value)  # 'nan', 'inf', '-inf'.
    if abs(value) >= 1000:
      return f"{value:,.0f}"
    return f"{value:.{digits}f}"
  # A '|' inside a cell would split it into two columns.
  return str(value).replace("|", "\\|")


def _is_number(value: Any) -> bool:
  return value is None or (isinstance(value, numbers.Real)
                           and not isinstance(value, bool))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]],
                   digits: int = 3, align: Optional[str] = None) -> str:
  """A GitHub-flavoured markdown table, columns padded for the terminal.

  Args:
    header: [c] column titles.
    rows: [r][c] cell values (see `format_cell`).
    digits: decimals for float cells.
    align: optional string of c letters, 'l' or 'r' per column; by default
      number columns are right-aligned and the others left-aligned.

  Returns:
    The table, one line per row, without a final newline.

  Raises:
    ValueError: a row or `align` does not have one entry per column.
  """
  n_cols = len(header)
  for i, row in enumerate(rows):
    if len(row) != n_cols:
      raise ValueError(f"markdown_table: row {i} has {len(row)} cells, the "
                       f"header {n_cols}: {list(row)!r}")
  if align is None:
    align = "".join(
        "r" if rows and all(_is_number(r[c]) for r in rows) else "l"
        for c in range(n_cols))
  if len(align) != n_cols or set(align) - {"l", "r"}:
    raise ValueError(f"markdown_table: align={align!r} needs one 'l' or 'r' "
                     f"per column ({n_cols})")
  head = [format_cell(h) for h in header]
  body = [[format_cell(v, digits) for v in row] for row in rows]
  # Width at least 3, so that the rule line is valid markdown.
  widths = [max([3, len(head[c])] + [len(r[c]) for r in body])
            for c in range(n_cols)]

  def line(cells):
    return "| " + " | ".join(
        cell.rjust(w) if a == "r" else cell.ljust(w)
        for cell, w, a in zip(cells, widths, align)) + " |"

  rule = "|" + "|".join(
      ("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
      for w, a in zip(widths, align)) + "|"
  return "\n".join([line(head), rule] + [line(r) for r in body])
