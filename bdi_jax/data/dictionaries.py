"""Reading bilingual dictionaries (``src tgt`` per line) as index pairs.

A word is looked up as written, then lower-cased: the embeddings used here are
lower-case while some gold lexicons are not (e.g. ``forma Host`` in the
UBiLexAT es-en test set).

Besides MUSE's ``src tgt`` files, the ``dictionary.tsv`` a run writes is read
as it is (header ``source<TAB>target<TAB>score``, then a score column), and
:func:`identical_strings` builds the dictionary of words written the same in
both languages (MUSE's ``identical_char``).
"""

import math
import os
import pathlib
from typing import Dict, List, NamedTuple, Set, Tuple, Union

import numpy as np

from bdi_jax import errors
from bdi_jax.data import catalogue

__all__ = [
    "Coverage",
    "Dictionary",
    "DictionaryFileError",
    "identical_strings",
    "load_dictionary",
    "lookup_word",
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


# First line of the dictionary.tsv a run writes (bdi_jax.outputs).
_TSV_HEADERS = (("source", "target"), ("source", "target", "score"))


def lookup_word(word: str, word_to_index: Dict[str, int]) -> int:
  """Row of ``word`` as written, else lower-cased, else -1."""
  index = word_to_index.get(word)
  if index is None:
    index = word_to_index.get(word.lower(), -1)
  return index


def _is_score(field: str) -> bool:
  try:
    return math.isfinite(float(field))
  except ValueError:
    return False


def load_dictionary(path: Union[str, os.PathLike],
                    src_word_to_index: Dict[str, int],
                    tgt_word_to_index: Dict[str, int]) -> Dictionary:
  """Reads ``src tgt`` lines and keeps the pairs both vocabularies contain.

  Fields are separated by any whitespace (the MUSE files use a space, their
  part-of-speech splits a tab); blank lines are skipped; repeated pairs count
  once. A first line ``source target [score]`` is a header (that of a run's
  ``dictionary.tsv``) and skipped; a third field that is a number (a score) is
  ignored.

  Args:
    path: the dictionary file (UTF-8).
    src_word_to_index: source vocabulary, word -> row.
    tgt_word_to_index: target vocabulary, word -> row.

  Returns:
    The :class:`Dictionary`.

  Raises:
    FileNotFoundError: ``path`` does not exist (the message says how to get
      it).
    DictionaryFileError: invalid UTF-8, a line without two fields (and a
      score), an empty file, or no pair inside the vocabularies.
  """
  path = pathlib.Path(path).expanduser()
  name = str(path)
  if path.is_dir():
    raise DictionaryFileError(f"{name}: is a folder, not a dictionary file")
  word_pairs: Set[Tuple[str, str]] = set()
  source_words: Set[str] = set()
  index_pairs: Set[Tuple[int, int]] = set()
  with catalogue.open_data_file(path) as f:
    for line_no, raw in enumerate(f, start=1):
      try:
        line = raw.decode("utf-8", errors="strict")
      except UnicodeDecodeError as e:
        raise DictionaryFileError(
            f"{name}:{line_no}: not valid UTF-8 ({e})") from None
      fields = line.split()
      if not fields:
        continue
      if line_no == 1 and tuple(f.lower() for f in fields) in _TSV_HEADERS:
        continue
      if len(fields) == 3 and _is_score(fields[2]):
        fields = fields[:2]
      if len(fields) != 2:
        raise DictionaryFileError(
            f"{name}:{line_no}: expected 2 whitespace-separated fields "
            f"(source target, optionally a numeric score), found "
            f"{len(fields)}: {line.strip()!r}")
      pair = (fields[0], fields[1])
      if pair in word_pairs:
        continue
      word_pairs.add(pair)
      source_words.add(pair[0])
      src = lookup_word(pair[0], src_word_to_index)
      tgt = lookup_word(pair[1], tgt_word_to_index)
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


def identical_strings(src_word_to_index: Dict[str, int],
                      tgt_word_to_index: Dict[str, int],
                      name: str = "identical") -> Dictionary:
  """The dictionary of every word written the same in both vocabularies.

  A supervision signal that needs no dictionary (Smith et al. 2017, "Offline
  bilingual word vectors, orthogonal transformations and the inverted
  softmax"; MUSE's ``identical_char``): names, numbers and loanwords are
  shared.

  Args:
    src_word_to_index: source vocabulary, word -> row.
    tgt_word_to_index: target vocabulary, word -> row.
    name: what error messages and ``Dictionary.path`` call it.

  Returns:
    The :class:`Dictionary` of ``(src row, tgt row)`` pairs, sorted.

  Raises:
    DictionaryFileError: no word is shared.
  """
  shared = src_word_to_index.keys() & tgt_word_to_index.keys()
  if not shared:
    raise DictionaryFileError(
        f"{name}: no word is written the same in both vocabularies "
        f"({len(src_word_to_index)} source, {len(tgt_word_to_index)} target "
        "words); give a dictionary file instead")
  pairs = np.array(sorted((src_word_to_index[w], tgt_word_to_index[w])
                          for w in shared), dtype=np.int32).reshape(-1, 2)
  n = len(pairs)
  return Dictionary(pairs=pairs, coverage=Coverage(n, n, n, n), path=name)


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
