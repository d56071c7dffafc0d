r"""Runs several configs and tabulates P@1 per seed: the objective comparison.

  python -m experiments.compare --configs=gan_es_en,wgangp_es_en \
      --seeds=0,1,2 --workdir=runs/compare

Each config trains all its seeds at once (vmapped), then refines each seed.
Writes ``<workdir>/<config>/`` run folders, ``<workdir>/comparison.md`` and
``<workdir>/comparison.json``; a config whose data is missing is reported and
skipped, the others still run.
"""

import datetime
import json
import pathlib
import platform
import sys

from absl import app
from absl import flags
from absl import logging

from experiments.configs import registry

_CONFIGS = flags.DEFINE_list("configs", None, "Registered config names.")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds (trained together).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output folder.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace earlier results.")
_SET = flags.DEFINE_multi_string(
    "set", [], "FIELD=VALUE overrides applied to every config, e.g. "
    "--set=train.n_epochs=2 (values parsed as Python literals).")


def _override(config, assignment: str) -> None:
  import ast  # pylint: disable=g-import-not-at-top
  field, _, value = assignment.partition("=")
  try:
    parsed = ast.literal_eval(value)
  except (ValueError, SyntaxError):
    parsed = value
  *parents, leaf = field.split(".")
  node = config
  for p in parents:
    node = node[p]
  node[leaf] = parsed


def _row(summary, seed_result):
  def p(phase, method):
    block = seed_result.get(phase) or {}
    return block.get(method, {}).get("p@1", float("nan"))
  return (f"| {summary['name']} | {seed_result['seed']} "
          f"| {p('adversarial', 'nn'):.3f} | {p('adversarial', 'csls'):.3f} "
          f"| {p('refined', 'nn'):.3f} | {p('refined', 'csls'):.3f} "
          f"| {seed_result['criterion']:.4f} | {summary['wall_seconds']:.0f} |")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  from bdi_jax import pipeline  # pylint: disable=g-import-not-at-top
  from bdi_jax.data import tasks  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top

  names = _CONFIGS.value or []
  for name in names:
    registry.get_config(name)  # Fail on a typo before hours of training.
  seeds = [int(s) for s in _SEEDS.value]
  workdir = pathlib.Path(_WORKDIR.value or (
      "runs/compare-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
  workdir.mkdir(parents=True, exist_ok=True)

  header = ["| config | seed | adv NN | adv CSLS | ref NN | ref CSLS | "
            "criterion | wall s (all seeds) |",
            "|---|---|---|---|---|---|---|---|"]
  rows, results = [], []
  for name in names:
    config = registry.get_config(name)
    config.seed, config.n_seeds = seeds[0], len(seeds)
    if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
      raise app.UsageError("--seeds must be consecutive (trained as a batch)")
    for assignment in _SET.value:
      _override(config, assignment)
    try:
      summary = pipeline.train_and_evaluate(config, workdir / name,
                                            overwrite=_OVERWRITE.value)
    except (tasks.MissingDataError, FileExistsError) as e:
      print(f"skipping {name}: {e}", file=sys.stderr)
      results.append({"name": name, "skipped": str(e)})
      continue
    results.append(summary)
    rows += [_row(summary, s) for s in summary["seeds"]]
    print("\n".join(header + rows), flush=True)

  device = jax.devices()[0]
  footer = (f"\nCommand: `python -m experiments.compare {' '.join(sys.argv[1:])}`"
            f"; device: {device.platform} ({device.device_kind}, "
            f"{platform.processor() or platform.machine()}); date: "
            f"{datetime.date.today().isoformat()}.\n")
  (workdir / "comparison.md").write_text("\n".join(header + rows) + footer)
  (workdir / "comparison.json").write_text(json.dumps(results, indent=2))
  print(footer)


if __name__ == "__main__":
  app.run(main)
