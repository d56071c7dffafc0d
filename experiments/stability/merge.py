"""``--merge``: earlier studies' reports as one, rows side by side.

Nothing trains. Each row keeps its study's numbers
(``bdi_jax.study_stats.merge_reports``) and is checked against today's preset
with its study's ``--set``, so that a row whose preset changed since is named.
"""

import datetime
import pathlib
import sys
from typing import Any, Dict, Optional, Sequence

from bdi_jax import errors
from bdi_jax import study_stats
from experiments.configs import overrides
from experiments.configs import registry
from experiments.stability import markdown
from experiments.stability import plan as plan_lib
from experiments.stability import report as report_lib

__all__ = ["merge_main", "preset_check"]


def merge_main(names: Optional[Sequence[str]], sources: Sequence[str],
               workdir: pathlib.Path, command: str) -> Dict[str, Any]:
  """One report in ``workdir`` from earlier studies; returns it.

  Args:
    names: the configs to report, in this order; None for every row.
    sources: the studies' workdirs or stability.json files.
    workdir: where the merged stability.json/md/png go.
    command: the command line, as the report records it.
  """
  reports = [(str(s), report_lib.read_report(pathlib.Path(s)))
             for s in sources]
  target = workdir / "stability.json"
  if target.exists():
    # A merge may be redone; a study's own report is never replaced.
    if "studies" not in report_lib.read_report(target):
      raise errors.WorkdirError(
          f"{target} is a study's own report; --merge writes a new one, so "
          "give another --workdir")
  report = {
      "command": command,
      "date": datetime.date.today().isoformat(),
      "device": "; ".join(dict.fromkeys(r.get("device") or "unrecorded"
                                        for _, r in reports)),
  }
  report.update(study_stats.merge_reports(reports, names))
  _check_presets(report, reports)
  for line in markdown.preset_lines(report):
    if not line.startswith("Every"):
      print(f"stability: {line}", file=sys.stderr)
  workdir.mkdir(parents=True, exist_ok=True)
  report_lib.write_outputs(report, workdir)
  return report


def preset_check(name: str, settings: Optional[Dict[str, Any]],
                 assignments: Optional[Sequence[str]]) -> Dict[str, Any]:
  """Whether a report's row still describes preset ``name`` today.

  Args:
    name: the row's config.
    settings: the config its runs trained with, without the seeds (the
      row's ``settings``); None for a report made before rows recorded it.
    assignments: its study's ``--set`` overrides (the report's
      ``overrides``); None when the report did not record them.

  Returns:
    ``{"status": "same" | "changed" | "unrecorded" | "unregistered"}``, with
    ``fields`` (the dotted fields that differ) when changed.
  """
  if settings is None or assignments is None:
    return {"status": "unrecorded"}
  if name not in registry.CONFIGS:
    return {"status": "unregistered"}
  now = overrides.apply_overrides(registry.get_config(name), assignments)
  differ = plan_lib.differing_fields(
      settings, plan_lib.without_seeds(plan_lib.config_json(now)))
  return ({"status": "changed", "fields": differ} if differ
          else {"status": "same"})


def _check_presets(report, reports) -> None:
  """Marks each merged row with :func:`preset_check` (``preset``)."""
  for e in report["configs"]:
    # Pooled rows share their settings; the first study's --set rebuilds them.
    source = reports[e.get("pooled_from", [e["study"]])[0] - 1][1]
    e["preset"] = preset_check(e["config"], e.get("settings"),
                               source.get("overrides"))
