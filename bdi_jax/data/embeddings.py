"""Reading word vectors in the fastText text format, and normalising them.

The format (fastText ``.vec``, also used for GloVe and word2vec exports here)::

  N D                 <- optional header: exactly two integers
  word v1 v2 ... vD   <- one row per word, values separated by spaces

Gzipped files (``.vec.gz``) are read transparently and word2vec binary files
(``.bin``: ``N D`` line, then ``word`` + space + ``D`` float32 per row) are
read too; a parsed file is cached as ``.npy`` + vocabulary (see
:func:`load_vec`).

The text reader works on blocks of about a megabyte of lines: Python splits off
and decodes the words with a few list-wide calls, and the numbers of the whole
block are parsed by array operations (:func:`_parse_decimals`). At 200k x 300
values, any per-number Python work would dominate the load time.
"""

import gzip
import hashlib
import io
import json
import os
import pathlib
import warnings
import zlib
from typing import (BinaryIO, Callable, Dict, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import numpy as np

from bdi_jax import errors
from bdi_jax import outputs
from bdi_jax import paths

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
    raise _error(path, int(line_numbers[row]), problems[row])
  return single.reshape(len(rests), dim)


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


# --- file kinds --------------------------------------------------------------

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
  raw = paths.open_data_file(path)
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


# --- word2vec binary -----------------------------------------------------------


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
      block = self.f.read(max(_CHUNK_BYTES, need))
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


def _read_word2vec_binary(name: str, f: BinaryIO, n: int, dim: int,
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


# --- fastText text -----------------------------------------------------------


def _read_text_rows(name: str, f: BinaryIO, lines: List[bytes], next_line: int,
                    dim: Optional[int], dim_source: str,
                    max_vocab: Optional[int]):
  """Reads the text rows of a ``.vec`` file, block by block.

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
      return word_to_index, np.concatenate(blocks), duplicates, rows_read, True
  vectors = np.concatenate(blocks, axis=0) if blocks else None
  return word_to_index, vectors, duplicates, rows_read, False


def _read_file(path: pathlib.Path, max_vocab: Optional[int],
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
        raise _error(name, None, "this is a fastText binary model (.bin), "
                     "which holds subword parameters rather than a vector "
                     "table; use the .vec file of the same download (fastText "
                     "text vectors), or write one with `fasttext "
                     "print-word-vectors`")
      first = f.readline().removeprefix(b"\xef\xbb\xbf")  # Skip a UTF-8 BOM.
      header = _parse_header(first)
      dim, dim_source = expected_dim, f"expected_dim={expected_dim}"
      if header is not None:
        if header[1] == 0:
          raise _error(name, 1, "header declares dimension 0")
        if expected_dim is not None and header[1] != expected_dim:
          raise _error(name, 1, f"header declares dimension {header[1]}, "
                       f"expected_dim={expected_dim}")
        dim, dim_source = header[1], "from the header on line 1"
      if header is not None and _looks_binary(path, f.peek(_SNIFF_BYTES)):
        word_to_index, vectors, duplicates, hit_max_vocab = (
            _read_word2vec_binary(name, f, header[0], header[1], max_vocab))
        rows_read = header[0]  # Checked by the reader itself.
      else:
        lines, next_line = ([], 2) if header is not None else ([first], 1)
        word_to_index, vectors, duplicates, rows_read, hit_max_vocab = (
            _read_text_rows(name, f, lines, next_line, dim, dim_source,
                            max_vocab))
  except (OSError, EOFError, zlib.error) as e:
    if not gzipped:
      raise
    raise _error(name, None, f"not a valid gzip file ({e})") from None

  if not word_to_index:
    raise _error(name, None, "no vectors after the header" if header else
                 "file is empty")
  if header is not None and not hit_max_vocab and rows_read != header[0]:
    raise _error(name, None, f"header (line 1) declares {header[0]} vectors "
                 f"but the file has {rows_read} rows")
  warning = None
  if duplicates:
    quoted = ", ".join(f"{name}:{line} {word!r}"
                       for line, word in duplicates[:_DUPLICATES_QUOTED])
    more = ", ..." if len(duplicates) > _DUPLICATES_QUOTED else ""
    rows = "row" if len(duplicates) == 1 else "rows"
    warning = (f"{name}: skipped {len(duplicates)} {rows} of words seen "
               f"before (kept the first row of each): {quoted}{more}")
  embeddings = Embeddings(words=tuple(word_to_index), vectors=vectors,
                          word_to_index=word_to_index, path=name)
  return embeddings, warning


# --- cache -------------------------------------------------------------------

# Where parsed files are cached unless load_vec is told otherwise.
CACHE_DIR_ENV = "BDI_CACHE_DIR"
# Files smaller than this load faster than a cache could be checked and kept.
_CACHE_MIN_BYTES = 16 << 20
# Bumped whenever what a cache entry holds changes.
_CACHE_VERSION = 1


def default_cache_dir() -> pathlib.Path:
  """``$BDI_CACHE_DIR``, else ``$XDG_CACHE_HOME/bdi-jax/vec-cache``, else
  ``~/.cache/bdi-jax/vec-cache``."""
  explicit = os.environ.get(CACHE_DIR_ENV)
  if explicit:
    return pathlib.Path(explicit).expanduser()
  return paths.user_cache_dir() / "vec-cache"


def _cache_entry(folder: pathlib.Path, path: pathlib.Path,
                 max_vocab: Optional[int]) -> Tuple[pathlib.Path, dict]:
  """``(entry prefix, what the entry must record)`` for one file and vocab."""
  source = str(path.resolve())
  key = hashlib.sha256(f"{source}\0{max_vocab}".encode("utf-8")).hexdigest()
  stat = path.stat()
  expected = {"version": _CACHE_VERSION, "source": source,
              "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
              "max_vocab": max_vocab}
  return folder / key[:24], expected


def _read_cache(prefix: pathlib.Path, expected: dict, name: str
                ) -> Optional[Tuple[Embeddings, Optional[str]]]:
  """The cached entry, or None if absent, stale or unreadable."""
  try:
    meta = json.loads(prefix.with_suffix(".json").read_text("utf-8"))
    if {k: meta.get(k) for k in expected} != expected:
      return None  # Another file at that path now, or another max_vocab.
    vectors = np.load(prefix.with_suffix(".npy"), allow_pickle=False)
    words = prefix.with_suffix(".words").read_bytes().decode("utf-8").split(
        "\n")
  except (OSError, ValueError):  # Missing, half-written, corrupt: re-read.
    return None
  if (vectors.dtype != np.float32 or vectors.ndim != 2 or
      len(words) != vectors.shape[0] or len(set(words)) != len(words)):
    return None
  word_to_index = {w: i for i, w in enumerate(words)}
  return (Embeddings(tuple(words), vectors, word_to_index, name),
          meta.get("warning"))


def _write_cache(prefix: pathlib.Path, expected: dict,
                 embeddings: Embeddings, warning: Optional[str]) -> None:
  """Stores an entry; silently does nothing where the folder is read-only."""
  # The metadata goes last: an entry without it is never read.
  meta = dict(expected, warning=warning, n=len(embeddings.words),
              dim=embeddings.dim)
  contents = [
      (".npy", lambda f: np.save(f, embeddings.vectors, allow_pickle=False)),
      (".words", lambda f: f.write("\n".join(embeddings.words).encode())),
      (".json", lambda f: f.write(json.dumps(meta).encode("utf-8"))),
  ]
  try:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for suffix, write in contents:
      with outputs.atomic_file(prefix.with_suffix(suffix)) as f:
        write(f)
  except OSError:
    pass  # No cache then (read-only data root, full disk): correctness first.


def _cache_folder(cache: Union[bool, str, os.PathLike],
                  path: pathlib.Path) -> Optional[pathlib.Path]:
  if cache is False or cache is None:
    return None
  if cache is True:
    try:
      if path.stat().st_size < _CACHE_MIN_BYTES:
        return None
    except OSError:
      return None  # Missing: the reader says so, with how to get it.
    return default_cache_dir()
  return pathlib.Path(cache).expanduser()


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
  folder = _cache_folder(cache, path)
  loaded = None
  if folder is not None:
    prefix, expected = _cache_entry(folder, path, max_vocab)
    loaded = _read_cache(prefix, expected, name)
  if loaded is None:
    loaded = _read_file(path, max_vocab, expected_dim)
    if folder is not None:
      _write_cache(prefix, expected, *loaded)
  embeddings, warning = loaded
  if expected_dim is not None and embeddings.dim != expected_dim:
    # Only a cached entry gets here; a parse checks it where it reads.
    raise _error(name, None, f"vectors are {embeddings.dim}-d, "
                 f"expected_dim={expected_dim}")
  if warning:
    warnings.warn(warning, stacklevel=2)
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


def _center(vectors: np.ndarray) -> np.ndarray:
  """Subtracts the mean vector (computed in float64 for accuracy)."""
  mean = vectors.mean(axis=0, dtype=np.float64)
  return (vectors - mean).astype(vectors.dtype, copy=False)


def _renorm(vectors: np.ndarray) -> np.ndarray:
  """Scales each row to unit L2 norm; all-zero rows stay zero."""
  norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
  safe = np.where(norms > 0, norms, 1.0)
  return (vectors / safe).astype(vectors.dtype, copy=False)


def _unit_dim(vectors: np.ndarray) -> np.ndarray:
  """Scales each dimension (column) to unit L2 norm; all-zero columns stay."""
  norms = np.linalg.norm(vectors.astype(np.float64), axis=0, keepdims=True)
  safe = np.where(norms > 0, norms, 1.0)
  return (vectors / safe).astype(vectors.dtype, copy=False)


# Name -> pure function [n, d] -> [n, d]; applied in the order requested.
# "unit" and "unitdim" are the names vecmap's --normalize uses (Artetxe et
# al. 2018): "unit" is "renorm", "unitdim" scales each dimension.
NORMALIZERS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "center": _center,
    "renorm": _renorm,
    "unit": _renorm,
    "unitdim": _unit_dim,
}


def normalize_embeddings(vectors: np.ndarray,
                         methods: Sequence[str]) -> np.ndarray:
  """Applies the named normalisations in order; the input is not modified.

  Args:
    vectors: ``[n, d]`` embeddings.
    methods: names from :data:`NORMALIZERS`, e.g. ``("center", "renorm")``
      or vecmap's ``("unit", "center", "unit")`` (the order matters); empty
      for none.

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
