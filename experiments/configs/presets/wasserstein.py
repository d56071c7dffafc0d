"""What the three Wasserstein presets (wgan, wgangp, ctgan) share.

The critic gets its paper's adaptive optimiser and a LayerNorm; the mapping
keeps plain SGD 0.1 (Conneau et al.): with Adam 5e-4 on W as well no
Wasserstein run took off on UBiLexAT es-en within 4 epochs, with SGD WGAN-GP
did within 2 (docs/notes/wgan-presets.md). The schedule and learning-rate
policy are every GAN preset's (presets/general.py).
"""

from typing import Any, Dict, Mapping

from experiments.configs.presets import general
from experiments.configs.presets.spec import union

__all__ = ["fields"]


def fields(method: str, optimizer: str, lr: float,
           optimizer_kwargs: Mapping[str, Any]) -> Dict[str, Any]:
  """The shared fields, with the critic's optimiser of ``method``'s paper."""
  return union({
      "method": method,
      # 4 units per input dimension (bdi_jax/derived.py): 256 on 50-d, where
      # 10/10 seeds of each Wasserstein objective took off on es-en
      # (docs/results/archive/stability-es-en.md); 2048 on 300-d.
      "model.hidden": 0,
      "model.hidden_per_dim": 4.0,
      "model.layer_norm": True,
      "train.dis_optimizer": optimizer,
      "train.dis_lr": lr,
      "train.dis_optimizer_kwargs": dict(optimizer_kwargs),
      "train.map_optimizer": "sgd",
      "train.map_lr": 0.1,
  }, general.LR_POLICY)
