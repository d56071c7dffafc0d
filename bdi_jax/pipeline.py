"""The whole experiment: ``train_and_evaluate(config, workdir)``.

Read top to bottom, a run is:

1. load and check: the config, then the data, then the config against the
   data, all before anything is written (bdi_jax/validate.py,
   bdi_jax/data/tasks.py);
2. start: adversarial training of ``config.n_seeds`` mappings at once
   (bdi_jax/adversarial.py), or a computed start (bdi_jax/starts.py:
   supervised Procrustes, Gromov-Wasserstein);
3. refine each seed's start (CSLS dictionary + Procrustes,
   bdi_jax/refine.py); when every seed is predicted to have failed and
   ``config.restarts`` allows, train and refine more seeds;
4. select the seed with the best refined criterion and write the outputs
   (bdi_jax/summary.py): config.json, metrics.jsonl, train.log,
   summary.json, report.md, W.npy, W-seed<N>.npy, dictionary.tsv, in a
   staging folder that replaces the workdir only once everything is written
   (bdi_jax/outputs.py).

Library functions take the settings they use (``scoring.Settings``,
``adversarial.Settings``), built here from the config.
"""

import json
import time
from typing import Any, Dict, List

import jax
import numpy as np

from bdi_jax import adversarial, derived, detector, multi_seed, outputs
from bdi_jax import provenance, refine, run_plan, takeoff
from bdi_jax import scoring, starts, summary as summary_lib, validate
from bdi_jax import console as console_lib
from bdi_jax.data import tasks
from bdi_jax.summary import SeedResult

__all__ = ["train_and_evaluate"]


def train_and_evaluate(config, workdir, *, overwrite: bool = False
                       ) -> Dict[str, Any]:
  """Runs one experiment and writes its outputs to ``workdir``.

  Running it again on the same workdir after an interruption (Ctrl-C,
  SIGTERM, a kill) resumes from the last checkpoint and gives the same
  results as an uninterrupted run.

  Returns:
    The summary dict written to ``summary.json``.

  Raises:
    BdiError subclasses for every user mistake (config, data, workdir), all
    before anything is written; ``errors.Interrupted`` after a Ctrl-C.
  """
  tic = time.perf_counter()
  provenance.code_version()  # Now, before the tree can change under the run.
  # 1. Load and check.
  validate.check_config(config)
  start = starts.STARTS.get(config.method)
  task = tasks.load_task(
      config.data, needs_train_dict=bool(start and start.needs_train_dict))
  validate.check_against_task(config, len(task.src.words), len(task.tgt.words))
  given = config  # config.json records what was asked, not what was derived.
  config, derived_sizes = derived.derive(
      config, len(task.src.words), len(task.tgt.words), task.src.dim)
  trainer = None
  if start is None:  # Adversarial: refuse now what would not fit in memory.
    trainer = multi_seed.build_trainer(config, task.src.dim)
    run_plan.check_fits(trainer, len(task.src.words), len(task.tgt.words),
                        task.src.dim, config.train.batch_size,
                        [config.seed + i for i in range(config.n_seeds)])
  with outputs.open_run(workdir, json.loads(given.to_json()),
                        overwrite=overwrite,
                        enabled=jax.process_index() == 0) as run:
    console = console_lib.Console(
        bars=config.progress, enabled=run.enabled,
        log_path=run.path("train.log") if run.enabled else None)
    log = lambda r: run.append_jsonl("metrics.jsonl", r)  # pylint: disable=unnecessary-lambda-assignment
    _log_task(task, console)
    if derived_sizes:
      console.log("derived from the data: " + ", ".join(
          f"{k} = {v:,}" for k, v in derived_sizes.items()))
    settings = scoring.settings_from_config(config)
    spaces = scoring.device_spaces(task)
    identity = scoring.identity_mapping(spaces, settings)
    null = _detector_null(config, spaces, settings, console, log)
    took_off = takeoff.make_test(spaces, settings, null, identity.criterion,
                                 config.eval)
    if start is None:
      console.log(f"take-off: a new best criterion above "
                  f"{took_off.threshold:.4f} (identity "
                  f"{identity.criterion:.4f}) whose refined mapping the "
                  "detector passes")
    seeds = [config.seed + i for i in range(config.n_seeds)]

    # 2. Start, and 3. refine.
    if start is not None:
      mappings = starts.start_mappings(task, spaces, config, seeds, settings,
                                       console)
      results = _refine(spaces, settings, seeds, mappings, None, log, console)
    else:
      results = _adversarial_and_refine(config, trainer, task, spaces,
                                        settings, seeds, took_off, run, log,
                                        console)
      if _all_failed(results, null, config):
        more = [seeds[-1] + 1 + i for i in range(config.restarts)]
        console.log(f"every seed is predicted to have failed (none stands out "
                    f"from what random starts refine to); restarts: training "
                    f"seeds {more}")
        log({"phase": "restart", "seeds": more})
        results += _adversarial_and_refine(
            config, trainer, task, spaces, settings, more, took_off, run, log,
            console, restart=True)

    # 4. Select and write.
    summary = summary_lib.write_outputs(run, config, task, spaces, settings,
                                        results, identity, null, started=tic,
                                        clock=time.perf_counter,
                                        derived={**derived_sizes,
                                                 "takeoff_criterion":
                                                 took_off.threshold})
    console.log(f"selected seed {summary['selected_seed']} (criterion "
                f"{summary['criterion']:.4f}, {summary['selected']})")
    if summary["status"] == detector.NO_SUCCESS:
      console.log(f"{detector.NO_SUCCESS}: no seed's refined criterion is "
                  "clearly above what random starts refine to on this data; "
                  "the dictionary is probably wrong (try more seeds or another "
                  "method)")
    run.finish()
    return summary


def _all_failed(results, null, config) -> bool:
  """Whether restarts are due: the detector ran and passed no seed."""
  return bool(null is not None and config.get("restarts") and not any(
      summary_lib.verdict(r.refined, null, config).success for r in results))


def _detector_null(config, spaces, settings, console, log):
  """What random starts refine to here: the failure detector's reference.

  None without null starts, or with fewer than 2 refinement rounds: the
  detector's stability signal compares the last two rounds' dictionaries,
  and without it a misaligned map on clustered data passes the criterion's
  tests alone (a 12-d synthetic seed at P@1 0.015 did).
  """
  if config.refine.n_rounds < 2 and config.eval.get("detector_null_starts"):
    console.log("failure detector off: it needs refine.n_rounds >= 2")
    return None
  null = detector.measure_null(
      spaces, settings, jax.random.fold_in(jax.random.key(config.seed), 2),
      config.eval.get("detector_null_starts", 0))
  if null is not None:
    console.log(f"detector null: {len(null.criteria)} random starts refine "
                f"to criterion {null.mean:.4f} (std {np.std(null.criteria):.4f})")
    log({"phase": "detector_null", "criteria": null.criteria.tolist(),
         "overlaps": null.overlaps.tolist()})
  return null


def _log_task(task, console) -> None:
  console.log(task.description)
  if task.test_coverage is not None:
    c = task.test_coverage
    console.log(f"test dictionary: {c.pairs_found}/{c.pairs_total} pairs, "
                f"{c.source_words_found}/{c.source_words_total} source words "
                "in the vocabularies")


def _adversarial_and_refine(config, trainer, task, spaces, settings, seeds,
                            took_off, run, log, console, *,
                            restart: bool = False
                            ) -> List[SeedResult]:
  """Trains ``seeds`` adversarially and refines each seed's best mapping.

  ``restart``: seeds trained because every first seed failed; they use no
  per-seed learning-rate scales and no checkpoint (a resumed run resumes
  from the first seeds' and trains the restart again).
  """
  loop_settings = adversarial.settings_from_config(config)
  if restart:
    loop_settings = loop_settings._replace(map_lr_scales=())
  start_w = None
  if config.train.init_start and not (run.resumed and not restart):
    # Every seed's mapping starts from a computed one (e.g. GW) instead of I.
    start_w = starts.start_weights(config.train.init_start, task, spaces,
                                   config, seeds)
  loop = adversarial.adversarial_training(
      spaces, trainer, loop_settings, settings, seeds, took_off,
      start_w=start_w, run=run, checkpoints=not restart, console=console)
  return _refine(spaces, settings, seeds, list(loop.best), loop, log,
                 console)


def _refine(spaces, settings, seeds, mappings, loop, log, console
            ) -> List[SeedResult]:
  """Refines every seed's start; a start shared by several seeds (a
  deterministic computed start) is refined once."""
  unique = list({id(m): m for m in mappings if m is not None}.values())
  first_seed = {id(m): s for s, m in reversed(list(zip(seeds, mappings)))
                if m is not None}
  refined = dict(zip(
      (id(m) for m in unique),
      refine.refine_mappings(spaces, unique, settings,
                             [first_seed[id(m)] for m in unique],
                             log=log, console=console)))
  return [SeedResult(s, m, None if m is None else refined[id(m)], loop, i)
          for i, (s, m) in enumerate(zip(seeds, mappings))]
