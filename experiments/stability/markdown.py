"""stability.md: a study's report as markdown tables.

The summary (one row per config), the supervised baselines, per config the
thesis-style P@k tables and the seeds, and notes on reused runs, skipped
configs and merged rows whose preset has changed since.
"""

from typing import Dict, List

from bdi_jax import provenance
from bdi_jax import study_stats
from bdi_jax import tables
from experiments.stability import plan as plan_lib

__all__ = ["lookup", "summary_table", "seed_table", "preset_lines",
           "format_markdown"]


def _seconds(value) -> str:
  return "-" if value is None else f"{value:,.1f}"


def _one_line(text: str, limit: int = 300) -> str:
  text = " ".join(text.split())
  return text if len(text) <= limit else text[:limit - 3] + "..."


def _mean_std(stats) -> str:
  if not stats:
    return "-"
  return f"{stats['mean']:.3f} ± {stats['std']:.3f}"


def lookup(block, *keys):
  """``block[k1][k2]...``, or None where a level is missing or None."""
  for k in keys:
    block = (block or {}).get(k)
  return block


def _takeoff(block, n_seeds: int) -> str:
  """``"1,000-3,250 (9/10)"``: the range of take-off iterations and how
  many seeds took off; '-' when none did (or none was recorded)."""
  if not block:
    return "-"
  span = (f"{block['min']:,}" if block["min"] == block["max"]
          else f"{block['min']:,}-{block['max']:,}")
  return f"{span} ({block['n']}/{n_seeds})"


def summary_table(report) -> str:
  """One row per config: seeds, successes, P@1, detector, take-off, time."""
  merged = "studies" in report  # Rows of several studies: name each's.
  rows = []
  for e in report["configs"]:
    rows.append([
        *([e.get("study")] if merged else []),
        e["config"], e["pair"], e["n_seeds"],
        (f"{e['n_success']}/{e['n_seeds']}" if e["n_success"] is not None
         else "-"),
        e["success_rate"],
        _mean_std(lookup(e, "adversarial", "csls", "p@1")),
        _mean_std(lookup(e, "refined", "csls", "p@1")),
        e["detector_accuracy"], _takeoff(e.get("takeoff"), e["n_seeds"]),
        _seconds(lookup(e, "seconds", "median")),
        _seconds(lookup(e, "seconds", "max"))])
  return tables.markdown_table(
      (["study"] if merged else []) +
      ["config", "pair", "seeds", "succeeded", "success rate",
       "adversarial CSLS P@1 (mean ± std)", "refined CSLS P@1 (mean ± std)",
       "detector accuracy", "took off (iteration)", "median s / seed",
       "max s / seed"],
      rows, align=("r" if merged else "") + "llrrrllrlrr")


def _baseline_table(report) -> str:
  rows = []
  for pair, b in report["baselines"].items():
    if "skipped" in b:
      rows.append([pair, f"{b['config']} (skipped: data missing)", None, None,
                   None, "-"])
      continue
    rows.append([pair, b["config"], lookup(b, "supervised", "csls", "p@1"),
                 b["refined_csls_p@1"], b["success_threshold"],
                 _seconds(b["wall_seconds"])])
  return tables.markdown_table(
      ["pair", "baseline", "supervised CSLS P@1", "refined CSLS P@1",
       "success threshold", "wall s"], rows, align="llrrrr")


def _thesis_table(entry, method: str) -> str:
  """Rows max / min / mean / std; columns P@k before and after refinement."""
  ks = list((lookup(entry, "refined", method) or
             lookup(entry, "adversarial", method) or {}).keys())
  header = [""] + [f"before refinement {k.upper()}" for k in ks] + [
      f"after refinement {k.upper()}" for k in ks]
  rows = [[stat] + [lookup(entry, phase, method, k, stat)
                    for phase in study_stats.PHASES for k in ks]
          for stat in ("max", "min", "mean", "std")]
  return tables.markdown_table(header, rows)


def seed_table(entry) -> str:
  """One row per seed of a config's entry."""
  rows = [[s["seed"], lookup(s, "adversarial", "csls", "p@1"),
           lookup(s, "refined", "csls", "p@1"), s.get("success"),
           s.get("predicted_success"), s.get("criterion"),
           "-" if s.get("takeoff_step") is None
           else f"{s['takeoff_step']:,}",
           _seconds(s.get("seconds"))]
          for s in entry["seeds"]]
  return tables.markdown_table(
      ["seed", "adversarial CSLS P@1", "refined CSLS P@1", "success",
       "predicted success", "criterion", "took off (iteration)", "seconds"],
      rows, align="rrrllrrr")


def format_markdown(report) -> str:
  """stability.md: the command, the summary, the baselines, per config the
  thesis-style tables and the seeds."""
  overall = report["overall"]
  lines = [
      "# Stability study", "",
      f"Command: `{report['command']}`  ",
      f"Date: {report['date']}; device: {report['device']}."
      + (f"  \nCode: {provenance.code_text(report['code'])}." if "code" in report
         else ""), "",
      f"A seed succeeds when its {report['success_rule']}. Statistics are "
      "over seeds; std is the population std (ddof=0). P@k on the test "
      "dictionary, never seen in training.", ""]
  if "studies" in report:
    lines += ["Merged from these studies (the `study` column names each "
              "row's; a row's schedule is its study's command):", ""]
    lines += [f"{s['study']}. `{s['command']}` ({s['date']}; {s['device']}"
              + (f"; {provenance.code_text(s['code'])}" if "code" in s else "")
              + f"), from `{s['source']}`" for s in report["studies"]]
    lines.append("")
  if any(lookup(e, "seconds", "estimated") for e in report["configs"]):
    lines += ["Seconds per seed: the seeds of one run train together, so a "
              "run's wall time (data loading, training, refinement, outputs) "
              "is divided among its seeds.", ""]
  presets = preset_lines(report)
  lines += ["## Summary", "", summary_table(report), "",
            *[x for line in presets for x in (line, "")],
            f"Over all {overall['n_seeds']} seeds: success rate "
            f"{tables.format_cell(overall['success_rate'])}, detector "
            f"accuracy {tables.format_cell(overall['detector_accuracy'])} "
            "('-': no `predicted_success` in the runs).", "",
            "## Supervised baselines", "", _baseline_table(report), ""]
  for e in report["configs"]:
    study = f"; study {e['study']}" if "study" in e else ""
    lines += [f"## {e['config']} ({e['method']}, {e['pair']}, "
              f"{e['n_seeds']} seeds{study})", ""]
    for method in (e["refined"] or e["adversarial"] or {}):
      lines += [f"{method.upper()} retrieval:", "", _thesis_table(e, method),
                ""]
    lines += ["Per seed:", "", seed_table(e), ""]
  if report.get("reused"):
    lines += ["## Runs reused from earlier calls", ""]
    lines += [f"- `{r['workdir']}`: {r['config']}, seeds "
              f"{plan_lib.seed_label(r['seeds'])[len('seeds-'):]}, finished "
              f"{r['finished']} on {r['device'] or 'an unrecorded device'}"
              for r in report["reused"]]
    lines.append("")
  if report["skipped"]:
    lines += ["## Skipped", ""]
    lines += [f"- `{s['config']}`: {_one_line(s['reason'])}"
              for s in report["skipped"]]
    lines.append("")
  return "\n".join(lines)


def preset_lines(report) -> List[str]:
  """stability.md's note on merged rows whose preset changed since."""
  by_status: Dict[str, List[str]] = {}
  for e in report["configs"]:
    status = (e.get("preset") or {}).get("status")
    if status == "changed":
      fields = e["preset"]["fields"]
      by_status.setdefault(status, []).append(
          f"`{e['config']}` ({', '.join(fields[:6])}"
          f"{' ...' if len(fields) > 6 else ''})")
    elif status in ("unrecorded", "unregistered"):
      by_status.setdefault(status, []).append(f"`{e['config']}`")
  lines = []
  if "changed" in by_status:
    lines.append("Rows whose preset has changed since their study (its "
                 "figures are not today's preset's): "
                 + "; ".join(by_status["changed"]) + ".")
  if "unregistered" in by_status:
    lines.append("Rows whose preset is no longer registered: "
                 + ", ".join(by_status["unregistered"]) + ".")
  if "unrecorded" in by_status:
    lines.append("Rows from studies that did not record their settings, so "
                 "not checked against today's presets: "
                 + ", ".join(by_status["unrecorded"]) + ".")
  if not lines and any("preset" in e for e in report["configs"]):
    lines.append("Every row's preset is as its study ran it.")
  return lines
