"""What a read embedding file is, and how a malformed one is reported.

A leaf of the embedding readers: the text and binary parsers, the cache and
the loading API (:mod:`bdi_jax.data.embeddings`) all build these, so they live
apart from all of them.
"""

from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

from bdi_jax import errors

__all__ = ["Embeddings", "EmbeddingFileError", "file_error"]


class Embeddings(NamedTuple):
  """Word vectors read from one file.

  Attributes:
    words: the vocabulary in file order, ``n`` unique words.
    vectors: ``[n, d]`` float32; row ``i`` belongs to ``words[i]``.
    word_to_index: inverse of ``words``.
    path: the file they were read from.
  """
  words: Tuple[str, ...]
  vectors: np.ndarray
  word_to_index: Dict[str, int]
  path: str

  @property
  def dim(self) -> int:
    """Dimension ``d`` of the vectors."""
    return int(self.vectors.shape[1])


class EmbeddingFileError(errors.DataError):
  """A malformed embedding file; the message starts with ``path:line:``."""


def file_error(path: str, line: Optional[int],
               message: str) -> EmbeddingFileError:
  """The error for ``message`` at ``path:line:`` (``path:`` if no line)."""
  where = f"{path}:{line}: " if line is not None else f"{path}: "
  return EmbeddingFileError(where + message)
