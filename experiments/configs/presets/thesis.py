"""The thesis's settings as written, beside the tuned presets, and its ablations.

Each setting names the section of the thesis it comes from
(``../shared/papers/000_9377ac3971cceb8e.txt``, Sections 5.2-5.4); where the
thesis is silent its code base is MUSE in PyTorch (Sec. 5.3), so MUSE's
defaults and PyTorch's optimiser defaults (Sec. 5.3.1) fill the gap. The
objective (``method``) is the tuned preset's, since
bdi_jax.objectives.REGISTRY is looked up by it; ``name`` tells them apart.

  python -m experiments.run --config=wgangp_thesis_es_en

Results: docs/results/thesis-es-en.md, docs/results/thesis-zh-en.md; what each
setting is and why: docs/notes/thesis-settings.md.
"""

from typing import Any, Dict

from experiments.configs.presets.spec import Method, union

__all__ = ["ABLATIONS", "CTGAN_THESIS", "GAN_THESIS", "METHODS",
           "WGANGP_THESIS", "WGAN_THESIS"]


def _thesis(method: str, optimizer: str, lr: float, optimizer_kwargs,
            layer_norm: bool, lr_shrink: float) -> Dict[str, Any]:
  """The fields every thesis preset sets; the arguments are what differ."""
  fields = {
      "method": method,
      # Sec. 5.2.1: the critic is 2 x 2048 (LeakyReLU).
      "model.hidden": 2048,
      "model.n_layers": 2,
      # Sec. 5.3, 5.3.4: LayerNorm on the three improved GANs only.
      "model.layer_norm": layer_norm,
      # Sec. 5.3.1: the secondary hyper-parameters are PyTorch's defaults.
      "train.dis_optimizer": optimizer,
      "train.dis_lr": lr,
      "train.dis_optimizer_kwargs": dict(optimizer_kwargs),
      # Sec. 5.2.3: mapping by SGD 0.1, no momentum, batches of 32.
      "train.map_optimizer": "sgd",
      "train.map_lr": 0.1,
      "train.batch_size": 32,
      # Sec. 5.2.4: orthogonalisation beta = 0.01 (MUSE's code: 0.001).
      "train.map_beta": 0.01,
      # Sec. 5.4.1: the shrink is removed for the improved GANs (MUSE: 0.5).
      "train.lr_shrink": lr_shrink,
      # Sec. 5.3 (MUSE's code): mapping lr decay 0.98 an epoch.
      "train.lr_decay": 0.98,
      # Sec. 5.2.6-5.2.7: 10k most frequent source words, and translations
      # ranked above 10k in the target dropped.
      "eval.criterion_words": 10000,
      "eval.criterion_max_target_rank": 10000,
  }
  if layer_norm:
    # Sec. 5.3.1: PyTorch's LayerNorm as it comes (epsilon 1e-5).
    fields["model.layer_norm_epsilon"] = 1e-5
  return fields


# Sec. 5.3.1: PyTorch's RMSprop, alpha 0.99 with eps outside the square root
# (optax's defaults: 0.9, inside).
_TORCH_RMSPROP = {"decay": 0.99, "eps": 1e-8, "eps_in_sqrt": False}
# Sec. 5.3.1: PyTorch's Adam (betas 0.9 / 0.999, eps 1e-8), optax's defaults.
_TORCH_ADAM: Dict[str, Any] = {}

# Gulrajani et al. 2017 penalise one fixed critic; the thesis says nothing of
# dropout (docs/notes/thesis-settings.md).
_PENALTY = {"objective.penalty_dropout": False}

# The thesis presets keep its 2 x 2048 critic on every data set and take the
# general presets' epochs (presets/general.py), so that they run as long.


def _gan(lr_shrink: float) -> Dict[str, Any]:
  return union(
      _thesis("gan", "sgd", 0.1, {}, layer_norm=False, lr_shrink=lr_shrink),
      # Sec. 5.2.2: the sum of the two means, no label smoothing.
      {"objective.smoothing": 0.0, "objective.gan_reduction": "sum"})


def _wgan(layer_norm: bool) -> Dict[str, Any]:
  return union(
      _thesis("wgan", "rmsprop", 5e-4, _TORCH_RMSPROP, layer_norm, 1.0),
      # Sec. 5.3.1: c = 0.25 with RMSprop 5e-4.
      {"objective.clip": 0.25})


def _wgangp(layer_norm: bool) -> Dict[str, Any]:
  return union(
      _thesis("wgangp", "adam", 5e-4, _TORCH_ADAM, layer_norm, 1.0),
      # Sec. 5.3.1: lambda = 0.5, Adam 5e-4.
      {"objective.gp_lambda": 0.5}, _PENALTY)


def _ctgan(layer_norm: bool) -> Dict[str, Any]:
  return union(
      _thesis("ctgan", "adam", 5e-4, _TORCH_ADAM, layer_norm, 1.0),
      # Sec. 5.3.1: lambda_GP = 0.5, lambda_CT = 2, m = 0.2.
      {"objective.gp_lambda": 0.5, "objective.ct_lambda": 2.0,
       "objective.ct_margin": 0.2,
       # Sec. 4.2: dropout "before the output" is the perturbation; the
       # rate is ours, the thesis gives none.
       "model.hidden_dropout": 0.1}, _PENALTY)


GAN_THESIS = Method(
    summary="the thesis's GAN as written (2 x 2048 critic, SGD 0.1, lr shrink)",
    fields=_gan(lr_shrink=0.5))

WGAN_THESIS = Method(
    summary="the thesis's WGAN as written (2 x 2048 LayerNorm critic, "
            "RMSprop 5e-4, clip 0.25)",
    fields=_wgan(layer_norm=True))

WGANGP_THESIS = Method(
    summary="the thesis's WGAN-GP as written (2 x 2048 LayerNorm critic, "
            "Adam 5e-4)",
    fields=_wgangp(layer_norm=True))

CTGAN_THESIS = Method(
    summary="the thesis's CT-GAN as written (2 x 2048 LayerNorm critic, "
            "hidden dropout)",
    fields=_ctgan(layer_norm=True))

METHODS: Dict[str, Method] = {
    "gan_thesis": GAN_THESIS,
    "wgan_thesis": WGAN_THESIS,
    "wgangp_thesis": WGANGP_THESIS,
    "ctgan_thesis": CTGAN_THESIS,
}

# The thesis's other arm of each comparison (Sec. 5.3: "with layer
# normalization and without"; Sec. 5.4.1 and 5.4.3: the shrink removed).
ABLATIONS: Dict[str, Method] = {
    "gan_thesis_noshrink": Method(
        summary="ablation: gan_thesis without the lr shrink",
        fields=_gan(lr_shrink=1.0)),
    "wgan_thesis_noln": Method(
        summary="ablation: wgan_thesis without LayerNorm",
        fields=_wgan(layer_norm=False)),
    "wgangp_thesis_noln": Method(
        summary="ablation: wgangp_thesis without LayerNorm",
        fields=_wgangp(layer_norm=False)),
    "ctgan_thesis_noln": Method(
        summary="ablation: ctgan_thesis without LayerNorm",
        fields=_ctgan(layer_norm=False)),
}
