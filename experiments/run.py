r"""Command line: the only module that reads flags.

  python -m experiments.run --config=gan_es_en --workdir=runs/gan_es_en
  python -m experiments.run --config=wgangp_en_zh --config.n_seeds=4
  python -m experiments.run --list_configs

``--config`` takes a registered name (see ``--list_configs``) or a path to a
config file with ``get_config()``; ``--config.FIELD=VALUE`` overrides a field.
"""

import datetime
import os
import pathlib
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from bdi_jax import errors
from experiments import cli
from experiments.configs import registry

REGISTRY_FILE = pathlib.Path(registry.__file__).resolve()
DEFAULT_CONFIG = "gan_synthetic"

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
_LIST = flags.DEFINE_bool(
    "list_configs", False,
    "Print each config name, what it is and whether its data is present.")
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
  """Rewrites ``--config=NAME`` to the registry file, so bare names work.

  Without ``--config`` it adds ``--config=DEFAULT_CONFIG`` first (overrides
  must follow it). Exits with a clear message (and close matches) for an
  unknown name.
  """
  out = list(argv)
  if out and out[-1] == "--config":
    return out  # No value: absl says so.
  for i, arg in enumerate(out):
    if arg.startswith("--config="):
      value, prefix = arg[len("--config="):], "--config="
    elif arg == "--config" and i + 1 < len(out):
      value, prefix, i = out[i + 1], "", i + 1
    else:
      continue
    spec = value.split(":", 1)[0]
    if spec.endswith(".py") or os.sep in spec:
      return out  # A path: ml_collections handles it (and its errors).
    try:
      registry.get_config(value)
    except ValueError as e:
      sys.exit(f"error: {e}")
    out[i] = f"{prefix}{REGISTRY_FILE}:{value}"
    return out
  return out[:1] + [f"--config={REGISTRY_FILE}:{DEFAULT_CONFIG}"] + out[1:]


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _LIST.value:
    # One line a name: what it is, and whether its files are on disk.
    names = sorted(registry.CONFIGS)
    width = max(map(len, names))
    for name in names:
      print(f"{name:<{width}}  {registry.DESCRIPTIONS[name]} -- "
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

  cli.enable_compilation_cache()
  # Imported here so that --help and --list_configs do not start JAX.
  from bdi_jax import pipeline  # pylint: disable=g-import-not-at-top
  from bdi_jax import report  # pylint: disable=g-import-not-at-top
  workdir = _WORKDIR.value or os.path.join(
      "runs", config.name, datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
  summary = pipeline.train_and_evaluate(config, workdir,
                                        overwrite=_OVERWRITE.value)
  print(report.format_report(summary))
  print(f"outputs in {workdir}")


if __name__ == "__main__":
  sys.argv = resolve_config_argv(sys.argv)
  cli.run(main)
