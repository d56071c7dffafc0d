"""Reading one word-vector file, whatever its kind: text, gzipped or binary.

The kind is told by content, not by name: gzip by its magic bytes, a fastText
binary model (refused) by its magic number, word2vec binary rows by control
bytes after an ``N D`` header. The rows are then read by
:mod:`bdi_jax.data.vec_text` or :mod:`bdi_jax.data.word2vec_binary`, and the
checks that need the whole file (row count, empty file) are made here.
"""

import gzip
import io
import pathlib
import zlib
from typing import BinaryIO, Optional, Tuple

from bdi_jax.data import catalogue
from bdi_jax.data.embedding_types import (EmbeddingFileError, Embeddings,
                                          file_error)
from bdi_jax.data.vec_text import parse_header, read_text_rows
from bdi_jax.data.vocabulary import duplicates_warning
from bdi_jax.data.word2vec_binary import read_word2vec_binary

__all__ = ["read_file"]

_GZIP_MAGIC = b"\x1f\x8b"
# fastText's binary models (.bin) start with this int32, little-endian
# (FASTTEXT_FILEFORMAT_MAGIC_INT32 = 793712314 in fastText's args/model code).
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")
# Bytes that never occur in a text .vec file (ASCII control characters other
# than whitespace); float32 rows of a word2vec binary file are full of them.
_CONTROL_BYTES = frozenset(range(0, 9)) | frozenset(range(14, 32)) | {127}
# How much of the first row a binary sniff looks at.
_SNIFF_BYTES = 4096


def _open(path: pathlib.Path) -> Tuple[BinaryIO, bool]:
  """Opens ``path`` for reading, decompressing gzip transparently.

  Returns:
    ``(file, gzipped)``; the file has ``peek``.
  """
  if path.is_dir():
    raise EmbeddingFileError(f"{path}: is a folder, not an embedding file "
                             "(give the path of a .vec, .vec.gz or .bin file)")
  raw = catalogue.open_data_file(path)
  if raw.peek(2)[:2] != _GZIP_MAGIC:  # By content: names are not reliable.
    return raw, False
  raw.close()
  # BufferedReader: its C readline/readlines are much faster than GzipFile's.
  return io.BufferedReader(gzip.open(path, "rb")), True


def _looks_binary(path: pathlib.Path, after_header: bytes) -> bool:
  """Whether a file whose line 1 is ``N D`` holds word2vec binary rows."""
  suffixes = [s.lower() for s in path.suffixes]
  if suffixes[-2:] == [".bin", ".gz"] or suffixes[-1:] == [".bin"]:
    return True
  return not _CONTROL_BYTES.isdisjoint(after_header[:_SNIFF_BYTES])


def read_file(path: pathlib.Path, max_vocab: Optional[int],
              expected_dim: Optional[int]) -> Tuple[Embeddings, Optional[str]]:
  """Reads a text, gzipped or word2vec binary file (no cache).

  Returns:
    ``(embeddings, warning)``: ``warning`` is the duplicate-word message, or
    None.
  """
  name = str(path)
  f, gzipped = _open(path)
  try:
    with f:
      if f.peek(4)[:4] == _FASTTEXT_MAGIC:
        raise file_error(
            name, None, "this is a fastText binary model (.bin), which holds "
            "subword parameters rather than a vector table; use the .vec file "
            "of the same download (fastText text vectors), or write one with "
            "`fasttext print-word-vectors`")
      first = f.readline().removeprefix(b"\xef\xbb\xbf")  # Skip a UTF-8 BOM.
      header = parse_header(first)
      dim, dim_source = expected_dim, f"expected_dim={expected_dim}"
      if header is not None:
        if header[1] == 0:
          raise file_error(name, 1, "header declares dimension 0")
        if expected_dim is not None and header[1] != expected_dim:
          raise file_error(name, 1, f"header declares dimension {header[1]}, "
                           f"expected_dim={expected_dim}")
        dim, dim_source = header[1], "from the header on line 1"
      if header is not None and _looks_binary(path, f.peek(_SNIFF_BYTES)):
        word_to_index, vectors, duplicates, hit_max_vocab = (
            read_word2vec_binary(name, f, header[0], header[1], max_vocab))
        rows_read = header[0]  # Checked by the reader itself.
      else:
        lines, next_line = ([], 2) if header is not None else ([first], 1)
        word_to_index, vectors, duplicates, rows_read, hit_max_vocab = (
            read_text_rows(name, f, lines, next_line, dim, dim_source,
                           max_vocab))
  except (OSError, EOFError, zlib.error) as e:
    if not gzipped:
      raise
    raise file_error(name, None, f"not a valid gzip file ({e})") from None

  if not word_to_index:
    raise file_error(name, None, "no vectors after the header" if header else
                     "file is empty")
  if header is not None and not hit_max_vocab and rows_read != header[0]:
    raise file_error(name, None, f"header (line 1) declares {header[0]} "
                     f"vectors but the file has {rows_read} rows")
  warning = duplicates_warning(name, duplicates)
  embeddings = Embeddings(words=tuple(word_to_index), vectors=vectors,
                          word_to_index=word_to_index, path=name)
  return embeddings, warning
