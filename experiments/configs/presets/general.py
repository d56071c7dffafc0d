"""The adversarial schedule every GAN preset shares, on any pair.

Sizes that depend on the data are left at 0 and filled in by the run from the
embeddings it loaded (bdi_jax/derived.py): the critic's width from the
dimension, an epoch's length from the vocabulary (20 passes over the words
the critic samples), and the take-off from what random starts refine to on
this data. So one table serves UBiLexAT's 3-7k-word 50-d pairs, the 20-d
synthetic data and 200k-word 300-d fastText alike. Why these numbers:
docs/notes/general-presets.md.
"""

__all__ = ["EPOCHS", "LR_POLICY"]

EPOCHS = {
    # A budget of 12 epochs of 20 passes: on UBiLexAT zh-en (3,200 iterations
    # an epoch) the latest take-off seen came after 39k iterations.
    "train.epoch_size": 0,
    "train.n_epochs": 12,
    # The criterion is checked every 2 chunks (500 iterations), and a seed
    # that has taken off stops 2 checks after its last improvement: a run
    # ends soon after its take-off instead of at the budget.
    "train.check_every": 2,
    "train.stop_patience": 2,
}

# No decay and no shrink. Before its take-off a mapping's criterion only
# wanders, and each drop halved MUSE's rate until the map barely moved (the
# vanilla GAN on zh-en took off in 1 of 4 seeds with MUSE's policy, in 10 of
# 10 without); after the take-off the early stop ends the run.
LR_POLICY = {"train.lr_decay": 1.0, "train.lr_shrink": 1.0}
