"""The final report of a run, from its summary dict: on screen and report.md."""

from typing import Any, Dict, List, Optional

from bdi_jax import detector
from bdi_jax import provenance
from bdi_jax import tables

__all__ = ["format_report", "markdown_report", "low_coverage"]

_NAN = float("nan")
# What the "adversarial" entry of a summary holds for a method that trains no
# critic (the key stays, for the readers of older summaries).
_START_LABELS = {"gw": "GW start", "procrustes": "supervised",
                 "sinkhorn": "sinkhorn"}


def _p(block: Optional[Dict[str, Any]], method: str, key: str) -> float:
  value = ((block or {}).get(method) or {}).get(key)
  return _NAN if value is None else value


def low_coverage(cov: Optional[Dict[str, Any]]) -> str:
  """" (on N of M words)" when the vocabularies hold under half of the test
  source words, so that a P@1 is never read as over the whole dictionary."""
  if not cov or not cov.get("source_words_total"):
    return ""
  found, total = cov["source_words"], cov["source_words_total"]
  if found >= 0.5 * total:
    return ""
  return f"  (on {found:,} of {total:,} words)"


def format_report(summary: Dict[str, Any]) -> str:
  """The one-screen final report."""
  lines = [f"== {summary['name']} ({summary['method']}, "
           f"{summary['src']}->{summary['tgt']}) ==", summary["data"]]
  cov = summary.get("test_coverage")
  if cov:
    lines.append(f"test pairs: {cov['pairs']}, source words: "
                 f"{cov['source_words']}")
  lines.append(f"{'seed':>6} {'phase':<12} {'NN P@1':>7} {'P@5':>6} {'P@10':>6}"
               f" {'CSLS P@1':>9} {'P@5':>6} {'P@10':>6}" + low_coverage(cov))
  for s in summary["seeds"]:
    mark = "*" if s["seed"] == summary.get("selected_seed") else " "
    if s.get("failed") and s.get("refined") is None:
      lines.append(f"{s['seed']:>5}{mark} failed: {s['failed']}")
      continue
    for phase in ("adversarial", "refined"):
      p = s[phase]
      label = (_START_LABELS.get(summary.get("method"), phase)
               if phase == "adversarial" else phase)
      if p is None:
        lines.append(f"{s['seed']:>5}{mark} {label:<12} (no test dictionary)")
        continue
      lines.append(
          f"{s['seed']:>5}{mark} {label:<12} {_p(p, 'nn', 'p@1'):7.3f} "
          f"{_p(p, 'nn', 'p@5'):6.3f} {_p(p, 'nn', 'p@10'):6.3f} "
          f"{_p(p, 'csls', 'p@1'):9.3f} {_p(p, 'csls', 'p@5'):6.3f} "
          f"{_p(p, 'csls', 'p@10'):6.3f}")
    if s.get("failed"):
      lines.append(f"{'':>6} failed later: {s['failed']}")
  if len(summary["seeds"]) > 1:
    lines.append(f"selected seed: {summary.get('selected_seed')} (*, best "
                 "refined criterion)")
  lines += _detector_lines(summary)
  lines.append(f"criterion (mean CSLS cosine): {summary['criterion']:.4f}  "
               f"selected: {summary['selected']}")
  lines.append(f"wall time: {summary['wall_seconds']:.1f} s on "
               f"{summary['device']}")
  return "\n".join(lines)


def _detector_lines(summary: Dict[str, Any]) -> List[str]:
  """What the failure detector (bdi_jax/detector.py) says of each seed."""
  null = summary.get("detector_null")
  if not null:
    return []
  passed = [s["seed"] for s in summary["seeds"] if s.get("predicted_success")]
  lines = [f"detector: predicted success for seed(s) {passed or 'none'} of "
           f"{[s['seed'] for s in summary['seeds']]} (null: random starts "
           f"refine to criterion {null['mean']:.4f})"]
  if summary.get("status") == detector.NO_SUCCESS:
    lines.append("NO SEED SUCCEEDED: no seed stands out from what random "
                 "starts refine to; the dictionary is probably wrong")
  return lines


def markdown_report(summary: Dict[str, Any],
                    epoch_lines: List[Dict[str, Any]]) -> str:
  """report.md: the final report plus the per-epoch and refinement tables."""
  parts = [f"# {summary['name']}", "", "```", format_report(summary), "```"]
  rows = []
  for l in epoch_lines:
    phase = l["phase"]
    when = (f"epoch {l['epoch']}" if phase == "adversarial"
            else f"round {l['round']}")
    rows.append([l.get("seed"), phase, when, l.get("criterion"),
                 _p(l.get("precision"), "nn", "p@1"),
                 _p(l.get("precision"), "csls", "p@1")])
  if rows:
    parts += ["", "## Epochs and refinement rounds", "",
              tables.markdown_table(
                  ["seed", "phase", "when", "criterion", "NN P@1",
                   "CSLS P@1"], rows, digits=4)]
  bands = summary.get("refined_by_band") or {}
  band_rows = [[band, entry.get("queries"), entry.get("p@1"),
                (bands.get("nn") or {}).get(band, {}).get("p@1")]
               for band, entry in (bands.get("csls") or {}).items()]
  if band_rows:
    parts += ["", "## Refined P@1 by source frequency band", "",
              tables.markdown_table(
                  ["source ranks", "test words", "CSLS P@1", "NN P@1"],
                  band_rows)]
  code = (f"; code: {provenance.code_text(summary['code'])}"
          if "code" in summary else "")  # Absent from older summaries.
  parts += ["", f"Command: `{summary.get('command', '')}`; device: "
            f"{summary.get('device')}; data root: {summary.get('data_root')}"
            f"{code}."]
  return "\n".join(parts) + "\n"
