"""Generated embedding pairs of a chosen size, for retrieval and refinement.

Full-size fastText vectors (200k x 300) are not available offline, so the
large-vocabulary figures use generated arrays of the same shape. Retrieval
cost depends on the shapes, not the values; the pair is nevertheless built so
that a known rotation maps one side close to the other, which makes
dictionary induction find a realistic number of mutual neighbours (thousands,
not the handful two unrelated random clouds would give).
"""

from typing import NamedTuple

import numpy as np

__all__ = ["EmbeddingPair", "embedding_pair"]


class EmbeddingPair(NamedTuple):
  """Row-normalised float32 embeddings and the mapping that aligns them.

  Attributes:
    src: ``[vocab, dim]`` source embeddings.
    tgt: ``[vocab, dim]`` target embeddings.
    w: ``[dim, dim]`` orthogonal; ``src @ w.T`` is ``mapped``.
    mapped: ``[vocab, dim]`` the mapped source, each row a noisy copy of the
      same row of ``tgt``.
  """
  src: np.ndarray
  tgt: np.ndarray
  w: np.ndarray
  mapped: np.ndarray


def _normalize_(x: np.ndarray) -> np.ndarray:
  # In place: at 200k x 300 every temporary costs 240 MB of the RSS we measure.
  x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
  return x


def embedding_pair(vocab: int, dim: int, *, seed: int = 0,
                   noise: float = 1.0, with_src: bool = True) -> EmbeddingPair:
  """Generates a pair of aligned embedding spaces.

  Args:
    vocab: rows of each side.
    dim: embedding dimension.
    seed: NumPy generator seed.
    noise: norm of the noise added to each (unit) target row; 1.0 puts the true
      translation at cosine ~0.7, well above chance in 300 dimensions.
    with_src: also build ``src`` and ``w`` (refinement needs them, retrieval
      only needs ``mapped`` and ``tgt``); ``None`` otherwise.

  Returns:
    An :class:`EmbeddingPair` of float32 arrays.
  """
  rng = np.random.default_rng(seed)
  mapped = _normalize_(rng.standard_normal((vocab, dim), dtype=np.float32))
  tgt = rng.standard_normal((vocab, dim), dtype=np.float32)
  tgt *= noise / np.sqrt(dim)
  tgt += mapped
  _normalize_(tgt)
  src = w = None
  if with_src:
    w = np.linalg.qr(rng.standard_normal((dim, dim)))[0].astype(np.float32)
    # src @ w.T == mapped because w is orthogonal.
    src = mapped @ w
  return EmbeddingPair(src=src, tgt=tgt, w=w, mapped=mapped)
