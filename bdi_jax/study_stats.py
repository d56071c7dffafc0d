"""Statistics of a stability study: many seeds of one config, one baseline.

Pure functions of per-seed result rows, the rows of ``summary.json``'s
``seeds`` list::

  {"seed": 3, "criterion": 0.61,
   "adversarial": {"nn": {"p@1": .., "p@5": .., "p@10": ..}, "csls": {..}},
   "refined": {same}, "predicted_success": true, "seconds": 120.0, ...}

A seed **succeeds** when its refined CSLS P@1 is at least
:data:`SUCCESS_FRACTION` of the supervised baseline's refined CSLS P@1 on the
same pair (the baseline is ``procrustes_<pair>``: Procrustes on a training
dictionary, then the same refinement). The failure detector's accuracy is the
fraction of seeds whose ``predicted_success`` equals that outcome.

The std is the population std over seeds (``ddof=0``, numpy's default), so a
single seed has std 0.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from bdi_jax import errors

__all__ = ["SUCCESS_FRACTION", "PHASES", "summarize", "precision_stats",
           "success_threshold", "seed_success", "detector_accuracy",
           "seed_rows", "config_entry", "takeoff_stats", "overall",
           "merge_reports"]

# A seed "took off" when it reaches half the supervised result; failed seeds
# sit near 0 (a collapsed map), so the rule is insensitive to the exact value.
SUCCESS_FRACTION = 0.5
PHASES = ("adversarial", "refined")
STATS = ("mean", "std", "min", "max")


def summarize(values: Sequence[Optional[float]]) -> Optional[Dict[str, float]]:
  """mean / std (ddof=0) / min / max of ``values``; None values are ignored.

  Returns:
    The four statistics, or None when no value is given.
  """
  v = np.asarray([x for x in values if x is not None], np.float64)
  if v.size == 0:
    return None
  return {"mean": float(v.mean()), "std": float(v.std()),
          "min": float(v.min()), "max": float(v.max())}


def _precision(row: Mapping[str, Any], phase: str, method: str, k: str
               ) -> Optional[float]:
  block = row.get(phase) or {}
  value = (block.get(method) or {}).get(k)
  return None if value is None else float(value)


def precision_stats(rows: Sequence[Mapping[str, Any]], phase: str
                    ) -> Optional[Dict[str, Dict[str, Dict[str, float]]]]:
  """``{method: {"p@k": summarize(over seeds)}}`` for one phase.

  Methods and ks are those of the rows (``eval.methods`` x ``eval.ks``);
  None when no row has precision (no test dictionary).
  """
  keys = {}  # Insertion-ordered union, e.g. nn -> [p@1, p@5, p@10].
  for row in rows:
    for method, ks in (row.get(phase) or {}).items():
      for k in ks or {}:
        keys.setdefault(method, {}).setdefault(k, None)
  if not keys:
    return None
  return {method: {k: summarize([_precision(r, phase, method, k)
                                 for r in rows]) for k in ks}
          for method, ks in keys.items()}


def success_threshold(baseline_refined_csls_p1: Optional[float]
                      ) -> Optional[float]:
  """Refined CSLS P@1 a seed needs to count as a success (None: no rule)."""
  if baseline_refined_csls_p1 is None:
    return None
  return SUCCESS_FRACTION * float(baseline_refined_csls_p1)


def seed_success(row: Mapping[str, Any], threshold: Optional[float]
                 ) -> Optional[bool]:
  """Whether one seed succeeded; None without a threshold or a test score.

  A seed marked ``failed`` (non-finite training) without a score is a
  failure, not unknown.
  """
  p1 = _precision(row, "refined", "csls", "p@1")
  if threshold is None:
    return None
  if p1 is None:
    return False if row.get("failed") else None
  return bool(p1 >= threshold)


def detector_accuracy(predicted: Sequence[Optional[bool]],
                      actual: Sequence[Optional[bool]]) -> Optional[float]:
  """Fraction of seeds where ``predicted == actual``, over seeds having both.

  Returns:
    The accuracy in [0, 1], or None when no seed has both a prediction and
    an outcome (e.g. runs made before the detector existed).
  """
  if len(predicted) != len(actual):
    raise ValueError(f"{len(predicted)} predictions for {len(actual)} seeds")
  both = [(bool(p), bool(a)) for p, a in zip(predicted, actual)
          if p is not None and a is not None]
  if not both:
    return None
  return float(np.mean([p == a for p, a in both]))


def seed_rows(summary: Mapping[str, Any]) -> List[Dict[str, Any]]:
  """The per-seed rows of one run's summary, each with ``seconds``.

  Seeds the run trained as restarts are left out. A row without its own
  ``seconds`` gets the run's ``wall_seconds`` divided
  by its number of seeds, and ``seconds_estimated: True`` (seeds trained
  together share every step, so only the total is measured).
  """
  seeds = summary["seeds"]
  share = float(summary["wall_seconds"]) / max(1, len(seeds))
  # Seeds a run added because its own all failed (config.restarts) are not
  # the study's: it asked for the run's own seeds only.
  restarted = set(summary.get("restarted_seeds") or ())
  rows = []
  for s in seeds:
    if s["seed"] in restarted:
      continue
    row = dict(s)
    if row.get("seconds") is None:
      row["seconds"], row["seconds_estimated"] = share, True
    else:
      row["seconds_estimated"] = False
    rows.append(row)
  return rows


def config_entry(name: str, method: str, pair: str,
                 rows: Sequence[Mapping[str, Any]],
                 threshold: Optional[float]) -> Dict[str, Any]:
  """One config's block of ``stability.json``.

  Args:
    name: the config's name, e.g. ``"wgangp_es_en"``.
    method: its objective.
    pair: its dataset, e.g. ``"es_en"``.
    rows: [n_seeds] per-seed rows (see :func:`seed_rows`).
    threshold: from :func:`success_threshold` (None: no baseline).

  Returns:
    ``{config, method, pair, n_seeds, success_threshold, n_success,
    success_rate, detector_accuracy, adversarial, refined, seconds, takeoff,
    seeds}`` (``takeoff``: how many seeds took off, and the min / median /
    max iteration at which they did; None when none did); each seed row
    gains ``success``.
  """
  seeds = [dict(r, success=seed_success(r, threshold)) for r in rows]
  outcomes = [s["success"] for s in seeds]
  known = [o for o in outcomes if o is not None]
  seconds = [s.get("seconds") for s in seeds if s.get("seconds") is not None]
  return {
      "config": name, "method": method, "pair": pair, "n_seeds": len(seeds),
      "success_threshold": threshold,
      "n_success": int(sum(known)) if known else None,
      "success_rate": float(np.mean(known)) if known else None,
      "detector_accuracy": detector_accuracy(
          [s.get("predicted_success") for s in seeds], outcomes),
      **{phase: precision_stats(seeds, phase) for phase in PHASES},
      "seconds": ({"median": float(np.median(seconds)),
                   "max": float(np.max(seconds)),
                   "estimated": any(s["seconds_estimated"] for s in seeds
                                    if "seconds_estimated" in s)}
                  if seconds else None),
      "takeoff": takeoff_stats(seeds),
      "seeds": seeds,
  }


def takeoff_stats(rows: Sequence[Mapping[str, Any]]
                  ) -> Optional[Dict[str, Any]]:
  """How many seeds took off and the min / median / max iteration at which
  the criterion first crossed its take-off level; None when none did (or the
  runs predate the record)."""
  steps = [r["takeoff_step"] for r in rows if r.get("takeoff_step") is not None]
  if not steps:
    return None
  return {"n": len(steps), "min": int(min(steps)),
          "median": float(np.median(steps)), "max": int(max(steps))}


def overall(entries: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
  """Success and detector accuracy pooled over every seed of ``entries``."""
  seeds = [s for e in entries for s in e["seeds"]]
  known = [s["success"] for s in seeds if s["success"] is not None]
  return {
      "n_seeds": len(seeds),
      "success_rate": float(np.mean(known)) if known else None,
      "detector_accuracy": detector_accuracy(
          [s.get("predicted_success") for s in seeds],
          [s["success"] for s in seeds]),
  }


def _baselines_agree(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
  pa, pb = a.get("refined_csls_p@1"), b.get("refined_csls_p@1")
  return pa is None or pb is None or abs(float(pa) - float(pb)) <= 1e-9


def _why_not_pooled(a: Mapping[str, Any], b: Mapping[str, Any]
                    ) -> Optional[str]:
  """Why two studies' rows of one config cannot pool (None: they can)."""
  if a.get("settings") is None or b.get("settings") is None:
    return "a study that did not record its settings cannot pool"
  if a["settings"] != b["settings"]:
    return "trained with different settings"
  if a.get("success_threshold") != b.get("success_threshold"):
    return "different success thresholds"
  seeds_a = [r.get("seed") for r in a["seeds"]]
  seeds_b = [r.get("seed") for r in b["seeds"]]
  if None in seeds_a + seeds_b:
    return "seeds not recorded"
  both = sorted(set(seeds_a) & set(seeds_b))
  if both:
    return f"both hold seed {', '.join(map(str, both))}"
  return None


def pool_entries(a: Mapping[str, Any], b: Mapping[str, Any],
                 study: int) -> Dict[str, Any]:
  """One config's rows from two studies of the same settings, as one entry.

  A study grows across calls in its workdir; this grows it across workdirs
  (e.g. seeds 1-9 run after seed 0's folder was lost): the statistics are
  recomputed over both studies' seed rows, in seed order.

  Args:
    a: the entry so far (``study``: its number, or ``pooled_from``).
    b: the other study's entry, with equal ``settings`` and other seeds.
    study: ``b``'s study number.
  """
  rows = sorted([{k: v for k, v in r.items() if k != "success"}
                 for r in [*a["seeds"], *b["seeds"]]], key=lambda r: r["seed"])
  entry = config_entry(a["config"], a["method"], a["pair"], rows,
                       a.get("success_threshold"))
  pooled = [*a.get("pooled_from", [a["study"]]), study]
  return dict(entry, settings=a["settings"], pooled_from=pooled,
              study="+".join(map(str, pooled)))


def merge_reports(reports: Sequence[Tuple[str, Mapping[str, Any]]],
                  names: Optional[Sequence[str]] = None) -> Dict[str, Any]:
  """Several studies' ``stability.json`` -> one report, rows side by side.

  Studies made with different schedules (``--set`` applies to every config
  of one call) become one table this way, each row naming its study. The
  rows are copied, never recomputed, except :func:`overall` (and
  ``takeoff``, derived from the seed rows of a study made before it).

  Args:
    reports: ``(label, report)`` per study, in order; the label (its file)
      names the study in errors and in the result.
    names: the configs to keep, in this order; None keeps every config, in
      study order.

  Returns:
    stability.json's dict with ``studies`` (``{study, source, command, date,
    device}`` per study, and ``code`` where the study recorded it) and a
    ``study`` number on each config entry; no ``command`` / ``date`` /
    ``device`` of its own.

  A config found in several studies becomes one row when they recorded the
  same ``settings`` and hold different seeds (:func:`pool_entries`; the row's
  ``study`` reads e.g. ``"2+5"``).

  Raises:
    errors.ConfigError: a config is in two studies that cannot pool, a
      named config is in
      none, or one pair's baselines (or success rules) differ, which would
      make the rows' success thresholds incomparable.
  """
  if not reports:
    raise errors.ConfigError("no study to merge")
  studies, found, baselines, rules = [], {}, {}, {}
  for number, (label, report) in enumerate(reports, 1):
    studies.append({"study": number, "source": label,
                    **{k: report.get(k) for k in ("command", "date",
                                                  "device")},
                    **({"code": report["code"]} if "code" in report else {})})
    rules.setdefault(report.get("success_rule"), label)
    for kind in ("configs", "skipped"):
      for e in report.get(kind) or []:
        name = e["config"]
        if name in found:
          if not (names is None or name in names):
            continue  # Not asked for: which copy is kept does not matter.
          first_label, first_kind, first = found[name]
          why = (_why_not_pooled(first, e) if kind == first_kind == "configs"
                 else "one of them skipped it")
          if why:
            raise errors.ConfigError(
                f"{name} is in both {first_label} and {label} ({why}); "
                "merge studies without a config in common, or name the "
                "others with --configs")
          found[name] = (f"{first_label}+{label}", kind,
                         pool_entries(first, e, number))
          continue
        entry = dict(e, study=number)
        if kind == "configs" and "takeoff" not in entry:  # An older study.
          entry["takeoff"] = takeoff_stats(entry["seeds"])
        found[name] = (label, kind, entry)
    for pair, b in (report.get("baselines") or {}).items():
      if pair in baselines and "skipped" not in b:
        first_label, first = baselines[pair]
        if "skipped" in first:
          baselines[pair] = (label, b)
        elif not _baselines_agree(first, b):
          raise errors.ConfigError(
              f"the {pair} baselines differ: refined CSLS P@1 "
              f"{first.get('refined_csls_p@1')} in {first_label}, "
              f"{b.get('refined_csls_p@1')} in {label}; their success "
              "thresholds are not comparable")
      baselines.setdefault(pair, (label, b))
  if len(rules) > 1:
    raise errors.ConfigError(
        "the studies use different success rules: " + "; ".join(
            f"{label}: {rule}" for rule, label in rules.items()))
  if names is None:
    names = list(found)
  missing = [n for n in names if n not in found]
  if missing:
    raise errors.ConfigError(
        f"{', '.join(missing)} in none of the studies; they hold "
        f"{', '.join(found) or 'no config'}")
  entries = [found[n][2] for n in names if found[n][1] == "configs"]
  pairs = {e["pair"] for e in entries}
  kept = {b["config"] for p, (_, b) in baselines.items() if p in pairs}
  return {
      "studies": studies,
      "configs": entries,
      "baselines": {p: b for p, (_, b) in baselines.items() if p in pairs},
      "skipped": [found[n][2] for n in names if found[n][1] == "skipped"],
      "reused": [r for _, report in reports for r in report.get("reused") or []
                 if r["config"] in set(names) | kept],
      "overall": overall(entries),
      "success_rule": next(iter(rules)),
  }
