"""Fuzz tests of the embedding and dictionary readers (hypothesis).

Whatever the bytes, a reader either returns a well-formed result or raises
the library's own error type (a :class:`bdi_jax.errors.DataError`), never
another exception: users see one clear line, not a traceback.
"""

import gzip
import pathlib
import tempfile
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import example, given, settings, strategies as st  # pylint: disable=g-import-not-at-top,g-multiple-import

from bdi_jax import errors
from bdi_jax.data import (DictionaryFileError, EmbeddingFileError,
                          load_dictionary, load_vec)

# Bounded, so that the file runs in a few seconds on 2 shared cores.
_SETTINGS = settings(max_examples=120, deadline=None, database=None)

# Fragments that reach the readers' corners: headers, numbers of every
# syntax, signs, exponents, non-finite values, Unicode, BOMs, control bytes,
# line ends, the gzip and fastText magics, tabs and score columns.
_FRAGMENTS = [
    b"2 3", b"1 1", b"0 5", b"3 2", b"a", b"b", b"\xc3\xb1o", b"\xff",
    b"\xef\xbb\xbf", b"1", b"-0.5", b"0.25", b"1e5", b"-1e-3", b"+2", b"nan",
    b"-inf", b"1e40", b"-3.5e38", b"1.2.3", b"--1", b"1-2", b".", b"-", b"12345678901234567890",
    b" ", b"  ", b"\t", b"\n", b"\r\n", b"\x00", b"\x01\x02", b"\x1f\x8b",
    b"\xba\x16\x4f\x2f", b"\xc2\xa0", b"source\ttarget\tscore", b"0.5\t",
    b"\x00\x00\x80\x3f",
]
_structured = st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(b"".join)
_any_bytes = st.one_of(st.binary(max_size=300), _structured)


def _read_vec(data: bytes, suffix: str):
  with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / f"fuzz{suffix}"
    path.write_bytes(data)
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")  # Duplicate words are fine here.
      return load_vec(path, cache=False)


def _check_vec(data: bytes, suffix: str) -> None:
  try:
    emb = _read_vec(data, suffix)
  except EmbeddingFileError as e:
    assert isinstance(e, errors.DataError)
    assert str(e).startswith(tempfile.gettempdir())  # Names the file.
    return
  n, d = emb.vectors.shape
  assert n == len(emb.words) == len(emb.word_to_index) >= 1 and d >= 1
  assert emb.vectors.dtype == np.float32
  assert np.isfinite(emb.vectors).all()
  assert [emb.word_to_index[w] for w in emb.words] == list(range(n))


@_SETTINGS
@given(_any_bytes, st.sampled_from([".vec", ".bin"]))
def test_vec_reader_parses_or_raises_its_own_error(data, suffix):
  _check_vec(data, suffix)


@_SETTINGS
@given(_any_bytes)
# Found by this test (2026-12-04): a word2vec header declaring a dimension
# whose row does not fit in memory (OverflowError, MemoryError before).
@example(b"1 3000000000000000000\n\x00 ")
@example(b"1 10000000000\n\x00 ")
def test_gzipped_vec_reader_parses_or_raises_its_own_error(data):
  _check_vec(gzip.compress(data), ".vec.gz")


@_SETTINGS
@given(st.binary(max_size=200), st.integers(1, 4))
def test_word2vec_binary_reader_parses_or_raises_its_own_error(body, dim):
  # A valid header in front of random rows: the binary reader's paths.
  _check_vec(f"3 {dim}\n".encode() + body, ".bin")


@_SETTINGS
@given(_any_bytes)
def test_dictionary_reader_parses_or_raises_its_own_error(data):
  vocab = {"a": 0, "b": 1, "ño": 2, "source": 3, "1": 4}
  with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / "fuzz.txt"
    path.write_bytes(data)
    try:
      result = load_dictionary(path, vocab, vocab)
    except DictionaryFileError as e:
      assert isinstance(e, errors.DataError)
      assert str(e).startswith(str(path))
      return
  pairs = result.pairs
  assert pairs.ndim == 2 and pairs.shape[1] == 2 and len(pairs) >= 1
  assert ((pairs >= 0) & (pairs < len(vocab))).all()
  assert len(np.unique(pairs, axis=0)) == len(pairs)
