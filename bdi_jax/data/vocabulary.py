"""The vocabulary of an embedding file: repeated words keep their first row.

Both readers (text and word2vec binary) skip a word seen before and remember
where, so that one warning can name the skipped rows.
"""

from typing import Dict, List, Optional, Tuple

import numpy as np

__all__ = ["add_words", "duplicates_warning"]

# How many duplicate words the warning quotes.
_DUPLICATES_QUOTED = 5


def add_words(words: List[str], line_numbers: np.ndarray,
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


def duplicates_warning(name: str, duplicates: List[Tuple[int, str]]
                      ) -> Optional[str]:
  """The message for rows skipped as repeated words, or None if none were.

  Args:
    name: the file.
    duplicates: ``(line or row, word)`` of each skipped row, in file order.
  """
  if not duplicates:
    return None
  quoted = ", ".join(f"{name}:{line} {word!r}"
                     for line, word in duplicates[:_DUPLICATES_QUOTED])
  more = ", ..." if len(duplicates) > _DUPLICATES_QUOTED else ""
  rows = "row" if len(duplicates) == 1 else "rows"
  return (f"{name}: skipped {len(duplicates)} {rows} of words seen "
          f"before (kept the first row of each): {quoted}{more}")
