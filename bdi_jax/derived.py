"""Settings a run derives from its data: critic width, epoch length, take-off.

A general preset (``--config=wgangp``) must serve a 3k-word 50-d pair and a
200k-word 300-d pair alike, so it leaves the sizes that depend on the data at
0 and the run fills them in once the embeddings are loaded:

* ``model.hidden = 0``: ``model.hidden_per_dim`` units per input dimension,
  rounded up to a power of two, within [256, 2048] and at most half the
  smaller vocabulary. Conneau et al. use 2048 on 300-d fastText; on 50-d
  UBiLexAT 256-512 take off as reliably and run several times faster
  (docs/notes/general-presets.md).
* ``train.epoch_size = 0``: ``train.epoch_passes`` times the words the critic
  samples (the larger side, within ``dis_most_frequent``), in whole batches,
  at most MUSE's 1,000,000. An epoch is then the same number of passes over
  the data on every pair, so the criterion checks, the early stop and the
  epoch budget mean the same thing on every pair.

The take-off that the early stop counts from is judged on the data too, by
the failure detector (bdi_jax/takeoff.py).
"""

import copy
import math
from typing import Dict, Optional, Tuple

import ml_collections


__all__ = ["MIN_HIDDEN", "MAX_HIDDEN", "MAX_EPOCH_SIZE", "critic_width",
           "epoch_size", "derive"]

MIN_HIDDEN, MAX_HIDDEN = 256, 2048
MAX_EPOCH_SIZE = 1_000_000  # Conneau et al.'s epoch.


def critic_width(dim: int, per_dim: float, n_words: int) -> int:
  """``per_dim * dim`` rounded up to a power of two, in [256, 2048], and at
  most half the smaller vocabulary ``n_words`` (rounded down to a power of
  two, at least 256): a critic with more units than the words it sees can
  tell them apart one by one, and costs time for nothing."""
  want = max(1.0, per_dim * dim)
  width = 2 ** math.ceil(math.log2(want))
  cap = 2 ** math.floor(math.log2(max(1, n_words // 2)))
  return int(max(MIN_HIDDEN, min(MAX_HIDDEN, width, cap)))


def epoch_size(n_src: int, n_tgt: int, most_frequent: Optional[int],
               passes: int, batch_size: int) -> int:
  """Samples per epoch: ``passes`` times the larger side's sampled words
  (``most_frequent``: 0 or None = all), in whole batches (at least one),
  at most :data:`MAX_EPOCH_SIZE`."""
  words = max(min(n, most_frequent or n) for n in (n_src, n_tgt))
  samples = min(MAX_EPOCH_SIZE, passes * words)
  return max(1, samples // batch_size) * batch_size


def derive(config: ml_collections.ConfigDict, n_src: int, n_tgt: int,
           dim: int) -> Tuple[ml_collections.ConfigDict, Dict[str, int]]:
  """``config`` with the fields left at 0 filled from the data.

  Returns a new config (``config`` is unchanged) and ``{field: value}`` of
  what was derived ({} when nothing was left at 0).
  """
  out = copy.deepcopy(config)
  derived: Dict[str, int] = {}
  if not out.model.hidden:
    out.model.hidden = derived["model.hidden"] = critic_width(
        dim, out.model.get("hidden_per_dim", 8.0), min(n_src, n_tgt))
  t = out.train
  if not t.epoch_size:
    t.epoch_size = derived["train.epoch_size"] = epoch_size(
        n_src, n_tgt, t.dis_most_frequent, t.get("epoch_passes", 20),
        t.batch_size)
  return out, derived
