"""Reading word vectors in the fastText text format, and normalising them.

The format (fastText ``.vec``, also used for GloVe and word2vec exports here)::

  N D                 <- optional header: exactly two integers
  word v1 v2 ... vD   <- one row per word, values separated by spaces

The reader works on blocks of about a megabyte of lines: Python splits off
and decodes the words with a few list-wide calls, and the numbers of the whole
block are parsed by array operations (:func:`_parse_decimals`). At 200k x 300
values, any per-number Python work would dominate the load time.
"""

import os
import pathlib
import warnings
from typing import (Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple,
                    Union)

import numpy as np

from bdi_jax import errors
from bdi_jax import paths

__all__ = [
    "Embeddings",
    "EmbeddingFileError",
    "load_vec",
    "NORMALIZERS",
    "normalize_embeddings",
]


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


# Text handed to one vectorised parse; bounds the temporary arrays (about 30
# bytes of them per byte of text) whatever the file size.
_CHUNK_BYTES = 1 << 20
# How many duplicate words the warning quotes.
_DUPLICATES_QUOTED = 5

# With at most 15 digits the integer mantissa is exact in float64 (10**15 <
# 2**53), and so is 10**k; one IEEE division then gives the correctly rounded
# value, exactly what float() returns.
_MAX_FAST_DIGITS = 15
_POW10_INT = 10 ** np.arange(_MAX_FAST_DIGITS + 1, dtype=np.int64)
_POW10_FLOAT = 10.0 ** np.arange(_MAX_FAST_DIGITS + 1)


def _token_index(starts: np.ndarray, positions: np.ndarray) -> np.ndarray:
  """Index of the token holding each byte position (tokens start at starts)."""
  return np.searchsorted(starts, positions, side="right") - 1


def _parse_decimals(buf: bytes) -> Tuple[np.ndarray, np.ndarray, int]:
  """Parses the whitespace-separated numbers in ``buf``.

  Tokens of the form ``-?digits.digits`` (at most 15 digits) are parsed with
  array operations; anything else (exponents, ``+``, ``nan``, junk) falls back
  to ``float()`` token by token, so the accepted syntax is that of ``float``.
  Measured on this project's CPUs, this is about twice as fast as
  ``np.fromstring`` or ``float()`` per number on 300-d fastText rows.

  Args:
    buf: text, at most 2**31 bytes.

  Returns:
    ``(values [t] float64, starts [t] int64, bad)``: the numbers, the byte
    offset where each token starts, and the index of the first token that is
    not a number (-1 if all are).
  """
  chars = np.frombuffer(buf, np.uint8)
  # ASCII whitespace as bytes.split() sees it: space and \t \n \v \f \r.
  is_space = (chars == 32) | ((chars - np.uint8(9)) < 5)
  edge = np.diff((~is_space).view(np.int8), prepend=np.int8(0),
                 append=np.int8(0))
  starts = np.flatnonzero(edge == 1)
  ends = np.flatnonzero(edge == -1)
  n = starts.size
  if n == 0:
    return np.zeros(0), starts, -1

  digit_value = chars - np.uint8(48)
  is_digit = digit_value < 10
  digits_through = np.cumsum(is_digit, dtype=np.int32)  # digits in buf[:i+1]
  digits_end = digits_through[ends - 1]
  digits_before = digits_through[starts] - is_digit[starts]
  num_digits = digits_end - digits_before

  # Integer mantissa: digit * 10**(digits after it in the same token), summed.
  total_digits = int(digits_through[-1])
  rank = np.repeat(digits_end, num_digits)
  rank -= np.arange(1, total_digits + 1, dtype=np.int32)
  np.minimum(rank, _MAX_FAST_DIGITS, out=rank)
  # One spare 0 at the end gives digit-less final tokens a valid index.
  contrib = np.zeros(total_digits + 1, np.int64)
  np.take(_POW10_INT, rank, out=contrib[:total_digits])
  contrib[:total_digits] *= digit_value[is_digit]
  mantissa = np.add.reduceat(contrib, digits_before)

  is_dot = chars == 46
  dot_pos = np.flatnonzero(is_dot)
  dot_token = np.cumsum(edge[:-1] == 1, dtype=np.int32)[dot_pos] - 1
  num_dots = np.bincount(dot_token, minlength=n)
  frac_digits = np.zeros(n, np.int32)
  frac_digits[dot_token] = digits_end[dot_token] - digits_through[dot_pos]
  values = mantissa / _POW10_FLOAT[np.minimum(frac_digits, _MAX_FAST_DIGITS)]

  negative = chars[starts] == 45
  np.negative(values, out=values, where=negative)

  slow = (num_dots > 1) | (num_digits == 0) | (num_digits > _MAX_FAST_DIGITS)
  is_minus = chars == 45
  if np.count_nonzero(is_minus) != np.count_nonzero(negative):
    # Some '-' is not a leading sign ("1-2", "--1"); rare, so no hurry.
    minus_pos = np.flatnonzero(is_minus)
    inner = minus_pos[~np.isin(minus_pos, starts)]
    slow[_token_index(starts, inner)] = True
  known = is_space | is_digit | is_dot | is_minus
  slow[_token_index(starts, np.flatnonzero(~known))] = True

  for i in np.flatnonzero(slow):
    try:
      values[i] = float(buf[starts[i]:ends[i]])
    except ValueError:
      return values, starts, int(i)
  return values, starts, -1


def _error(path: str, line: Optional[int], message: str) -> EmbeddingFileError:
  where = f"{path}:{line}: " if line is not None else f"{path}: "
  return EmbeddingFileError(where + message)


def _parse_rows(path: str, rests: List[bytes], line_numbers: np.ndarray,
                dim: int, dim_source: str) -> np.ndarray:
  """Parses the value parts of some rows into ``[len(rests), dim]`` float32.

  Raises:
    EmbeddingFileError: at the first row (in file order) with the wrong number
      of values, a value that is not a number, or a NaN / Inf.
  """
  buf = b"\n".join(rests)
  values, starts, bad = _parse_decimals(buf)
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
  if problems:
    row = min(problems)
    raise _error(path, int(line_numbers[row]), problems[row])
  return values.astype(np.float32).reshape(len(rests), dim)


def _parse_header(line: bytes) -> Optional[Tuple[int, int]]:
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
    raise _error(path, int(line_numbers[row]),
                 f"word is not valid UTF-8 ({e.reason}: "
                 f"{e.object[e.start:e.end]!r})") from None
  return words, [p[1] for p in parts], line_numbers


def _add_words(words: List[str], line_numbers: np.ndarray,
               word_to_index: Dict[str, int],
               duplicates: List[Tuple[int, str]],
               max_vocab: Optional[int]) -> Tuple[int, Optional[np.ndarray]]:
  """Adds a block's new words to ``word_to_index`` (an accumulator).

  Returns:
    ``(consumed, keep)``: how many of ``words`` were looked at (fewer than all
    when ``max_vocab`` is reached) and a mask of the rows to keep among them,
    or None to keep all.
  """
  start = len(word_to_index)
  room = len(words) if max_vocab is None else max_vocab - start
  if len(words) <= room:  # Common case: no duplicates, far from max_vocab.
    # keys().isdisjoint(list) walks the list; the other way round would walk
    # the whole vocabulary for every block.
    if (len(set(words)) == len(words) and
        word_to_index.keys().isdisjoint(words)):
      word_to_index.update(zip(words, range(start, start + len(words))))
      return len(words), None
  keep = np.zeros(len(words), bool)
  for i, word in enumerate(words):
    if word in word_to_index:
      duplicates.append((int(line_numbers[i]), word))
    else:
      word_to_index[word] = len(word_to_index)
      keep[i] = True
      if len(word_to_index) == max_vocab:
        return i + 1, keep[:i + 1]
  return len(words), keep


def load_vec(path: Union[str, os.PathLike],
             max_vocab: Optional[int] = None,
             expected_dim: Optional[int] = None) -> Embeddings:
  """Reads a fastText text-format embedding file.

  The header line ``N D`` is optional (it is recognised as exactly two
  integers on line 1). Rows are ``word v1 .. vD`` for any ``D``; trailing
  whitespace and ``\\r\\n`` line ends are accepted, blank lines skipped. Of
  repeated words the first row is kept and the rest skipped with one warning.

  Args:
    path: the ``.vec`` file.
    max_vocab: keep the first ``max_vocab`` unique words and stop reading.
    expected_dim: if given, the file's dimension must equal it.

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

  word_to_index: Dict[str, int] = {}
  duplicates: List[Tuple[int, str]] = []
  blocks: List[np.ndarray] = []
  dim = expected_dim
  dim_source = f"expected_dim={expected_dim}"
  rows_read = 0
  hit_max_vocab = False

  with paths.open_data_file(path) as f:
    first = f.readline().removeprefix(b"\xef\xbb\xbf")  # Skip a UTF-8 BOM.
    header = _parse_header(first)
    if header is not None:
      if header[1] == 0:
        raise _error(name, 1, "header declares dimension 0")
      if expected_dim is not None and header[1] != expected_dim:
        raise _error(name, 1, f"header declares dimension {header[1]}, "
                     f"expected_dim={expected_dim}")
      dim = header[1]
      dim_source = "from the header on line 1"
      lines, next_line = [], 2
    else:
      lines, next_line = [first], 1
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
          raise _error(name, int(line_numbers[0]),
                       f"row for {words[0]!r} has no values")
        dim_source = f"as on line {line_numbers[0]}"
      consumed, keep = _add_words(words, line_numbers, word_to_index,
                                  duplicates, max_vocab)
      rows_read += consumed
      vectors = _parse_rows(name, rests[:consumed], line_numbers[:consumed],
                            dim, dim_source)
      blocks.append(vectors if keep is None else vectors[keep])
      if len(word_to_index) == max_vocab:
        hit_max_vocab = True
        break

  if not word_to_index:
    raise _error(name, None, "no vectors after the header" if header else
                 "file is empty")
  if header is not None and not hit_max_vocab and rows_read != header[0]:
    raise _error(name, None, f"header (line 1) declares {header[0]} vectors "
                 f"but the file has {rows_read} rows")
  if duplicates:
    quoted = ", ".join(f"{name}:{line} {word!r}"
                       for line, word in duplicates[:_DUPLICATES_QUOTED])
    more = ", ..." if len(duplicates) > _DUPLICATES_QUOTED else ""
    rows = "row" if len(duplicates) == 1 else "rows"
    warnings.warn(f"{name}: skipped {len(duplicates)} {rows} of words seen "
                  f"before (kept the first row of each): {quoted}{more}",
                  stacklevel=2)
  return Embeddings(words=tuple(word_to_index),
                    vectors=np.concatenate(blocks, axis=0),
                    word_to_index=word_to_index,
                    path=name)


def _center(vectors: np.ndarray) -> np.ndarray:
  """Subtracts the mean vector (computed in float64 for accuracy)."""
  mean = vectors.mean(axis=0, dtype=np.float64)
  return (vectors - mean).astype(vectors.dtype, copy=False)


def _renorm(vectors: np.ndarray) -> np.ndarray:
  """Scales each row to unit L2 norm; all-zero rows stay zero."""
  norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
  safe = np.where(norms > 0, norms, 1.0)
  return (vectors / safe).astype(vectors.dtype, copy=False)


# Name -> pure function [n, d] -> [n, d]; applied in the order requested.
NORMALIZERS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "center": _center,
    "renorm": _renorm,
}


def normalize_embeddings(vectors: np.ndarray,
                         methods: Sequence[str]) -> np.ndarray:
  """Applies the named normalisations in order; the input is not modified.

  Args:
    vectors: ``[n, d]`` embeddings.
    methods: names from :data:`NORMALIZERS`, e.g. ``("center", "renorm")``
      (the order matters); empty for none.

  Returns:
    A new ``[n, d]`` array of the same dtype.

  Raises:
    ValueError: an unknown method name.
    TypeError: ``methods`` is a single string.
  """
  if isinstance(methods, (str, bytes)):
    raise TypeError(f"methods must be a sequence of names such as "
                    f"('center', 'renorm'), got the string {methods!r}")
  unknown = [m for m in methods if m not in NORMALIZERS]
  if unknown:
    raise ValueError(f"Unknown normalisation(s) {unknown}; known: "
                     f"{sorted(NORMALIZERS)}")
  vectors = np.asarray(vectors)
  if vectors.ndim != 2:
    raise ValueError(f"vectors must be [n, d], got shape {vectors.shape}")
  # Integer input would be truncated by the in-dtype results below.
  dtype = vectors.dtype if np.issubdtype(vectors.dtype, np.floating) else (
      np.float32)
  out = np.array(vectors, dtype=dtype, copy=True)
  for method in methods:
    out = NORMALIZERS[method](out)
  return out
