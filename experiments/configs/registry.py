"""Every named configuration: ``{method}_{dataset}``, from the presets.

The presets live in ``experiments/configs/presets/``: one file per method
family and ``datasets.py``, each field with why it is set and the result that
justifies it. A name is *enumerated* from :data:`METHODS` x :data:`DATASETS`
into :data:`CONFIGS`, so it is looked up, never parsed; :data:`DESCRIPTIONS`
says in one line what each is. ml_collections loads one with
``--config=experiments/configs/registry.py:NAME``; ``experiments.run`` accepts
the bare ``--config=NAME``.
"""

import functools
from typing import Any, Callable, Dict, Tuple

import ml_collections

from bdi_jax import paths
from bdi_jax.data import catalogue
from bdi_jax.data import tasks
from experiments.configs import default
from experiments.configs.presets import ctgan
from experiments.configs.presets import datasets
from experiments.configs.presets import gan
from experiments.configs.presets import general
from experiments.configs.presets import ot
from experiments.configs.presets import procrustes
from experiments.configs.presets import thesis
from experiments.configs.presets import wgan
from experiments.configs.presets import wgangp
from experiments.configs.presets.spec import Dataset, Method, union

__all__ = ["CONFIGS", "DATASETS", "DESCRIPTIONS", "GENERAL",
           "GENERAL_DESCRIPTIONS", "METHODS", "THESIS_ABLATIONS",
           "THESIS_METHODS", "TUNED_METHODS",
           "data_status", "describe", "fields", "get_config", "names", "split"]

DATASETS: Dict[str, Dataset] = datasets.DATASETS

TUNED_METHODS: Dict[str, Method] = {
    "gan": gan.GAN,
    "wgan": wgan.WGAN,
    "wgangp": wgangp.WGANGP,
    "ctgan": ctgan.CTGAN,
    "procrustes": procrustes.PROCRUSTES,
    "sinkhorn": ot.SINKHORN,
    "gw": ot.GW,
}

THESIS_METHODS: Dict[str, Method] = dict(thesis.METHODS)
# The thesis's LayerNorm and lr-shrink ablations (presets/thesis.py).
THESIS_ABLATIONS: Dict[str, Method] = dict(thesis.ABLATIONS)

METHODS: Dict[str, Method] = {**TUNED_METHODS, **THESIS_METHODS,
                              **THESIS_ABLATIONS}
assert len(METHODS) == (len(TUNED_METHODS) + len(THESIS_METHODS)
                        + len(THESIS_ABLATIONS))


def fields(method: str, dataset: str) -> Dict[str, Any]:
  """The fields ``{method}_{dataset}`` sets on top of ``default.py``."""
  m, d = METHODS[method], DATASETS[dataset]
  return union(d.fields, _method_fields(m))


def _method_fields(m: Method) -> Dict[str, Any]:
  return union(m.fields, general.EPOCHS if m.uses_schedule else {})


def _set(config: ml_collections.ConfigDict, path: str, value: Any) -> None:
  *parents, leaf = path.split(".")
  for part in parents:
    config = config[part]
  if isinstance(value, dict):
    value = ml_collections.ConfigDict(value)
  setattr(config, leaf, value)


def _build(method: str, dataset: str) -> ml_collections.ConfigDict:
  config = default.get_config()
  config.name = f"{method}_{dataset}"
  for path, value in fields(method, dataset).items():
    _set(config, path, value)
  return config


def _describe(method: str, dataset: str) -> str:
  return f"{METHODS[method].summary}; {DATASETS[dataset].summary}"


CONFIGS: Dict[str, Callable[[], ml_collections.ConfigDict]] = {
    f"{m}_{d}": functools.partial(_build, m, d)
    for m in METHODS for d in DATASETS
}

# Name -> one line: the method and the data set.
DESCRIPTIONS: Dict[str, str] = {
    f"{m}_{d}": _describe(m, d) for m in METHODS for d in DATASETS
}



def _build_general(method: str) -> ml_collections.ConfigDict:
  config = default.get_config()
  config.name = method
  for path, value in _method_fields(METHODS[method]).items():
    _set(config, path, value)
  return config


# A method name alone (``--config=wgangp``): the method's own fields and the
# shared schedule on top of default.py, with no data set's, for a user's own
# vectors
# (``experiments.run --src_emb=... --tgt_emb=...``). Kept apart from CONFIGS,
# whose every name is ``{method}_{dataset}``.
GENERAL: Dict[str, Callable[[], ml_collections.ConfigDict]] = {
    m: functools.partial(_build_general, m) for m in TUNED_METHODS
}
GENERAL_DESCRIPTIONS: Dict[str, str] = {
    m: f"{TUNED_METHODS[m].summary}; general preset for your own vectors "
       "(--src_emb, --tgt_emb)" for m in TUNED_METHODS
}


def names():
  """Every name ``get_config`` takes: the general presets, then CONFIGS."""
  return sorted(GENERAL) + sorted(CONFIGS)


def describe(name: str) -> str:
  return GENERAL_DESCRIPTIONS.get(name) or DESCRIPTIONS[name]


_SPLIT: Dict[str, Tuple[str, str]] = {
    f"{m}_{d}": (m, d) for m in METHODS for d in DATASETS
}


def split(name: str) -> Tuple[str, str]:
  """(method, dataset) of a registered name."""
  return _SPLIT[name]


def data_status(name: str, root=None) -> str:
  """"data: present", or "data: missing (...)" with how to get the files.

  Checks every file the preset names under the data root (``root``, default
  :func:`bdi_jax.paths.data_root`), as ``bdi_jax.data.tasks.load_task`` will;
  generated data is always present.
  """
  if name in GENERAL:
    return "data: yours (--src_emb, --tgt_emb)"
  data = get_config(name).data
  if data.kind != "files":
    return "data: present (generated)"
  named = [data[f] for f in ("src_emb", "tgt_emb", "test_dict", "train_dict")
           if data[f] and data[f] not in tasks.BUILT_IN_DICTIONARIES]
  missing = [p for p in named if not paths.resolve(p, root).exists()]
  if not missing:
    return "data: present"
  langs = list(dict.fromkeys((data.src_lang, data.tgt_lang)))
  fasttext = [l for l in langs if catalogue.fasttext_wiki_file(l) in missing]
  muse = {catalogue.muse_dictionary_file(data.src_lang, data.tgt_lang, split)
          for split in catalogue.MUSE_SPLITS}
  fetch = ([f"--fasttext {','.join(fasttext)}"] if fasttext else []) + (
      [f"--muse {data.src_lang}-{data.tgt_lang}"] if muse & set(missing)
      else [])
  other = [p for p in missing
           if p not in muse and p not in map(catalogue.fasttext_wiki_file,
                                             fasttext)]
  hints = ([f"see python -m bdi_jax.data.download {' '.join(fetch)}"]
           if fetch else [])
  if other:
    hints.append(f"{', '.join(other)}: not downloadable by bdi_jax, see "
                 "README 'Running on real data'")
  return f"data: missing ({'; '.join(hints)})"


def get_config(name: str = "gan_synthetic") -> ml_collections.ConfigDict:
  """ml_collections entry point: ``registry.py:NAME``."""
  try:
    return (GENERAL.get(name) or CONFIGS[name])()
  except KeyError:
    import difflib  # pylint: disable=g-import-not-at-top
    close = difflib.get_close_matches(name, names(), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"Unknown config {name!r}.{hint} A config is a method alone "
        f"({', '.join(GENERAL)}) or METHOD_DATASET; python -m experiments.run "
        "--list_configs lists them all") from None
