"""A synthetic bilingual task that needs no download.

Why not a random Gaussian cloud and a rotation: an isotropic Gaussian is
rotation-invariant, so no method can tell which rotation produced the target
language. Real embedding spaces are anisotropic and clustered, and that structure
is what makes the mapping identifiable. So here:

* a shared set of latent "concepts" is drawn from a mixture of Gaussian clusters
  (cluster sizes Zipfian) in a space with a decaying spectrum of scales;
* each language sees a different random subset of the concepts (partly different
  vocabularies), ranks its words by its own noisy Zipfian frequencies, and adds
  its own independent noise;
* the target language is the latent space under a hidden random orthogonal map.

The gold dictionary pairs the words of concepts that both languages have.
"""

from typing import NamedTuple, Tuple

import numpy as np

from bdi_jax.data.embedding_types import Embeddings

__all__ = ["SyntheticTask", "make_synthetic_task"]


class SyntheticTask(NamedTuple):
  src: Embeddings
  tgt: Embeddings
  rotation: np.ndarray  # [d, d]; tgt ~ src @ rotation.T for shared concepts.
  train_pairs: np.ndarray  # [m, 2] (src index, tgt index), frequent words.
  test_pairs: np.ndarray  # [t, 2], disjoint from train_pairs' source words.


def _random_orthogonal(rng: np.random.Generator, dim: int) -> np.ndarray:
  q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
  return q * np.sign(np.diag(r))  # Haar-distributed (Mezzadri 2007).


def _language(rng, latent, log_freq, keep_fraction, noise, scales, prefix,
              transform) -> Tuple[Embeddings, np.ndarray]:
  n, dim = latent.shape
  kept = np.flatnonzero(rng.random(n) < keep_fraction)
  # Each language has its own frequencies: shared Zipfian base + own noise.
  own_log_freq = log_freq[kept] + 0.5 * rng.standard_normal(kept.size)
  kept = kept[np.argsort(-own_log_freq, kind="stable")]
  vectors = latent[kept] + noise * scales * rng.standard_normal((kept.size, dim))
  vectors = (vectors @ transform.T).astype(np.float32)
  words = tuple(f"{prefix}{c:05d}" for c in kept)
  emb = Embeddings(words=words, vectors=vectors,
                   word_to_index={w: i for i, w in enumerate(words)},
                   path=f"<synthetic:{prefix}>")
  return emb, kept


def make_synthetic_task(seed: int = 0, *, n_concepts: int = 6000, dim: int = 50,
                        n_clusters: int = 60, keep_fraction: float = 0.85,
                        noise: float = 0.2, spectrum_decay: float = 0.06,
                        n_train: int = 2000, n_test: int = 1500) -> SyntheticTask:
  """Generates a source and a target language and their gold dictionaries.

  Args:
    seed: seed of a local ``np.random.Generator`` (no global RNG).
    n_concepts: latent concepts; each language keeps about
      ``keep_fraction`` of them.
    dim: embedding dimension.
    n_clusters: mixture components; sizes follow a Zipf law.
    keep_fraction: probability that a concept has a word in a language.
    noise: per-language independent noise, relative to the scale of each axis.
    spectrum_decay: axis ``j`` has scale ``exp(-spectrum_decay * j)``; > 0 makes
      the cloud anisotropic.
    n_train, n_test: sizes of the gold train / test dictionaries (test words are
      drawn from the shared concepts that are not in the train set).

  Returns:
    A :class:`SyntheticTask`.
  """
  rng = np.random.default_rng(seed)
  scales = np.exp(-spectrum_decay * np.arange(dim))
  cluster_weights = 1.0 / np.arange(1, n_clusters + 1)
  cluster_weights /= cluster_weights.sum()
  centres = 1.5 * scales * rng.standard_normal((n_clusters, dim))
  assignment = rng.choice(n_clusters, size=n_concepts, p=cluster_weights)
  spread = rng.uniform(0.3, 0.8, size=(n_clusters, 1)) * scales
  latent = centres[assignment] + spread[assignment] * rng.standard_normal(
      (n_concepts, dim))
  log_freq = -np.log(rng.permutation(n_concepts) + 1.0)

  rotation = _random_orthogonal(rng, dim)
  src, src_concepts = _language(rng, latent, log_freq, keep_fraction, noise,
                                scales, "s", np.eye(dim))
  tgt, tgt_concepts = _language(rng, latent, log_freq, keep_fraction, noise,
                                scales, "t", rotation)

  tgt_pos = {c: i for i, c in enumerate(tgt_concepts)}
  shared = [(i, tgt_pos[c]) for i, c in enumerate(src_concepts) if c in tgt_pos]
  shared = np.asarray(shared, dtype=np.int32)  # Sorted by source frequency.
  train_pairs = shared[:n_train]
  rest = shared[n_train:]
  test_pairs = rest[np.sort(rng.choice(len(rest), size=min(n_test, len(rest)),
                                       replace=False))]
  return SyntheticTask(src=src, tgt=tgt, rotation=rotation,
                       train_pairs=train_pairs, test_pairs=test_pairs)
