"""The supervised baseline: Procrustes on a training dictionary.

  python -m experiments.run --config=procrustes_es_en
  # refined CSLS P@1 0.755 (es-en), 0.505 (zh-en), a few seconds
  # (docs/results/stability-es-en-tuned.md, docs/results/stability-zh-en.md).

The stability studies call a seed successful at half this baseline's P@1.
"""

from experiments.configs.presets.spec import Method

__all__ = ["PROCRUSTES", "UNUSED_CRITIC_WIDTH"]

# No critic is trained: model.hidden and the epoch schedule are unused here
# (and by gw). They keep the values they have always had, so that the
# config.json of earlier runs still matches the preset (experiments.stability
# refuses a workdir whose saved config differs).
UNUSED_CRITIC_WIDTH = {
    "synthetic": {"model.hidden": 512},
    "es_en": {"model.hidden": 256},
    "zh_en": {"model.hidden": 256},
    "en_en": {"model.hidden": 256},
}

PROCRUSTES = Method(
    summary="supervised Procrustes on the training dictionary (baseline)",
    fields={"method": "procrustes"},
    per_dataset=UNUSED_CRITIC_WIDTH,
)
