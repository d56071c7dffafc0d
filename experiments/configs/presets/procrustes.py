"""The supervised baseline: Procrustes on a training dictionary.

  python -m experiments.run --config=procrustes_es_en
  # refined CSLS P@1 0.755 (es-en), 0.505 (zh-en), a few seconds
  # (docs/results/stability-es-en-tuned.md, docs/results/stability-zh-en.md).

The stability studies call a seed successful at half this baseline's P@1.
"""

from experiments.configs.presets.spec import Method

__all__ = ["PROCRUSTES"]

PROCRUSTES = Method(
    summary="supervised Procrustes on the training dictionary (baseline)",
    fields={"method": "procrustes"},
    uses_schedule=False,  # No adversarial phase.
)
