"""Reading the rows of a fastText text file (``.vec``), block by block.

The format (fastText ``.vec``, also used for GloVe and word2vec exports)::

  N D                 <- optional header: exactly two integers
  word v1 v2 ... vD   <- one row per word, values separated by spaces

The reader works on blocks of about a megabyte of lines: Python splits off
and decodes the words with a few list-wide calls, and the numbers of the whole
block are parsed by array operations (:mod:`bdi_jax.data.decimals`). At
200k x 300 values, any per-number Python work would dominate the load time.
"""

from typing import BinaryIO, Dict, List, Optional, Tuple

import numpy as np

from bdi_jax.data.decimals import parse_decimals
from bdi_jax.data.embedding_types import file_error
from bdi_jax.data.vocabulary import add_words

__all__ = ["parse_header", "read_text_rows"]

# Text handed to one vectorised parse; bounds the temporary arrays (about 30
# bytes of them per byte of text) whatever the file size.
_CHUNK_BYTES = 1 << 20


def _parse_rows(path: str, rests: List[bytes], line_numbers: np.ndarray,
                dim: int, dim_source: str) -> np.ndarray:
  """Parses the value parts of some rows into ``[len(rests), dim]`` float32.

  Raises:
    EmbeddingFileError: at the first row (in file order) with the wrong number
      of values, a value that is not a number, or a NaN / Inf.
  """
  buf = b"\n".join(rests)
  values, starts, bad = parse_decimals(buf)
  # Row i occupies buf[row_ends[i-1] + 1 : row_ends[i]].
  row_ends = np.cumsum([len(r) + 1 for r in rests]) - 1
  counts = np.diff(np.searchsorted(starts, row_ends), prepend=0)

  def row_of(token: int) -> int:
    return int(np.searchsorted(row_ends, starts[token], side="right"))

  problems = {}  # row -> message; the earliest row is reported
  wrong = np.flatnonzero(counts != dim)
  if wrong.size:
    row = int(wrong[0])
    problems[row] = (f"expected {dim} values ({dim_source}), found "
                     f"{int(counts[row])}")
  if bad >= 0:
    token = buf[int(starts[bad]):int(starts[bad]) + 40].split()[0]
    problems.setdefault(
        row_of(bad),
        f"value {token.decode(errors='replace')!r} is not a number")
  else:
    not_finite = np.flatnonzero(~np.isfinite(values))
    if not_finite.size:
      problems.setdefault(
          row_of(not_finite[0]),
          f"value {values[not_finite[0]]} is not finite (NaN or Inf)")
  with np.errstate(over="ignore"):
    single = values.astype(np.float32)
  # Finite in float64 but beyond float32 (|x| > 3.4e38) would become Inf.
  overflow = np.flatnonzero(~np.isfinite(single) & np.isfinite(values))
  if overflow.size:
    problems.setdefault(
        row_of(overflow[0]),
        f"value {values[overflow[0]]:g} is too large for float32")
  if problems:
    row = min(problems)
    raise file_error(path, int(line_numbers[row]), problems[row])
  return single.reshape(len(rests), dim)


def parse_header(line: bytes) -> Optional[Tuple[int, int]]:
  """``(n, d)`` if ``line`` is a header (exactly two integers), else None."""
  fields = line.split()
  if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
    return int(fields[0]), int(fields[1])
  return None


def _split_lines(path: str, lines: List[bytes], first_line: int
                ) -> Tuple[List[str], List[bytes], np.ndarray]:
  """Splits raw rows into words and value text; blank lines are dropped.

  Returns:
    ``(words, rests, line_numbers)``: the decoded words, the bytes after each
    word, and the 1-based line number of each row.
  """
  # Splitting on ASCII whitespace only: fastText words never contain it, but
  # they may contain Unicode spaces (U+00A0 ...) that str.split() would cut.
  parts = [line.split(None, 1) for line in lines]
  line_numbers = np.arange(first_line, first_line + len(lines))
  if min(map(len, parts), default=2) < 2:  # Rare: blank or value-less lines.
    kept = [i for i, p in enumerate(parts) if p]
    line_numbers = line_numbers[kept]
    parts = [parts[i] if len(parts[i]) == 2 else [parts[i][0], b""]
             for i in kept]
  if not parts:
    return [], [], line_numbers
  # One decode for the whole block; words cannot contain a newline.
  joined = b"\n".join([p[0] for p in parts])
  try:
    words = joined.decode("utf-8", errors="strict").split("\n")
  except UnicodeDecodeError as e:
    row = joined.count(b"\n", 0, e.start)
    raise file_error(path, int(line_numbers[row]),
                     f"word is not valid UTF-8 ({e.reason}: "
                     f"{e.object[e.start:e.end]!r})") from None
  return words, [p[1] for p in parts], line_numbers


def read_text_rows(name: str, f: BinaryIO, lines: List[bytes], next_line: int,
                   dim: Optional[int], dim_source: str,
                   max_vocab: Optional[int]):
  """Reads the text rows of a ``.vec`` file, block by block.

  Args:
    name: the file, for messages.
    f: the file, positioned after the lines already in ``lines``.
    lines: lines already read but not parsed (line 1 when it is no header).
    next_line: the 1-based number of ``lines[0]``.
    dim: values per row, or None to take it from the first row.
    dim_source: where ``dim`` comes from, for messages.
    max_vocab: stop after this many unique words (None: read all).

  Returns:
    ``(word_to_index, vectors [n, d] float32 or None, duplicates,
    rows_read, hit_max_vocab)``.
  """
  word_to_index: Dict[str, int] = {}
  duplicates: List[Tuple[int, str]] = []
  blocks: List[np.ndarray] = []
  rows_read = 0
  while True:
    lines += f.readlines(_CHUNK_BYTES)
    if not lines:
      break
    words, rests, line_numbers = _split_lines(name, lines, next_line)
    next_line += len(lines)
    lines = []
    if not words:
      continue
    if dim is None:
      dim = len(rests[0].split())
      if dim == 0:
        raise file_error(name, int(line_numbers[0]),
                         f"row for {words[0]!r} has no values")
      dim_source = f"as on line {line_numbers[0]}"
    consumed, keep = add_words(words, line_numbers, word_to_index,
                               duplicates, max_vocab)
    rows_read += consumed
    vectors = _parse_rows(name, rests[:consumed], line_numbers[:consumed],
                          dim, dim_source)
    blocks.append(vectors if keep is None else vectors[keep])
    if len(word_to_index) == max_vocab:
      return word_to_index, np.concatenate(blocks), duplicates, rows_read, True
  vectors = np.concatenate(blocks, axis=0) if blocks else None
  return word_to_index, vectors, duplicates, rows_read, False
