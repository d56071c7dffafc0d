"""The last phases of a run: pick the seed, then write what the run found.

:func:`select_seed` is the unsupervised model selection of Conneau et al.
(the best refined criterion, across seeds as across epochs);
:func:`write_outputs` writes ``W.npy`` (the selected seed),
``W-seed<N>.npy`` (every seed), ``dictionary.tsv``, ``summary.json`` (built
by :func:`build_summary`) and ``report.md`` into the run's staging folder.
"""

import json
from typing import Any, Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from bdi_jax import detector, errors, induction, outputs, provenance, report
from bdi_jax import scoring
from bdi_jax.loop_state import LoopState

__all__ = ["SeedResult", "select_seed", "verdict", "seed_row", "status",
           "build_summary", "write_outputs"]


class SeedResult(NamedTuple):
  """One seed's start (adversarial best or computed), its refined mapping,
  and the loop state it trained in (None for computed starts) with its
  index there."""
  seed: int
  start: Optional[scoring.Mapping]
  refined: Optional[scoring.Mapping]
  loop: Optional[LoopState] = None
  index: int = 0


def select_seed(results: Sequence[SeedResult]) -> int:
  """Index of the seed with the best refined criterion."""
  candidates = [(r.refined.criterion, -i) for i, r in enumerate(results)
                if r.refined is not None and np.isfinite(r.refined.criterion)]
  if not candidates:
    raise errors.TrainingFailed(
        "every seed failed (non-finite losses or mapping); lower "
        "config.train.map_lr / dis_lr, see train.log")
  return -max(candidates)[1]


def verdict(refined: Optional[scoring.Mapping], null: Optional[detector.Null],
            config) -> detector.Verdict:
  """The failure detector's view of a refined mapping (``config.eval``'s
  thresholds)."""
  if refined is None:
    return detector.judge(None, None, null, **detector.thresholds(config.eval))
  return detector.judge(refined.criterion,
                        refined.signals.get("dictionary_overlap"), null,
                        **detector.thresholds(config.eval))


def seed_row(r: SeedResult, spaces: scoring.Spaces,
             settings: scoring.Settings, identity: scoring.Mapping,
             judged: detector.Verdict) -> Dict[str, Any]:
  """One seed's row of ``summary.json``."""
  refined, start, loop, i = r.refined, r.start, r.loop, r.index
  signals = refined.signals if refined else {}
  criterion = refined.criterion if refined else None
  return {
      "seed": r.seed,
      "criterion": criterion,
      "adversarial_criterion": start.criterion if start else None,
      "adversarial": start.precision if start else None,
      "refined": refined.precision if refined else None,
      "refined_by_band": (scoring.precision_by_band(spaces, refined, settings)
                          if refined else None),
      "selected": refined.origin if refined else None,
      "adversarial_selected": start.origin if start else None,
      "failed": loop.failed[i] if loop else None,
      "rollbacks": int(loop.rollbacks[i]) if loop else 0,
      "takeoff_step": loop.takeoff_step[i] if loop else None,
      "stopped": loop.stopped[i] if loop else None,
      # Epochs that ended with the seed alive, and criterion checks in all.
      "epochs": len(loop.epoch_criteria[i]) if loop else None,
      "checks": len(loop.history[i]) if loop else None,
      "mutual_fraction": signals.get("mutual_fraction"),
      "dictionary_overlap": signals.get("dictionary_overlap"),
      "criterion_gain": (None if criterion is None
                         else criterion - identity.criterion),
      **judged.as_dict(),
  }


def build_summary(config, task, spaces: scoring.Spaces,
                  settings: scoring.Settings, results: List[SeedResult],
                  chosen: int, identity: scoring.Mapping,
                  null: Optional[detector.Null], *, dictionary_size: int,
                  resumed: bool, wall_seconds: float,
                  derived: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
  """The run's ``summary.json``."""
  head = results[chosen]
  computed_start = head.loop is None
  verdicts = [verdict(r.refined, null, config) for r in results]
  return {
      "name": config.name,
      "method": config.method,
      "src": config.data.src_lang,
      "tgt": config.data.tgt_lang,
      "synthetic": task.synthetic,
      "data": task.description,
      "seed": head.seed,
      "selected_seed": head.seed,
      # "ok", or "no seed succeeded" when the detector passed none (or was
      # off: eval.detector_null_starts = 0 gives "not checked").
      "status": status(verdicts, null),
      "wall_seconds": wall_seconds,
      "criterion": head.refined.criterion,
      "adversarial": head.start.precision,
      "refined": head.refined.precision,
      "adversarial_by_band": scoring.precision_by_band(spaces, head.start,
                                                       settings),
      "refined_by_band": scoring.precision_by_band(spaces, head.refined,
                                                   settings),
      "selected": head.refined.origin,
      "adversarial_selected": head.start.origin,
      "test_coverage": (task.test_coverage.as_dict()
                        if task.test_coverage is not None else None),
      "train_pairs": (int(len(task.train_pairs))
                      if task.train_pairs is not None and computed_start
                      else None),
      "dictionary_size": dictionary_size,
      "resumed": resumed,
      **provenance.describe(),
      "identity_criterion": identity.criterion,
      # What the run derived from its data (bdi_jax/derived.py).
      "derived": dict(derived or {}),
      "detector_null": (None if null is None else {
          "criteria": null.criteria.tolist(), "mean": null.mean,
          "spread": null.spread, "overlaps": null.overlaps.tolist()}),
      "restarted_seeds": [r.seed for r in results[config.n_seeds:]],
      "seeds": [seed_row(r, spaces, settings, identity, v)
                for r, v in zip(results, verdicts)],
  }


def status(verdicts: Sequence[detector.Verdict],
           null: Optional[detector.Null]) -> str:
  if null is None:
    return "not checked"
  return "ok" if any(v.success for v in verdicts) else detector.NO_SUCCESS



def _epoch_lines(run) -> List[Dict[str, Any]]:
  path = run.path("metrics.jsonl")
  if not run.enabled or not path.exists():
    return []
  lines = [json.loads(l) for l in path.read_text().splitlines() if l]
  return [l for l in lines if l.get("phase") in ("adversarial", "refinement")]


def write_outputs(run, config, task, spaces: scoring.Spaces,
                  settings: scoring.Settings, results: List[SeedResult],
                  identity: scoring.Mapping, null: Optional[detector.Null], *,
                  started: float, clock,
                  derived: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
  """Selects the seed and writes every output file; returns the summary."""
  chosen = select_seed(results)
  head = results[chosen].refined
  for r in results:
    if r.refined is not None:
      run.save_array(f"W-seed{r.seed}.npy", r.refined.w)
  run.save_array("W.npy", head.w)
  induced = induction.build_dictionary(
      scoring.mapped_source(spaces, head.w), spaces.tgt_unit, head.ctx,
      method=settings.refine_method, mode=settings.refine_mode,
      max_rank=settings.max_rank, batch_size=settings.batch_size)
  if run.enabled:
    outputs.write_dictionary_tsv(
        run.path("dictionary.tsv"),
        ((task.src.words[s], task.tgt.words[t], float(v))
         for (s, t), v in zip(induced.pairs, induced.scores)))
  summary = build_summary(
      config, task, spaces, settings, results, chosen, identity, null,
      dictionary_size=int(len(induced.pairs)), resumed=run.resumed,
      wall_seconds=clock() - started, derived=derived)
  run.write_json("summary.json", summary)
  run.write_text("report.md", report.markdown_report(summary,
                                                     _epoch_lines(run)))
  return summary
