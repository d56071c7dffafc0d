"""WGAN-GP (Gulrajani et al. 2017): the gradient penalty bounds the critic.

  python -m experiments.run --config=wgangp_es_en
  # refined CSLS P@1: es-en 0.755 +- 0.001, ~28 s a seed
  # (docs/results/stability-es-en-tuned.md); zh-en 0.502 +- 0.003, ~48 s a
  # seed (docs/results/stability-zh-en.md); 10/10 seeds each, 2-core CPU.
"""

from experiments.configs.presets import wasserstein
from experiments.configs.presets.spec import Method

__all__ = ["WGANGP"]

WGANGP = Method(
    summary="WGAN-GP, gradient penalty (Gulrajani et al. 2017)",
    # Adam with the paper's betas (0.5, 0.9).
    fields=wasserstein.fields("wgangp", "adam", 5e-4, {"b1": 0.5, "b2": 0.9}),
)
