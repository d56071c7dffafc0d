"""Reading bilingual dictionaries (``src tgt`` per line) as index pairs.

A word is looked up as written, then lower-cased: the embeddings used here are
lower-case while some gold lexicons are not (e.g. ``forma Host`` in the
UBiLexAT es-en test set).
"""

import os
import pathlib
from typing import Dict, List, NamedTuple, Set, Tuple, Union

import numpy as np

from bdi_jax import errors
from bdi_jax import paths

__all__ = [
    "Coverage",
    "Dictionary",
    "DictionaryFileError",
    "load_dictionary",
    "pairs_to_gold",
]


class Coverage(NamedTuple):
  """How much of a dictionary file the vocabularies cover.

  Attributes:
    pairs_found: distinct ``(source index, target index)`` pairs kept.
    pairs_total: distinct ``(source, target)`` word pairs in the file.
    source_words_found: distinct source indices among the kept pairs (the
      queries an evaluation can ask).
    source_words_total: distinct source words in the file.
  """
  pairs_found: int
  pairs_total: int
  source_words_found: int
  source_words_total: int

  def as_dict(self) -> Dict[str, int]:
    """Flat dict for logging."""
    return {
        "pairs": self.pairs_found,
        "source_words": self.source_words_found,
        "pairs_total": self.pairs_total,
        "source_words_total": self.source_words_total,
    }


class Dictionary(NamedTuple):
  """A dictionary file mapped onto two vocabularies.

  Attributes:
    pairs: ``[m, 2]`` int32 rows ``(source index, target index)``, unique,
      sorted by source then target.
    coverage: counts of what was found.
    path: the file read.
  """
  pairs: np.ndarray
  coverage: Coverage
  path: str


class DictionaryFileError(errors.DataError):
  """A malformed or useless dictionary file; message starts ``path:line:``."""


def _lookup(word: str, word_to_index: Dict[str, int]) -> int:
  index = word_to_index.get(word)
  if index is None:
    index = word_to_index.get(word.lower(), -1)
  return index


def load_dictionary(path: Union[str, os.PathLike],
                    src_word_to_index: Dict[str, int],
                    tgt_word_to_index: Dict[str, int]) -> Dictionary:
  """Reads ``src tgt`` lines and keeps the pairs both vocabularies contain.

  Fields are separated by any whitespace (the MUSE files use a space, their
  part-of-speech splits a tab); blank lines are skipped; repeated pairs count
  once.

  Args:
    path: the dictionary file (UTF-8).
    src_word_to_index: source vocabulary, word -> row.
    tgt_word_to_index: target vocabulary, word -> row.

  Returns:
    The :class:`Dictionary`.

  Raises:
    FileNotFoundError: ``path`` does not exist (the message says how to get
      it).
    DictionaryFileError: invalid UTF-8, a line without exactly two fields, an
      empty file, or no pair inside the vocabularies.
  """
  path = pathlib.Path(path).expanduser()
  name = str(path)
  word_pairs: Set[Tuple[str, str]] = set()
  source_words: Set[str] = set()
  index_pairs: Set[Tuple[int, int]] = set()
  with paths.open_data_file(path) as f:
    for line_no, raw in enumerate(f, start=1):
      try:
        line = raw.decode("utf-8", errors="strict")
      except UnicodeDecodeError as e:
        raise DictionaryFileError(
            f"{name}:{line_no}: not valid UTF-8 ({e})") from None
      fields = line.split()
      if not fields:
        continue
      if len(fields) != 2:
        raise DictionaryFileError(
            f"{name}:{line_no}: expected 2 whitespace-separated fields "
            f"(source target), found {len(fields)}: {line.strip()!r}")
      pair = (fields[0], fields[1])
      if pair in word_pairs:
        continue
      word_pairs.add(pair)
      source_words.add(pair[0])
      src = _lookup(pair[0], src_word_to_index)
      tgt = _lookup(pair[1], tgt_word_to_index)
      if src >= 0 and tgt >= 0:
        index_pairs.add((src, tgt))

  if not word_pairs:
    raise DictionaryFileError(f"{name}: dictionary file is empty")
  if not index_pairs:
    raise DictionaryFileError(
        f"{name}: none of the {len(word_pairs)} pairs read has both words in "
        f"the vocabularies ({len(src_word_to_index)} source words, "
        f"{len(tgt_word_to_index)} target words); wrong language direction or "
        "vocabulary?")
  pairs = np.array(sorted(index_pairs), dtype=np.int32).reshape(-1, 2)
  coverage = Coverage(
      pairs_found=len(pairs),
      pairs_total=len(word_pairs),
      source_words_found=len(np.unique(pairs[:, 0])),
      source_words_total=len(source_words))
  return Dictionary(pairs=pairs, coverage=coverage, path=name)


def pairs_to_gold(pairs: np.ndarray) -> Tuple[np.ndarray, List[np.ndarray]]:
  """Groups ``(source, target)`` pairs by source.

  Args:
    pairs: ``[m, 2]`` integer pairs, any order, repeats allowed.

  Returns:
    ``(sources, targets)``: ``sources`` ``[q]`` sorted unique source ids and,
    for each, ``targets[i]`` the sorted unique gold target ids.
  """
  pairs = np.asarray(pairs)
  if pairs.ndim != 2 or pairs.shape[1] != 2:
    raise ValueError(f"pairs must be [m, 2], got shape {pairs.shape}")
  if not np.issubdtype(pairs.dtype, np.integer) and pairs.size:
    raise ValueError(f"pairs must be integers, got {pairs.dtype}")
  if not pairs.size:
    return np.zeros(0, np.int32), []
  pairs = np.unique(pairs, axis=0)  # Sorted by source, then target.
  sources, first = np.unique(pairs[:, 0], return_index=True)
  return sources, np.split(pairs[:, 1], first[1:])
