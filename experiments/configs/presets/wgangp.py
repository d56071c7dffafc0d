"""WGAN-GP (Gulrajani et al. 2017): the gradient penalty bounds the critic.

  python -m experiments.run --config=wgangp_es_en
  python -m experiments.run --config=wgangp --src_emb=a.vec --tgt_emb=b.vec

Results on every pair: docs/results/README.md.
"""

from experiments.configs.presets import wasserstein
from experiments.configs.presets.spec import Method

__all__ = ["WGANGP"]

WGANGP = Method(
    summary="WGAN-GP, gradient penalty (Gulrajani et al. 2017)",
    # Adam with the paper's betas (0.5, 0.9).
    fields=wasserstein.fields("wgangp", "adam", 5e-4, {"b1": 0.5, "b2": 0.9}),
)
