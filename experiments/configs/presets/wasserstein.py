"""What the three Wasserstein presets (wgan, wgangp, ctgan) share.

The critic gets its paper's adaptive optimiser and a LayerNorm; the mapping
keeps plain SGD 0.1 (Conneau et al.): with Adam 5e-4 on W as well no
Wasserstein run took off on UBiLexAT es-en within 4 epochs, with SGD WGAN-GP
did within 2 (docs/notes/wgan-presets.md). No decay and no shrink: a
Wasserstein critic's estimate is meaningful, its noise is no signal to slow
down.
"""

from typing import Any, Dict, Mapping

__all__ = ["CRITIC_WIDTH", "fields"]

# A 256-wide critic is plenty on UBiLexAT's 50-d inputs: 10/10 seeds of each
# of wgan_es_en, wgangp_es_en and ctgan_es_en
# (docs/results/archive/stability-es-en.md); 512 on the synthetic data.
CRITIC_WIDTH = {
    "synthetic": {"model.hidden": 512},
    "es_en": {"model.hidden": 256},
    "zh_en": {"model.hidden": 256},
    "en_en": {"model.hidden": 256},
}


def fields(method: str, optimizer: str, lr: float,
           optimizer_kwargs: Mapping[str, Any]) -> Dict[str, Any]:
  """The shared fields, with the critic's optimiser of ``method``'s paper."""
  return {
      "method": method,
      "model.layer_norm": True,
      "train.dis_optimizer": optimizer,
      "train.dis_lr": lr,
      "train.dis_optimizer_kwargs": dict(optimizer_kwargs),
      "train.map_optimizer": "sgd",
      "train.map_lr": 0.1,
      "train.lr_decay": 1.0,
      "train.lr_shrink": 1.0,
  }
