"""Word-vector files: the loading API, and the names their users need.

:func:`load_vec` reads fastText text (``.vec``), gzipped (``.vec.gz``) and
word2vec binary (``.bin``) files, through a cache of parsed files;
:func:`write_vec` writes the text format back. The work is done by one module
per concern, and their public names are re-exported here so that callers
need only this module:

* :mod:`bdi_jax.data.embedding_types`: :class:`Embeddings` and
  :class:`EmbeddingFileError`;
* :mod:`bdi_jax.data.vec_files`: which kind a file is, and the whole-file
  checks; :mod:`~bdi_jax.data.vec_text` and
  :mod:`~bdi_jax.data.word2vec_binary` read its rows,
  :mod:`~bdi_jax.data.decimals` parses the numbers and
  :mod:`~bdi_jax.data.vocabulary` skips repeated words;
* :mod:`bdi_jax.data.vec_cache`: the ``.npy`` cache of parsed files;
* :mod:`bdi_jax.data.normalization`: :data:`NORMALIZERS` and
  :func:`normalize_embeddings`.
"""

import os
import pathlib
import warnings
from typing import Optional, Sequence, Union

import numpy as np

from bdi_jax import outputs
from bdi_jax.data import vec_cache
from bdi_jax.data import vec_files
from bdi_jax.data import word_checks
from bdi_jax.data.embedding_types import EmbeddingFileError
from bdi_jax.data.embedding_types import Embeddings
from bdi_jax.data.embedding_types import file_error
from bdi_jax.data.normalization import NORMALIZERS
from bdi_jax.data.normalization import normalize_embeddings
from bdi_jax.data.vec_cache import CACHE_DIR_ENV
from bdi_jax.data.vec_cache import default_cache_dir

__all__ = [
    "CACHE_DIR_ENV",
    "default_cache_dir",
    "Embeddings",
    "EmbeddingFileError",
    "load_vec",
    "write_vec",
    "NORMALIZERS",
    "normalize_embeddings",
]


def load_vec(path: Union[str, os.PathLike],
             max_vocab: Optional[int] = None,
             expected_dim: Optional[int] = None, *,
             cache: Union[bool, str, os.PathLike] = True) -> Embeddings:
  """Reads a word-vector file: fastText text, gzipped, or word2vec binary.

  Text (``.vec``): the header line ``N D`` is optional (it is recognised as
  exactly two integers on line 1). Rows are ``word v1 .. vD`` for any ``D``;
  trailing whitespace and ``\\r\\n`` line ends are accepted, blank lines
  skipped. A gzipped file (``.vec.gz``) is recognised by its content and read
  the same way. A file with an ``N D`` header and binary rows (a ``.bin``
  name, or control bytes after the header) is read as word2vec binary. A
  fastText ``.bin`` model is refused with a message that says to use its
  ``.vec`` file. Of repeated words the first row is kept and the rest skipped
  with one warning.

  A parsed file is cached (``.npy`` + vocabulary, see :func:`default_cache_dir`)
  and re-read from there while its size and modification time are unchanged;
  where the cache folder cannot be written, files are simply re-parsed.

  Args:
    path: the embedding file.
    max_vocab: keep the first ``max_vocab`` unique words and stop reading.
    expected_dim: if given, the file's dimension must equal it.
    cache: True: the default cache folder, for files of 16 MiB or more;
      False: never; a folder: cache there, whatever the size.

  Returns:
    The :class:`Embeddings`, ``vectors`` of shape ``[n, d]`` float32.

  Raises:
    FileNotFoundError: ``path`` does not exist (the message says how to get
      it).
    EmbeddingFileError: malformed content; the message starts with
      ``path:line:`` (or ``path:`` for problems of the whole file).
  """
  if max_vocab is not None and max_vocab <= 0:
    raise ValueError(f"max_vocab must be positive, got {max_vocab}")
  path = pathlib.Path(path).expanduser()
  name = str(path)
  folder = vec_cache.cache_folder(cache, path)
  loaded = None
  if folder is not None:
    prefix, expected = vec_cache.cache_entry(folder, path, max_vocab)
    loaded = vec_cache.read_cache(prefix, expected, name)
  if loaded is None:
    loaded = vec_files.read_file(path, max_vocab, expected_dim)
    if folder is not None:
      vec_cache.write_cache(prefix, expected, *loaded)
  embeddings, warning = loaded
  if expected_dim is not None and embeddings.dim != expected_dim:
    # Only a cached entry gets here; a parse checks it where it reads.
    raise file_error(name, None, f"vectors are {embeddings.dim}-d, "
                     f"expected_dim={expected_dim}")
  if warning:
    warnings.warn(warning, stacklevel=2)
  odd = word_checks.odd_whitespace_warning(path, embeddings.words)
  if odd:
    warnings.warn(odd, stacklevel=2)
  return embeddings


def write_vec(path: Union[str, os.PathLike], words: Sequence[str],
              vectors: np.ndarray) -> pathlib.Path:
  """Writes vectors in fastText text format (header ``N D``), atomically.

  Values are written with 9 significant digits, which :func:`load_vec` reads
  back to the same float32 values.

  Args:
    path: the ``.vec`` file to write (replaced only once fully written).
    words: ``n`` words without ASCII whitespace.
    vectors: ``[n, d]`` values.

  Returns:
    The path written.
  """
  path = pathlib.Path(path)
  vectors = np.asarray(vectors, np.float32)
  if vectors.ndim != 2 or vectors.shape[0] != len(words):
    raise ValueError(f"vectors must be [len(words)={len(words)}, d], got "
                     f"{vectors.shape}")
  row_format = " ".join(["%.9g"] * vectors.shape[1])
  with outputs.atomic_file(path, "w", encoding="utf-8", newline="\n") as f:
    f.write(f"{len(words)} {vectors.shape[1]}\n")
    for start in range(0, len(words), 4096):  # Bounded temporary text.
      rows = vectors[start:start + 4096].tolist()
      f.write("".join(f"{w} {row_format % tuple(r)}\n" for w, r in
                      zip(words[start:start + 4096], rows)))
  return path
