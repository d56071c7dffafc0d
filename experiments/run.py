r"""Command line: the only module that reads flags.

  python -m experiments.run --config=gan_es_en --workdir=runs/gan_es_en
  python -m experiments.run --config=wgangp_en_zh --config.n_seeds=4
  python -m experiments.run --list_configs
  python -m experiments.run --config=wgangp --src_emb=wiki.de.vec \
      --tgt_emb=wiki.en.vec --dico_eval=de-en.txt     # own vectors, MUSE's flags

``--config`` takes a registered name (see ``--list_configs``; a method alone,
e.g. ``wgangp``, is its general preset) or a path to a config file with
``get_config()``; ``--config.FIELD=VALUE`` overrides a field.
"""

import datetime
import os
import pathlib
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from bdi_jax import errors
from bdi_jax import interrupts
from bdi_jax import workdir_lock
from experiments import cli
from experiments import own_vectors
from experiments.configs import registry

REGISTRY_FILE = pathlib.Path(registry.__file__).resolve()
DEFAULT_CONFIG = "gan_synthetic"
# The command line as typed, before --config=NAME is expanded to the
# registry file's path (see resolve_config_argv).
TYPED_ARGV = []

# No default here: ml_collections would load it, and apply the --config.FIELD
# overrides to it, when this module is imported, outside cli.run's error
# handling. resolve_config_argv adds --config=DEFAULT_CONFIG instead.
_CONFIG = config_flags.DEFINE_config_file(
    "config", None,
    "A registered config name (e.g. gan_es_en) or a config file path; "
    f"{DEFAULT_CONFIG} when not given.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Output folder (default: runs/<config>/<date-time>).")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Replace results already in --workdir.")
_STRICT = flags.DEFINE_bool(
    "strict", False,
    "Exit with status 3 when the failure detector predicts that no seed "
    "succeeded (summary.json \"status\": \"no seed succeeded\"); the "
    "outputs are written all the same.")
_DRY_RUN = flags.DEFINE_bool(
    "dry_run", False,
    "Print the plan, the data files (present, or how to fetch them) and "
    "estimates of memory and time, then stop without training.")
_LIST = flags.DEFINE_bool(
    "list_configs", False,
    "Print each config name, what it is and whether its data is present.")
# MUSE's names for a user's own vectors (experiments/own_vectors.py).
_SRC_EMB = flags.DEFINE_string(
    "src_emb", None,
    "Source embeddings (.vec, .vec.gz, word2vec .bin), as MUSE's --src_emb; "
    "sets config.data.*. A relative path is looked up in the current folder, "
    "then under the data root.")
_TGT_EMB = flags.DEFINE_string("tgt_emb", None,
                               "Target embeddings, as --src_emb.")
_SRC_LANG = flags.DEFINE_string(
    "src_lang", None, "Source language code (default: from the --src_emb file "
    "name, e.g. wiki.de.vec -> de).")
_TGT_LANG = flags.DEFINE_string(
    "tgt_lang", None, "Target language code (default: from the --tgt_emb file "
    "name).")
_DICO_EVAL = flags.DEFINE_string(
    "dico_eval", None, "Test dictionary (src tgt lines) for P@k, as MUSE's "
    "--dico_eval; '' for none (the default with --src_emb).")
_DICO_TRAIN = flags.DEFINE_string(
    "dico_train", None, "Training dictionary of the supervised methods "
    "(procrustes), a path or 'identical' (words written the same).")
_DISTRIBUTED = flags.DEFINE_bool(
    "distributed", False,
    "Call jax.distributed.initialize() first (multi-host; the coordinator is "
    "taken from the flags below or detected from the cluster environment).")
_COORDINATOR = flags.DEFINE_string("coordinator_address", None,
                                   "host:port of process 0 (multi-host).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None,
                                      "Number of processes (multi-host).")
_PROCESS_ID = flags.DEFINE_integer("process_id", None,
                                   "This process's index (multi-host).")


def resolve_config_argv(argv):
  """``--config=NAME`` -> this registry's file (see cli.resolve_config_argv);
  ``--config=DEFAULT_CONFIG`` when none is given."""
  return cli.resolve_config_argv(argv, registry.get_config, REGISTRY_FILE,
                                 default=DEFAULT_CONFIG)


def _process_index() -> int:
  import jax  # pylint: disable=g-import-not-at-top
  return jax.process_index()


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _LIST.value:
    # One line a name: what it is, and whether its files are on disk.
    names = registry.names()
    width = max(map(len, names))
    for name in names:
      print(f"{name:<{width}}  {registry.describe(name)} -- "
            f"{registry.data_status(name)}")
    return
  if _DISTRIBUTED.value:
    import jax  # pylint: disable=g-import-not-at-top
    jax.distributed.initialize(
        coordinator_address=_COORDINATOR.value,
        num_processes=_NUM_PROCESSES.value, process_id=_PROCESS_ID.value)

  try:
    config = _CONFIG.value
    config.name  # pylint: disable=pointless-statement
  except OSError as e:  # ml_collections could not load the config file.
    raise errors.ConfigError(f"--config: {' '.join(str(e).split())}") from None
  config = own_vectors.apply(config, own_vectors.Flags(
      _SRC_EMB.value, _TGT_EMB.value, _SRC_LANG.value, _TGT_LANG.value,
      _DICO_EVAL.value, _DICO_TRAIN.value))
  sys.argv = TYPED_ARGV or sys.argv  # summary.json records what was typed.
  if _DRY_RUN.value:
    from experiments import dry_run  # pylint: disable=g-import-not-at-top
    print(dry_run.describe(config))
    return

  workdir = _WORKDIR.value or os.path.join(
      "runs", config.name, datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
  if not _DISTRIBUTED.value or _process_index() == 0:  # The one writer.
    # Before JAX starts: a second command on this workdir is refused at once.
    if os.path.isfile(workdir):
      raise errors.WorkdirError(f"--workdir {workdir} is a file, not a "
                                "folder; choose another --workdir")
    lock = workdir_lock.acquire(workdir)
    if lock.note:
      print(lock.note, file=sys.stderr, flush=True)
    interrupts.install(on_exit=workdir_lock.release_held)
  cli.enable_compilation_cache()
  # Imported here so that --help and --list_configs do not start JAX.
  from bdi_jax import pipeline  # pylint: disable=g-import-not-at-top
  from bdi_jax import report  # pylint: disable=g-import-not-at-top
  from bdi_jax import detector  # pylint: disable=g-import-not-at-top
  summary = pipeline.train_and_evaluate(config, workdir,
                                        overwrite=_OVERWRITE.value)
  print(report.format_report(summary))
  print(f"outputs in {workdir}")
  if _STRICT.value and summary["status"] == detector.NO_SUCCESS:
    cli.fail(f"--strict: {summary['status']} (see {workdir}/report.md)", 3)


if __name__ == "__main__":
  TYPED_ARGV[:] = sys.argv
  sys.argv = resolve_config_argv(sys.argv)
  cli.run(main)
