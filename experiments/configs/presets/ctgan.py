"""CT-GAN (Wei et al. 2018): gradient penalty plus a consistency term.

  python -m experiments.run --config=ctgan_zh_en

Results on every pair: docs/results/README.md.
"""

from experiments.configs.presets import wasserstein
from experiments.configs.presets.spec import Method, union

__all__ = ["CTGAN"]

CTGAN = Method(
    summary="CT-GAN, gradient penalty + consistency term (Wei et al. 2018)",
    fields=union(
        # Adam with Gulrajani et al.'s betas (0.5, 0.9), as for WGAN-GP.
        wasserstein.fields("ctgan", "adam", 5e-4, {"b1": 0.5, "b2": 0.9}),
        # The consistency term weighs as much as the gradient penalty (0.5
        # here; the paper's 2 delayed zh-en's take-off to 22,500 iterations,
        # 0.5 to at most 13,000: docs/notes/zh-en-tuning.md).
        {"objective.ct_lambda": 0.5}),
)
