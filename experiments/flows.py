r"""Command line of the flow experiments (source thesis, Chapter 5).

  python -m experiments.flows --config=mle_mixflow_gmm --seeds=0-4
  python -m experiments.flows --config=pgan_swissroll --config.epochs=1000
  python -m experiments.flows --list_configs

One config per table row (``--list_configs``); ``--config.FIELD=VALUE``
overrides a field. Writes ``summary.json`` (the row, mean +- std over the
seeds), ``metrics.jsonl``, ``curves.npz`` and ``params.msgpack`` into a
staged ``--workdir`` (default ``runs/flows/<config>``).
"""

import os
import pathlib
import shlex
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from bdi_jax import errors
from experiments import cli
from experiments.flow_configs import registry

REGISTRY_FILE = pathlib.Path(registry.__file__).resolve()

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "A flow config name (see --list_configs) or a config "
    "file path.", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Output folder (default: runs/flows/<config>).")
_SEEDS = flags.DEFINE_string(
    "seeds", "0", "Seeds, trained at once: '0-4' (a range) or '0,3,7'.")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Replace results already in --workdir.")
_LIST = flags.DEFINE_bool("list_configs", False,
                          "Print each config name and what it is.")


def format_row(summary) -> str:
  nll = summary["nll_batch_sum"]
  parts = [f"{summary['name']}: NLL (sum over a batch) {nll['mean']:.2f} "
           f"+- {nll['std']:.2f} over seeds {summary['seeds']}"]
  if "reference_nll_batch_sum" in summary:
    parts.append(f"true GMM on the same batches "
                 f"{summary['reference_nll_batch_sum']['mean']:.2f}")
  if "critic_loss" in summary:
    parts.append(f"critic loss {summary['critic_loss']['mean']:.4f}")
  if "test_nll_per_row" in summary:
    parts.append(f"test NLL per image "
                 f"{summary['test_nll_per_row']['mean']:.2f}")
  parts.append(f"dominant components "
               f"{summary['dominant_components']['values']}")
  return "; ".join(parts)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if _LIST.value:
    width = max(map(len, registry.CONFIGS))
    for name in sorted(registry.CONFIGS):
      print(f"{name:<{width}}  {registry.DESCRIPTIONS[name]}")
    return
  if _CONFIG.value is None:
    raise app.UsageError("--config is required (see --list_configs)")
  try:
    config = _CONFIG.value
    config.name  # pylint: disable=pointless-statement
  except OSError as e:
    raise errors.ConfigError(f"--config: {' '.join(str(e).split())}") from None
  seeds = cli.parse_seeds(_SEEDS.value)
  cli.enable_compilation_cache()
  from bdi_jax.flows import experiment  # pylint: disable=g-import-not-at-top
  workdir = _WORKDIR.value or os.path.join("runs", "flows", config.name)
  command = " ".join(["python -m experiments.flows"]
                     + [shlex.quote(a) for a in sys.argv[1:]]).replace(
                         f"{REGISTRY_FILE}:", "")
  try:
    summary = experiment.run(config, workdir, seeds,
                             overwrite=_OVERWRITE.value, command=command)
  except ValueError as e:
    if isinstance(e, errors.BdiError):
      raise
    raise errors.ConfigError(f"--config: {e}") from None
  print(format_row(summary))
  print(f"outputs in {workdir}")


if __name__ == "__main__":
  sys.argv = cli.resolve_config_argv(sys.argv, registry.get_config,
                                     REGISTRY_FILE)
  cli.run(main)
