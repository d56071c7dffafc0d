"""The vanilla GAN (Conneau et al. 2018): MUSE's objective, the general schedule.

  python -m experiments.run --config=gan_es_en
  python -m experiments.run --config=gan --src_emb=a.vec --tgt_emb=b.vec

Results on every pair: docs/results/README.md; history of these settings:
docs/notes/gan-presets.md, docs/notes/general-presets.md.
"""

from experiments.configs.presets import general
from experiments.configs.presets.spec import Method, union

__all__ = ["GAN"]

GAN = Method(
    summary="vanilla GAN (Conneau et al. 2018), MUSE's objective",
    fields=union(
        {"method": "gan",
         # 8 units per input dimension (bdi_jax/derived.py): 512 on 50-d,
         # where 256 took off in 9/10 es-en seeds and 512 in 10/10
         # (docs/results/archive/stability-es-en.md); MUSE's 2048 on 300-d.
         "model.hidden": 0, "model.hidden_per_dim": 8.0},
        general.LR_POLICY),
)
