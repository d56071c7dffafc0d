"""Planning a stability study: seeds, runs, baselines and the runs to reuse.

Everything here happens before any training, so that a typo in a config name,
an override or a workdir stops the command at once.
"""

import dataclasses
import functools
import json
import pathlib
from typing import Any, Dict, List, Sequence

from absl import app
import ml_collections

from bdi_jax import errors
from experiments.cli import parse_seeds
from experiments.configs import default
from experiments.configs import overrides
from experiments.configs import registry

__all__ = ["Run", "parse_seeds", "consecutive_runs", "seed_label",
           "config_json", "without_seeds", "differing_fields", "plan"]

# Fields that make a config what it is: never copied onto a baseline.
_IDENTITY_FIELDS = ("name", "method", "seed", "n_seeds")


def consecutive_runs(seeds: Sequence[int],
                     per_run: int = 0) -> List[List[int]]:
  """Sorted seeds -> runs of consecutive seeds (``[0, 1, 2, 5]`` -> 2 runs),
  each of at most ``per_run`` seeds (0 = no limit).

  The pipeline trains ``config.seed .. config.seed + n_seeds - 1`` at once.
  """
  runs: List[List[int]] = []
  for s in seeds:
    if runs and s == runs[-1][-1] + 1 and (per_run < 1
                                           or len(runs[-1]) < per_run):
      runs[-1].append(s)
    else:
      runs.append([s])
  return runs


def seed_label(seeds: Sequence[int]) -> str:
  """``seeds-3`` or ``seeds-0-9``: a run's folder name."""
  return (f"seeds-{seeds[0]}" if len(seeds) == 1
          else f"seeds-{seeds[0]}-{seeds[-1]}")


@dataclasses.dataclass
class Run:
  """One call of the pipeline: a config, its seeds, its own workdir."""
  name: str
  config: ml_collections.ConfigDict
  workdir: pathlib.Path
  seeds: List[int]
  reuse: bool = False  # A finished run of this exact config is there.


def _get_config(name: str) -> ml_collections.ConfigDict:
  try:
    return registry.get_config(name)
  except errors.ConfigError:
    raise
  except ValueError as e:  # An unknown name: the registry's own message.
    raise errors.ConfigError(f"--configs: {e}") from None


# --- comparing configs -----------------------------------------------------

def config_json(config) -> Dict[str, Any]:
  """A config as the plain dict its run saved in ``config.json``."""
  return json.loads(config.to_json())


def without_seeds(config: Dict[str, Any]) -> Dict[str, Any]:
  """A :func:`config_json` dict less ``seed``, ``n_seeds`` and ``restarts``
  (restarts add seeds after a run's own; they change none of its seeds'
  results)."""
  return {k: v for k, v in config.items()
          if k not in ("seed", "n_seeds", "restarts")}


def _flat(d, prefix=""):
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(_flat(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = v
  return out


@functools.lru_cache(maxsize=1)
def _default_fields() -> Dict[str, Any]:
  """The default config, flat; built once, not for every saved run."""
  return _flat(config_json(default.get_config()))


def differing_fields(old: Dict[str, Any], new: Dict[str, Any]) -> List[str]:
  """Dotted fields in which a saved config.json and a config differ.

  A field the saved config lacks counts as equal when the new config holds
  its default: fields are added with the default that reproduces what runs
  did before (e.g. ``model.layer_norm_epsilon``), so a run finished before a
  field existed stays reusable until a config sets the field otherwise.
  """
  a, b = _flat(old), _flat(new)
  defaults = _default_fields()
  differ = []
  for k in sorted(set(a) | set(b)):
    if k in a and k in b:
      same = a[k] == b[k]
    elif k in b:  # Newer than the saved run.
      same = k in defaults and defaults[k] == b[k]
    else:  # A field this version no longer has.
      same = False
    if not same:
      differ.append(k)
  return differ


# --- the plan --------------------------------------------------------------

def _check_workdir(run: Run, overwrite: bool) -> None:
  """Marks ``run`` reusable, or refuses a finished run of another config."""
  summary, saved = run.workdir / "summary.json", run.workdir / "config.json"
  if overwrite or not summary.exists():
    return
  try:
    old = json.loads(saved.read_text())
  except (OSError, ValueError):
    old = {}
  # The seeds are in the workdir's name; restarts change no seed's result.
  differ = (differing_fields(without_seeds(old),
                             without_seeds(config_json(run.config)))
            if old else [])
  if old and not differ:
    run.reuse = True
    return
  raise errors.WorkdirError(
      f"{run.workdir} holds a finished run of another config (fields "
      f"{', '.join(differ[:5]) or 'config.json unreadable'}"
      f"{' ...' if len(differ) > 5 else ''} differ); pass --overwrite to "
      "replace it or choose another --workdir")


def _baseline_for(config, assignments: Sequence[str], cache: Dict[str, Any]):
  """(pair, baseline config) of the registered ``procrustes_*`` on the same
  data as ``config`` (after the overrides), or None."""
  shared = [a for a in assignments
            if a.partition("=")[0].strip() not in _IDENTITY_FIELDS]
  data = config.data.to_dict()
  for dataset in registry.DATASETS:
    name = f"procrustes_{dataset}"
    if name not in registry.CONFIGS:
      continue
    if name not in cache:
      cache[name] = overrides.apply_overrides(registry.get_config(name),
                                              shared)
    if cache[name].data.to_dict() == data:
      return dataset, cache[name]
  return None


def plan(names: Sequence[str], seeds: Sequence[int],
         assignments: Sequence[str], workdir: pathlib.Path,
         overwrite: bool, seeds_per_run: int = 0):
  """Every run of the study, resolved and checked before any training.

  ``seeds_per_run`` caps how many consecutive seeds train in one run (0 = no
  cap): see the flag.

  Returns:
    (baselines, studies): ``{pair: Run}`` and ``[(name, pair, [Run])]``.
  """
  for a in assignments:
    if a.partition("=")[0].strip() in ("seed", "n_seeds"):
      raise app.UsageError(f"--set={a}: the study sets the seeds; use "
                           "--seeds (e.g. --seeds=0-9)")
  baselines: Dict[str, Run] = {}
  studies = []
  cache: Dict[str, Any] = {}
  for name in names:
    # A study counts every seed it asked for, each on its own: a run that
    # restarted failed seeds would add others (``--set=restarts=K`` still
    # can).
    base = overrides.apply_overrides(_get_config(name),
                                     ["restarts=0", *assignments])
    found = _baseline_for(base, assignments, cache)
    if found:
      pair, b = found
      baselines.setdefault(pair, Run(b.name, b, workdir / b.name, [b.seed]))
    else:
      pair = f"{base.data.src_lang}-{base.data.tgt_lang}"
    runs = [] if overwrite else _finished_runs(name, base, seeds,
                                                workdir / name)
    covered = {s for r in runs for s in r.seeds}
    for group in consecutive_runs([s for s in seeds if s not in covered],
                                  seeds_per_run):
      config = overrides.apply_overrides(
          base, [f"seed={group[0]}", f"n_seeds={len(group)}"])
      runs.append(Run(name, config, workdir / name / seed_label(group),
                      group))
    runs.sort(key=lambda r: r.seeds[0])
    studies.append((name, pair, runs))
  for run in list(baselines.values()) + [r for *_, rs in studies for r in rs]:
    if not run.reuse:
      _check_workdir(run, overwrite)
  return baselines, studies


def _finished_runs(name: str, base, seeds: Sequence[int],
                   folder: pathlib.Path) -> List[Run]:
  """Finished runs in ``folder`` of ``base`` (any seeds) that cover only
  requested seeds, so that a study grows across calls: seeds 1-9 added to an
  earlier ``--seeds=0`` train as one new run, and seed 0 is reused.

  A run counts when its config equals ``base`` in every field but the seeds;
  runs are taken in seed order and never overlap.
  """
  want, todo, found = without_seeds(config_json(base)), set(seeds), []
  candidates = []
  for summary in folder.glob("seeds-*/summary.json"):
    try:
      old = json.loads((summary.parent / "config.json").read_text())
      first, n = int(old["seed"]), int(old["n_seeds"])
    except (OSError, ValueError, KeyError, TypeError):
      continue  # Not a run of this command; _check_workdir names clashes.
    if not differing_fields(without_seeds(old), want):
      candidates.append((first, n, summary.parent))
  for first, n, path in sorted(candidates):
    group = list(range(first, first + n))
    if set(group) <= todo:
      config = overrides.apply_overrides(base, [f"seed={first}",
                                                f"n_seeds={n}"])
      found.append(Run(name, config, path, group, reuse=True))
      todo -= set(group)
  return found
