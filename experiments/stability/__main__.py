r"""The stability study: many seeds per config, success against a baseline.

  python -m experiments.stability --configs=gan_es_en,wgangp_es_en \
      --seeds=0-9 --workdir=runs/stability_es_en [--set=train.n_epochs=2]

For each pair (dataset) of the configs, the supervised ``procrustes_<pair>``
baseline runs once; then each config trains its seeds, every run of
consecutive seeds at once (vmapped; ``--seeds=0,2,5-7`` makes three runs).
A seed succeeds when its refined CSLS P@1 is at least half the baseline's
(``bdi_jax.study_stats``). Writes into ``--workdir``:

* ``<config>/seeds-A-B/``: each run's own outputs (``experiments.run``'s);
* ``stability.json``: per config the success rate, the failure detector's
  accuracy, mean / std / min / max of every P@k before and after refinement,
  seconds per seed, and every seed's row; the baselines;
* ``stability.md``: the same as tables, with the command, date and device;
* ``stability.png``: refined CSLS P@1 of every seed, per config (needs
  matplotlib: ``pip install -e ".[lab]"``).

``--set=FIELD=VALUE`` applies to every config (and the baselines' data,
refinement and evaluation fields alike); a typo or a wrong type stops the
command before any training. A config whose data is missing is reported and
skipped. Rerunning the command reuses every finished run of the same config
whose seeds were all requested, so an interrupted study continues where it
stopped and a study grows across calls (``--seeds=0`` today, ``--seeds=0-9``
tomorrow trains seeds 1-9 only); stability.md lists the runs it reused, with
the date and device each finished on. The report a call replaces moves to
``history/<when it was written>/``, so no call's table is lost. A second
study (or merge) on a ``--workdir`` that one is writing is refused at once,
naming the process (its lock: ``<workdir>.lock`` beside it).

Studies made with different ``--set`` (the thesis presets at a take-off
budget beside the tuned ones) become one side-by-side report without
training anything:

  python -m experiments.stability --merge=runs/tuned_es_en,runs/thesis_es_en \
      --workdir=runs/es_en_all [--configs=gan_es_en,gan_thesis_es_en,...]

Each row keeps its study's numbers; the report lists every study's command,
date and device, and refuses studies whose baselines for a pair differ.
Each row is checked against today's preset (with its study's ``--set``), and
rows whose preset changed since are named. One config's rows from studies of
equal recorded settings and different seeds pool into one row.
"""

import datetime
import pathlib
import shlex
import sys

from absl import app
from absl import flags
from absl import logging

from bdi_jax import interrupts
from bdi_jax import provenance
from bdi_jax import workdir_lock
from experiments import cli
from experiments.stability import execute
from experiments.stability import markdown
from experiments.stability import merge
from experiments.stability import plan as plan_lib
from experiments.stability import report as report_lib

FLAGS = flags.FLAGS

# Flags that train: meaningless with --merge, which only reads reports.
_TRAINING_FLAGS = ("seeds", "set", "seeds_per_run", "overwrite")


def define_flags() -> None:
  """This command's flags; defined only when it runs, since every command
  (and experiments.run) has its own ``--workdir``."""
  flags.DEFINE_list("configs", None, "Registered config names.")
  flags.DEFINE_string(
      "seeds", "0", "Seeds: ranges and lists, e.g. 0-9 or 0,2,5-7.")
  flags.DEFINE_string(
      "workdir", None, "Output folder (default: runs/stability-<date-time>).")
  flags.DEFINE_bool(
      "overwrite", False, "Rerun and replace finished runs in --workdir.")
  flags.DEFINE_integer(
      "seeds_per_run", 0, "At most this many consecutive seeds train together "
      "in one (vmapped) run; 0 = all of them. On a CPU a wide critic (the "
      "thesis presets' 2 x 2048) trains faster one seed at a time.",
      lower_bound=0)
  flags.DEFINE_multi_string(
      "set", [], "FIELD=VALUE override for every config, typed like "
      "--config.FIELD (e.g. --set=train.n_epochs=2); repeatable.")
  flags.DEFINE_list(
      "merge", None, "Train nothing: merge these earlier studies (their "
      "workdirs or stability.json files) into one report in --workdir, rows "
      "side by side, e.g. tuned and thesis presets run with different "
      "--set. --configs, if given, picks and orders the rows.")


def _command() -> str:
  """This call as a report records it."""
  return "python -m experiments.stability " + shlex.join(sys.argv[1:])


def main(argv):
  """Plans, runs and reports a study; or, with --merge, merges reports."""
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  names = FLAGS.configs
  if names and len(set(names)) < len(names):
    twice = sorted({n for n in names if names.count(n) > 1})
    raise app.UsageError(f"--configs: {', '.join(twice)} listed twice")
  if FLAGS.merge:
    if not FLAGS.workdir:
      raise app.UsageError("--merge needs --workdir (where the merged "
                           "stability.json/md/png go)")
    for flag in _TRAINING_FLAGS:
      if FLAGS[flag].present:
        raise app.UsageError(f"--{flag} trains; --merge only reads finished "
                             "studies")
    workdir = pathlib.Path(FLAGS.workdir)
    with execute.lock_study(workdir):
      report = merge.merge_main(names, FLAGS.merge, workdir, _command())
    print(markdown.summary_table(report))
    print(f"outputs in {FLAGS.workdir} (stability.json, stability.md, "
          "stability.png)")
    return
  if not names:
    raise app.UsageError("--configs is required, e.g. --configs=gan_es_en,"
                         "wgangp_es_en (see python -m experiments.run "
                         "--list_configs)")
  seeds = plan_lib.parse_seeds(FLAGS.seeds)
  workdir = pathlib.Path(FLAGS.workdir or (
      "runs/stability-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
  # Held until the report is written: a second study on this workdir is
  # refused at once, before any training (each run locks its own folder).
  with execute.lock_study(workdir):
    # A signal stops the run in flight within seconds, its state saved, even
    # mid-chunk (a wide critic's chunk can take minutes); see run.py.
    interrupts.install(on_exit=workdir_lock.release_held)
    # Every config, override and workdir is checked before any training.
    planned = plan_lib.plan(names, seeds, FLAGS.set, workdir, FLAGS.overwrite,
                            FLAGS.seeds_per_run)
    report = {
        "command": _command(),
        "date": datetime.date.today().isoformat(),
        "device": execute.device_description(),
        "code": provenance.code_version(),
        "overrides": list(FLAGS.set),
    }
    cli.enable_compilation_cache()
    report.update(execute.run_study(*planned, overwrite=FLAGS.overwrite))
    workdir.mkdir(parents=True, exist_ok=True)
    report_lib.note_dropped_rows(workdir / "stability.json", report)
    report_lib.write_outputs(report, workdir)
  print(markdown.summary_table(report))
  print(f"outputs in {workdir} (stability.json, stability.md, stability.png)")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
