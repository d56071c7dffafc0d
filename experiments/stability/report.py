"""A study's report files: stability.json, stability.md and stability.png.

Writing them (an earlier report moves to ``history/`` first, so no call's
table is lost), reading one back, and the strip plot.
"""

import datetime
import json
import os
import pathlib
import sys
from typing import Any, Dict, Optional

from bdi_jax import errors
from experiments.stability import markdown

__all__ = ["REPORT_FILES", "plot", "keep_earlier_report", "write_outputs",
           "read_report", "note_dropped_rows"]

REPORT_FILES = ("stability.json", "stability.md", "stability.png")
_MISSING_PNG = ("stability.png not written: it needs matplotlib "
                "(pip install -e \".[lab]\")")


def plot(report, path: pathlib.Path) -> bool:
  """stability.png (strip plot); False when matplotlib is not installed."""
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
  except ImportError:
    return False
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  entries = report["configs"]
  fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(entries) + 2.0), 4.5))
  colours = {True: "tab:green", False: "tab:red", None: "tab:grey"}
  for i, e in enumerate(entries):
    seeds = [s for s in e["seeds"]
             if markdown.lookup(s, "refined", "csls", "p@1") is not None]
    # Evenly spread, not random: the same study always draws the same plot.
    offsets = np.linspace(-0.25, 0.25, len(seeds)) if len(seeds) > 1 else [0.0]
    for dx, s in zip(offsets, seeds):
      ax.scatter(i + dx, s["refined"]["csls"]["p@1"], s=22, zorder=3,
                 color=colours[s.get("success")])
    mean = markdown.lookup(e, "refined", "csls", "p@1", "mean")
    if mean is not None:
      ax.hlines(mean, i - 0.32, i + 0.32, color="black", lw=1.2)
    if e["success_threshold"] is not None:
      ax.hlines(e["success_threshold"], i - 0.4, i + 0.4, color="tab:blue",
                lw=1, linestyles="dashed")
  ax.set_xticks(range(len(entries)))
  ax.set_xticklabels([e["config"] for e in entries], rotation=30, ha="right")
  ax.set_xlim(-0.6, len(entries) - 0.4)
  ax.set_ylim(-0.02, 1.02)
  ax.set_ylabel("refined CSLS P@1 (each dot a seed)")
  ax.set_title("dots: seeds (green: success, red: failure); black: mean;\n"
               "dashed: success threshold (half the supervised baseline)",
               fontsize=8)
  fig.text(0.01, 0.01, f"{report['date']}, {report['device']}", fontsize=6)
  fig.tight_layout(rect=(0, 0.03, 1, 1))
  fig.savefig(path, dpi=130)
  plt.close(fig)
  return True


def keep_earlier_report(workdir: pathlib.Path) -> Optional[pathlib.Path]:
  """Moves the report about to be replaced into ``workdir/history/<when>/``.

  A later call may report other configs than an earlier one; moving (not
  deleting) the earlier files means no call's table is ever lost. ``<when>``
  is the time the earlier report was written. Returns that folder, or None
  when there was no report.
  """
  found = [workdir / n for n in REPORT_FILES if (workdir / n).is_file()]
  if not found:
    return None
  written = max(p.stat().st_mtime for p in found)
  stamp = datetime.datetime.fromtimestamp(written).strftime("%Y%m%d-%H%M%S")
  folder, n = workdir / "history" / stamp, 1
  while folder.exists():
    folder, n = workdir / "history" / f"{stamp}-{n}", n + 1
  folder.mkdir(parents=True)
  for path in found:
    os.replace(path, folder / path.name)
  return folder


def write_outputs(report, workdir: pathlib.Path) -> None:
  """Writes stability.json/md/png; an earlier report moves to history/."""
  from bdi_jax import outputs  # pylint: disable=g-import-not-at-top
  kept = keep_earlier_report(workdir)
  if kept is not None:
    print(f"stability: the earlier report is kept in {kept}",
          file=sys.stderr)
  outputs.write_json(workdir / "stability.json", report)
  outputs.atomic_write_bytes(workdir / "stability.md",
                             markdown.format_markdown(report).encode("utf-8"))
  if not plot(report, workdir / "stability.png"):
    print(_MISSING_PNG, file=sys.stderr)


def read_report(path: pathlib.Path) -> Dict[str, Any]:
  """A study's stability.json (``path`` or ``path/stability.json``).

  Raises:
    FileNotFoundError: there is none.
    errors.DataError: it is not JSON, or not a study's report; names the
      file (and line).
  """
  path = pathlib.Path(path)
  if path.is_dir():
    path = path / "stability.json"
  if not path.is_file():
    raise FileNotFoundError(f"{path}: no such study report (give a study's "
                            "workdir or its stability.json)")
  try:
    report = json.loads(path.read_text(encoding="utf-8"))
  except json.JSONDecodeError as e:
    raise errors.DataError(f"{path}, line {e.lineno}: not valid JSON "
                           f"({e.msg})") from e
  except UnicodeDecodeError as e:
    raise errors.DataError(f"{path}: not UTF-8 text ({e.reason})") from e
  if not (isinstance(report, dict) and isinstance(report.get("configs"), list)
          and isinstance(report.get("baselines"), dict)):
    raise errors.DataError(f"{path}: not a stability study's report (no "
                           "'configs' list and 'baselines' map)")
  return report


def note_dropped_rows(path: pathlib.Path, report) -> None:
  """Says which configs of the report being replaced this one leaves out:
  their runs stay in the workdir, and naming them again reports them."""
  try:
    old = read_report(path)
  except (OSError, errors.DataError):
    return  # No earlier report (or not one of ours): nothing to say.
  def rows(r):
    return [e["config"] for k in ("configs", "skipped") for e in r.get(k) or []]
  dropped = [n for n in rows(old) if n not in rows(report)]
  if dropped:
    print(f"stability: {path} no longer reports {', '.join(dropped)} (an "
          "earlier call's configs); their runs are kept: add them to "
          "--configs to report them again, or --merge the earlier report "
          "from history/", file=sys.stderr)

