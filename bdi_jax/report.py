"""The one-screen final report of a run, from its summary dict."""

from typing import Any, Dict

__all__ = ["format_report"]


def format_report(summary: Dict[str, Any]) -> str:
  """The one-screen final report."""
  lines = [f"== {summary['name']} ({summary['method']}, "
           f"{summary['src']}->{summary['tgt']}) ==", summary["data"]]
  cov = summary.get("test_coverage")
  if cov:
    lines.append(f"test pairs: {cov['pairs']}, source words: "
                 f"{cov['source_words']}")
  lines.append(f"{'seed':>6} {'phase':<12} {'NN P@1':>7} {'P@5':>6} {'P@10':>6}"
               f" {'CSLS P@1':>9} {'P@5':>6} {'P@10':>6}")
  for s in summary["seeds"]:
    for phase in ("adversarial", "refined"):
      p = s[phase]
      if p is None:
        lines.append(f"{s['seed']:>6} {phase:<12} (no test dictionary)")
        continue
      nn, cs = p.get("nn", {}), p.get("csls", {})
      lines.append(
          f"{s['seed']:>6} {phase:<12} {nn.get('p@1', float('nan')):7.3f} "
          f"{nn.get('p@5', float('nan')):6.3f} "
          f"{nn.get('p@10', float('nan')):6.3f} "
          f"{cs.get('p@1', float('nan')):9.3f} "
          f"{cs.get('p@5', float('nan')):6.3f} "
          f"{cs.get('p@10', float('nan')):6.3f}")
  lines.append(f"criterion (mean CSLS cosine): {summary['criterion']:.4f}  "
               f"selected: {summary['selected']}")
  lines.append(f"wall time: {summary['wall_seconds']:.1f} s on "
               f"{summary['device']}")
  return "\n".join(lines)
