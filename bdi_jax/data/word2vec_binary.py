"""Reading the rows of a word2vec binary file (``.bin``).

After the ``N D`` text line, each row is ``word``, one space and ``D``
little-endian float32 values, usually followed by a newline (word2vec writes
one; some writers do not).
"""

from typing import BinaryIO, Dict, List, Optional, Tuple

import numpy as np

from bdi_jax.data.embedding_types import EmbeddingFileError

__all__ = ["read_word2vec_binary"]

# Bytes read from the stream at a time.
_READ_BYTES = 1 << 20


class _Blocks:
  """A read buffer over a binary stream, refilled in blocks."""

  def __init__(self, f: BinaryIO):
    self.f = f
    self.buf = b""
    self.pos = 0  # Next unread byte of buf.
    self.offset = 0  # File offset of buf[0] (after the header).

  def fill(self, need: int) -> bool:
    """Makes ``need`` bytes available from ``pos``; False at end of file."""
    while len(self.buf) - self.pos < need:
      # Never more than a block at a time: a corrupt header can declare a
      # dimension whose row would not fit in memory, and the file then ends
      # long before; reading block by block finds that end instead.
      block = self.f.read(_READ_BYTES)
      if not block:
        return False
      self.offset += self.pos
      self.buf = self.buf[self.pos:] + block
      self.pos = 0
    return True

  def find_space(self) -> int:
    """Index in ``buf`` of the next b' ' at or after ``pos``, or -1 at EOF."""
    searched = self.pos
    while True:
      i = self.buf.find(b" ", searched)
      if i >= 0:
        return i
      done = len(self.buf) - self.pos  # Bytes after pos already searched.
      if not self.fill(done + 1):
        return -1
      searched = self.pos + done  # fill() may have moved pos to 0.


def read_word2vec_binary(name: str, f: BinaryIO, n: int, dim: int,
                         max_vocab: Optional[int]):
  """Reads the rows of a word2vec binary file (after its ``N D`` line).

  Each row is ``word``, one space, ``dim`` little-endian float32 values, and
  usually a newline (word2vec writes one; some writers do not).

  Returns:
    ``(word_to_index, vectors [n', dim] float32, duplicates, hit_max_vocab)``.
  """
  def error(row: int, at: int, message: str) -> EmbeddingFileError:
    return EmbeddingFileError(
        f"{name}: row {row} (byte {at} after line 1) of a word2vec binary "
        f"file: {message}")

  row_bytes = 4 * dim
  blocks = _Blocks(f)
  word_to_index: Dict[str, int] = {}
  duplicates: List[Tuple[int, str]] = []
  rows: List[np.ndarray] = []
  for row in range(1, n + 1):
    # Whitespace between rows (word2vec's newline) is not part of a word.
    while True:
      if not blocks.fill(1):
        raise error(row, blocks.offset + blocks.pos,
                    f"the file ends after {row - 1} of the {n} rows its "
                    "header (line 1) declares")
      if blocks.buf[blocks.pos] not in b" \t\n\r":
        break
      blocks.pos += 1
    start = blocks.offset + blocks.pos
    space = blocks.find_space()
    if space < 0:
      raise error(row, start, "the file ends inside a word")
    raw_word = blocks.buf[blocks.pos:space]
    try:
      word = raw_word.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
      raise error(row, start, f"word is not valid UTF-8 ({e.reason}: "
                  f"{raw_word[e.start:e.end]!r})") from None
    blocks.pos = space + 1
    if not blocks.fill(row_bytes):
      raise error(row, start, f"the file ends inside the {dim} float32 "
                  f"values of {word!r}")
    vector = np.frombuffer(blocks.buf, "<f4", dim, blocks.pos)
    blocks.pos += row_bytes
    if not np.all(np.isfinite(vector)):
      raise error(row, start, f"a value of {word!r} is not finite (NaN or "
                  "Inf); is this really a word2vec binary file?")
    if word in word_to_index:
      duplicates.append((row, word))
      continue
    word_to_index[word] = len(word_to_index)
    rows.append(vector)
    if len(word_to_index) == max_vocab:
      return word_to_index, np.stack(rows), duplicates, True
  vectors = np.stack(rows).astype(np.float32) if rows else None
  return word_to_index, vectors, duplicates, False
