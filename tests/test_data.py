"""Tests for bdi_jax.paths and bdi_jax.data (readers, normalisation, download).

References are independent of the code under test: values are re-parsed with
plain ``float()``, coverage is recounted with Python sets, normalisation is
recomputed in float64 NumPy.
"""

import gzip
import io
import os
import pathlib
import urllib.request
import warnings

import numpy as np
import pytest

from bdi_jax import errors
from bdi_jax import outputs
from bdi_jax import paths
from bdi_jax.data import dictionaries
from bdi_jax.data import tasks
from bdi_jax.data import download
from bdi_jax.data import embeddings
from bdi_jax.data import vec_cache
from bdi_jax.data import vec_files
from bdi_jax.data import vec_text
from bdi_jax.data import (Coverage, DictionaryFileError, EmbeddingFileError,
                          load_dictionary, load_vec, normalize_embeddings,
                          pairs_to_gold)

# ----------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _private_vec_cache(tmp_path, monkeypatch):
  # load_vec caches large files in the user's cache by default; tests keep
  # theirs private.
  monkeypatch.setenv(embeddings.CACHE_DIR_ENV, str(tmp_path / "vec-cache"))


def _write(path: pathlib.Path, text: str, newline: str = "\n") -> pathlib.Path:
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_bytes(text.replace("\n", newline).encode("utf-8"))
  return path


def _vec_text(words, vectors, header=True, trailing=""):
  lines = [f"{len(words)} {vectors.shape[1]}"] if header else []
  for word, row in zip(words, vectors):
    lines.append(word + " " + " ".join(repr(float(v)) for v in row) + trailing)
  return "\n".join(lines) + "\n"


def _reference_rows(path: pathlib.Path, skip_header: bool):
  """Independent reader: {word: float32 row} with plain float()."""
  rows = {}
  with open(path, encoding="utf-8") as f:
    if skip_header:
      next(f)
    for line in f:
      fields = line.rstrip().split(" ")
      rows.setdefault(fields[0],
                      np.array([float(x) for x in fields[1:]], np.float32))
  return rows


_WORDS = ["el", "perro", "año", "niño", "über"]  # Non-ASCII on purpose.


@pytest.fixture
def odd_vectors():
  # d=7, n=5: odd sizes so a transposed reshape cannot pass.
  return np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)


# -------------------------------------------------------------- load_vec


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("newline,trailing", [("\n", ""), ("\r\n", ""),
                                              ("\n", "  "), ("\r\n", " \t")])
def test_load_vec_small(tmp_path, odd_vectors, header, newline, trailing):
  path = _write(tmp_path / "small.vec",
                _vec_text(_WORDS, odd_vectors, header, trailing), newline)
  emb = load_vec(path)
  assert emb.words == tuple(_WORDS)
  assert emb.dim == 7
  assert emb.vectors.shape == (5, 7) and emb.vectors.dtype == np.float32
  # repr() round-trips float32 values exactly through float64.
  np.testing.assert_array_equal(emb.vectors, odd_vectors)
  assert emb.word_to_index == {w: i for i, w in enumerate(_WORDS)}
  assert emb.path == str(path)


def test_load_vec_number_syntax_matches_float(tmp_path):
  tokens = ["1", "-1", "0.5", "-.5", ".5", "5.", "-0", "1e-05", "-1.2E+3",
            "+3", "00012", "0.000123456789012345678", "123456789012345678",
            "3.14159265358979323846", "-0.0021", "7.0"]
  path = _write(tmp_path / "syntax.vec", "w " + " ".join(tokens) + "\n")
  emb = load_vec(path)
  expected = np.array([float(t) for t in tokens], np.float32)
  np.testing.assert_array_equal(emb.vectors[0], expected)
  assert np.signbit(emb.vectors[0, 6])  # "-0" keeps its sign, like float().


def test_load_vec_many_blocks_same_result(tmp_path, monkeypatch):
  rng = np.random.default_rng(1)
  vectors = rng.normal(size=(41, 3)).astype(np.float32)
  words = [f"w{i}" for i in range(41)]
  text = _vec_text(words, vectors).replace("w20 ", "\nw20 ")  # A blank line.
  path = _write(tmp_path / "blocks.vec", text)
  whole = load_vec(path)
  monkeypatch.setattr(vec_text, "_CHUNK_BYTES", 50)  # ~1 row per block.
  blocked = load_vec(path)
  np.testing.assert_array_equal(whole.vectors, vectors)
  np.testing.assert_array_equal(blocked.vectors, vectors)
  assert blocked.words == whole.words == tuple(words)
  # Line numbers stay right across blocks and the blank line: w30 is on 33.
  _write(path, text.replace("w30 ", "w30 x"))
  with pytest.raises(EmbeddingFileError, match=r"blocks\.vec:33: "):
    load_vec(path)


def test_load_vec_keeps_unicode_spaces_inside_words(tmp_path):
  # U+00A0 occurs inside fastText words; only ASCII whitespace separates.
  path = _write(tmp_path / "nbsp.vec", "a\u00a0b 1 2\nc 3 4\n")
  emb = load_vec(path)
  assert emb.words == ("a\u00a0b", "c")
  np.testing.assert_array_equal(emb.vectors, [[1, 2], [3, 4]])


_BAD_FILES = {
    # name: (file text, expected_dim, expected message prefix after the name)
    "wrong_count": ("3 2\na 1 2\nb 1 2\nc 1 2 3\n", None, ":4: "),
    "wrong_count_no_header": ("a 1 2 3\nb 1 2\nc 1 2 3\n", None, ":2: "),
    "not_a_number": ("3 2\na 1 2\nb 1 x2\nc 1 2\n", None, ":3: "),
    "comma_decimal": ("a 1 2\nb 1,5 2\n", None, ":2: "),
    "nan": ("3 2\na 1 2\nb nan 2\nc 1 2\n", None, ":3: "),
    "inf": ("a 1 2\nb 1 2\nc 1 -inf\n", None, ":3: "),
    "float32_overflow": ("a 1 2\nb 1e40 2\n", None, ":2: "),  # Fuzz found.
    "empty": ("", None, ": "),
    "blank_only": ("\n  \n", None, ": "),
    "header_only": ("0 300\n", None, ": "),
    "header_dim_disagrees": ("2 3\na 1 2\nb 1 2\n", None, ":2: "),
    "header_count_disagrees": ("3 2\na 1 2\nb 1 2\n", None, ": "),
    "header_dim_zero": ("2 0\na\nb\n", None, ":1: "),
    "expected_dim_header": ("2 2\na 1 2\nb 1 2\n", 3, ":1: "),
    "expected_dim_rows": ("a 1 2\nb 1 2\n", 3, ":1: "),
    "no_values": ("a\nb 1\n", None, ":1: "),
}


@pytest.mark.parametrize("case", sorted(_BAD_FILES))
def test_load_vec_errors_name_file_and_line(tmp_path, case):
  text, expected_dim, where = _BAD_FILES[case]
  path = _write(tmp_path / f"{case}.vec", text)
  with pytest.raises(EmbeddingFileError) as info:
    load_vec(path, expected_dim=expected_dim)
  message = str(info.value)
  assert message.startswith(str(path) + where), message
  assert len(message) > len(str(path) + where) + 5  # Says what is wrong.


def test_load_vec_bad_utf8_names_line(tmp_path):
  path = tmp_path / "latin1.vec"
  path.write_bytes(b"2 2\na 1 2\nni\xf1o 1 2\n")
  with pytest.raises(EmbeddingFileError, match=r"latin1\.vec:3: .*UTF-8"):
    load_vec(path)


def test_load_vec_missing_file_says_how_to_get_it(tmp_path):
  path = tmp_path / "fasttext-wiki" / "wiki.xx.vec"
  with pytest.raises(FileNotFoundError) as info:
    load_vec(path)
  message = str(info.value)
  assert str(path) in message
  assert "BDI_DATA_DIR" in message
  assert "python -m bdi_jax.data.download --fasttext xx" in message


def test_load_vec_duplicates_keep_first_and_warn_once(tmp_path):
  text = "5 2\na 1 1\nb 2 2\na 3 3\nc 4 4\nb 5 5\n"
  path = _write(tmp_path / "dups.vec", text)
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    emb = load_vec(path)
  assert len(caught) == 1
  message = str(caught[0].message)
  assert "2 rows" in message
  assert f"{path}:4" in message and f"{path}:6" in message
  assert emb.words == ("a", "b", "c")
  np.testing.assert_array_equal(emb.vectors, [[1, 1], [2, 2], [4, 4]])


def test_load_vec_max_vocab_stops_reading(tmp_path):
  # The garbage on the last line proves the reader stopped before it.
  text = "9 2\na 1 1\nb 2 2\na 3 3\nc 4 4\nd 5 5\nthis line is broken\n"
  path = _write(tmp_path / "max.vec", text)
  with pytest.warns(UserWarning, match="skipped 1 row "):
    emb = load_vec(path, max_vocab=3)
  assert emb.words == ("a", "b", "c")
  np.testing.assert_array_equal(emb.vectors, [[1, 1], [2, 2], [4, 4]])
  with pytest.raises(ValueError):
    load_vec(path, max_vocab=0)


# --------------------------------------------------------- normalisation


def test_normalize_center_and_renorm_match_numpy():
  rng = np.random.default_rng(2)
  x = (rng.normal(size=(17, 5)) + 3.0).astype(np.float32)
  x[4] = 0.0
  original = x.copy()

  centered = normalize_embeddings(x, ["center"])
  np.testing.assert_allclose(centered, x - x.astype(np.float64).mean(0),
                             atol=1e-6)
  np.testing.assert_allclose(centered.mean(0), 0.0, atol=1e-6)

  renormed = normalize_embeddings(x, ("renorm",))
  norms = np.linalg.norm(renormed.astype(np.float64), axis=1)
  np.testing.assert_allclose(np.delete(norms, 4), 1.0, atol=1e-6)
  np.testing.assert_array_equal(renormed[4], 0.0)  # Zero row left as is.

  both = normalize_embeddings(x, ["center", "renorm"])
  ref = x - x.astype(np.float64).mean(0)
  ref /= np.linalg.norm(ref, axis=1, keepdims=True)
  np.testing.assert_allclose(both, ref, atol=1e-6)
  np.testing.assert_allclose(np.linalg.norm(both, axis=1), 1.0, atol=1e-6)

  # Order matters: renorm then center is zero-mean but not unit-norm.
  other = normalize_embeddings(x, ["renorm", "center"])
  np.testing.assert_allclose(other.mean(0), 0.0, atol=1e-6)
  assert not np.allclose(np.linalg.norm(other, axis=1), 1.0, atol=1e-3)

  assert both.dtype == np.float32
  np.testing.assert_array_equal(x, original)  # Input untouched.


def test_normalize_empty_is_a_copy_and_unknown_names_fail():
  x = np.arange(6, dtype=np.float32).reshape(3, 2)
  out = normalize_embeddings(x, [])
  np.testing.assert_array_equal(out, x)
  assert out is not x
  with pytest.raises(ValueError, match="center.*renorm"):
    normalize_embeddings(x, ["center", "whiten"])
  with pytest.raises(TypeError):
    normalize_embeddings(x, "center")


# ---------------------------------------------------------- real vectors


@pytest.mark.parametrize("name", ["en", "es"])
def test_load_vec_real_fasttext_300d(shared_data, name):
  path = shared_data / "fasttext-multisimlex" / f"{name}.vec"
  with open(path, encoding="utf-8") as f:
    n_header = int(f.readline().split()[0])
    words = [line.split(" ", 1)[0] for line in f]
  emb = load_vec(path, expected_dim=300)
  assert emb.dim == 300
  assert len(emb.words) == n_header - (len(words) - len(set(words)))
  reference = _reference_rows(path, skip_header=True)
  for word in (emb.words[0], emb.words[len(emb.words) // 2], emb.words[-1]):
    np.testing.assert_array_equal(emb.vectors[emb.word_to_index[word]],
                                  reference[word])


def test_load_vec_real_ubilexat_trailing_spaces(shared_data):
  path = shared_data / "ubilexat" / "es-en" / "word2vec.es"
  emb = load_vec(path)
  reference = _reference_rows(path, skip_header=True)
  assert emb.vectors.shape == (len(reference), 50) == (4774, 50)
  expected = np.stack([reference[w] for w in emb.words])
  np.testing.assert_array_equal(emb.vectors, expected)


def test_load_vec_real_glove_max_vocab(shared_data):
  path = shared_data / "glove-6B-50d" / "en.glove6B50d.200k.vec"
  emb = load_vec(path, max_vocab=1000)
  assert emb.vectors.shape == (1000, 50)
  with open(path, encoding="utf-8") as f:
    next(f)
    first = [next(f).split() for _ in range(1000)]
  assert emb.words == tuple(row[0] for row in first)
  np.testing.assert_array_equal(
      emb.vectors, np.array([[float(v) for v in r[1:]] for r in first],
                            np.float32))


# ----------------------------------------------------------- dictionaries


def test_load_dictionary_small(tmp_path):
  src = {"perro": 0, "gato": 1, "casa": 2, "año": 3}
  tgt = {"dog": 0, "cat": 1, "house": 2, "home": 3, "Paris": 4, "year": 5}
  text = ("perro dog\n"
          "gato\tcat\n"          # Tab separated.
          "\n"                   # Blank line.
          "casa house\n"
          "casa Home\n"          # Found only lower-cased.
          "perro dog\n"          # Repeated pair.
          "Perro Dog\n"          # Upper case: found lower-cased, same ids.
          "gato Paris\n"         # Exact match wins over lower-casing.
          "año year  \n"         # Trailing spaces.
          "luna moon\n"          # Source missing.
          "casa casita\n")       # Target missing.
  path = _write(tmp_path / "d.txt", text)
  result = load_dictionary(path, src, tgt)
  expected = np.array([[0, 0], [1, 1], [1, 4], [2, 2], [2, 3], [3, 5]])
  np.testing.assert_array_equal(result.pairs, expected)
  assert result.pairs.dtype == np.int32
  assert result.coverage == Coverage(pairs_found=6, pairs_total=9,
                                     source_words_found=4,
                                     source_words_total=6)
  assert result.coverage.as_dict() == {"pairs": 6, "source_words": 4,
                                       "pairs_total": 9,
                                       "source_words_total": 6}
  assert result.path == str(path)


def test_load_dictionary_errors(tmp_path):
  vocab = {"a": 0, "b": 1}
  path = _write(tmp_path / "three.txt", "a b\n\na b c\n")
  with pytest.raises(DictionaryFileError, match=r"three\.txt:3: .*found 3"):
    load_dictionary(path, vocab, vocab)
  path = _write(tmp_path / "empty.txt", "\n")
  with pytest.raises(DictionaryFileError, match=r"empty\.txt: .*empty"):
    load_dictionary(path, vocab, vocab)
  path = _write(tmp_path / "none.txt", "x y\nz w\nx y\n")
  with pytest.raises(DictionaryFileError) as info:
    load_dictionary(path, {"a": 0, "b": 1, "c": 2}, vocab)
  message = str(info.value)
  assert message.startswith(f"{path}: ")
  for part in ("2 pairs", "3 source", "2 target"):
    assert part in message
  bad = tmp_path / "bad.txt"
  bad.write_bytes(b"a b\n\xff b\n")
  with pytest.raises(DictionaryFileError, match=r"bad\.txt:2: "):
    load_dictionary(bad, vocab, vocab)
  missing = tmp_path / "muse-dictionaries" / "xx-yy.5000-6500.txt"
  with pytest.raises(FileNotFoundError, match="--muse xx-yy"):
    load_dictionary(missing, vocab, vocab)


def _brute_force_coverage(path, src_vocab, tgt_vocab):
  """Pairs of indices and counts, recomputed naively."""
  def find(word, vocab):
    if word in vocab:
      return vocab[word]
    return vocab.get(word.lower())
  lines = [tuple(line.split()) for line in
           open(path, encoding="utf-8").read().splitlines() if line.strip()]
  found = set()
  for s, t in lines:
    i, j = find(s, src_vocab), find(t, tgt_vocab)
    if i is not None and j is not None:
      found.add((i, j))
  return found, len(set(lines)), len({s for s, _ in lines})


def test_load_dictionary_real_es_en_lowercase_fallback(shared_data):
  folder = shared_data / "ubilexat" / "es-en"
  src = load_vec(folder / "word2vec.es").word_to_index
  tgt = load_vec(folder / "word2vec.en").word_to_index
  path = folder / "zhang2017acl.es-en.test.txt"
  result = load_dictionary(path, src, tgt)
  found, pairs_total, sources_total = _brute_force_coverage(path, src, tgt)
  assert {tuple(p) for p in result.pairs.tolist()} == found
  assert result.coverage == Coverage(
      pairs_found=len(found), pairs_total=pairs_total,
      source_words_found=len({s for s, _ in found}),
      source_words_total=sources_total)
  # 376 lines have capitalised targets ("forma Host", "mundo Earth"); some of
  # them are only found through lower-casing.
  exact = {(src[s], tgt[t]) for s, t in
           (line.split() for line in open(path, encoding="utf-8"))
           if s in src and t in tgt}
  assert len(found) > len(exact)
  assert (src["mundo"], tgt["earth"]) in found
  assert np.all(np.diff(result.pairs[:, 0]) >= 0)


def test_load_dictionary_real_zh_en_ldc(shared_data):
  folder = shared_data / "ubilexat" / "zh-en"
  src = load_vec(folder / "word2vec.zh").word_to_index
  tgt = load_vec(folder / "word2vec.en").word_to_index
  path = folder / "zh-en.ldc.txt"
  result = load_dictionary(path, src, tgt)
  found, pairs_total, sources_total = _brute_force_coverage(path, src, tgt)
  assert {tuple(p) for p in result.pairs.tolist()} == found
  assert result.coverage.pairs_total == pairs_total == 48833 - 8  # 8 repeats.
  assert result.coverage.source_words_total == sources_total
  assert result.coverage.source_words_found == 2145  # As in the data README.
  # The one non-lower-case source ("卡拉ＯＫ") is looked up lower-cased too.
  assert "卡拉ｏｋ" == "卡拉ＯＫ".lower()


# ------------------------------------------------------------ pairs_to_gold


def test_pairs_to_gold_matches_brute_force():
  rng = np.random.default_rng(3)
  pairs = rng.integers(0, [13, 29], size=(61, 2))
  sources, targets = pairs_to_gold(pairs)
  reference = {}
  for s, t in pairs.tolist():
    reference.setdefault(s, set()).add(t)
  assert sources.tolist() == sorted(reference)
  assert len(targets) == len(sources)
  for s, gold in zip(sources.tolist(), targets):
    assert gold.tolist() == sorted(reference[s])
  empty_sources, empty_targets = pairs_to_gold(np.zeros((0, 2), np.int32))
  assert empty_sources.shape == (0,) and empty_targets == []
  with pytest.raises(ValueError):
    pairs_to_gold(np.zeros((3, 3), np.int32))


# ----------------------------------------------------------------- download


def test_download_file_url(tmp_path):
  source = tmp_path / "remote.bin"
  source.write_bytes(b"x" * 3_000_001)
  dest = tmp_path / "out" / "local.bin"
  assert download.download(source.as_uri(), dest, progress=True) == dest
  assert dest.read_bytes() == source.read_bytes()
  assert not dest.with_name("local.bin.part").exists()


def test_download_keeps_existing_file(tmp_path):
  dest = _write(tmp_path / "kept.txt", "old")
  missing_source = (tmp_path / "nowhere.txt").as_uri()
  download.download(missing_source, dest, progress=False)  # Nothing fetched.
  assert dest.read_text() == "old"
  new_source = _write(tmp_path / "new.txt", "new")
  download.download(new_source.as_uri(), dest, overwrite=True, progress=False)
  assert dest.read_text() == "new"


def test_download_failure_leaves_old_file_and_no_part(tmp_path, monkeypatch):
  dest = _write(tmp_path / "kept.txt", "old")
  part = tmp_path / "kept.txt.part"
  with pytest.raises(OSError):
    download.download((tmp_path / "nowhere.txt").as_uri(), dest,
                      overwrite=True, progress=False)
  assert dest.read_text() == "old" and not part.exists()

  class Broken(io.BytesIO):
    headers = {"Content-Length": "100"}

    def read(self, size=-1):
      if self.tell() >= 10:
        raise ConnectionResetError("connection reset")
      return super().read(min(size, 10))

  monkeypatch.setattr(urllib.request, "urlopen",
                      lambda url, timeout: Broken(b"y" * 100))
  with pytest.raises(ConnectionResetError):
    download.download("https://example.invalid/f", dest, overwrite=True,
                      progress=False)
  assert dest.read_text() == "old" and not part.exists()

  # A body shorter than its Content-Length is an error too.
  class Short(io.BytesIO):
    headers = {"Content-Length": "100"}

  monkeypatch.setattr(urllib.request, "urlopen",
                      lambda url, timeout: Short(b"y" * 10))
  with pytest.raises(OSError, match="10 of 100"):
    download.download("https://example.invalid/f", dest, overwrite=True,
                      progress=False)
  assert dest.read_text() == "old" and not part.exists()


def test_download_paths_urls_and_message(tmp_path):
  assert download.fasttext_wiki_path("en", tmp_path) == (
      tmp_path / "fasttext-wiki" / "wiki.en.vec")
  assert download.fasttext_wiki_url("zh") == (
      "https://dl.fbaipublicfiles.com/fasttext/vectors-wiki/wiki.zh.vec")
  assert download.muse_dictionary_path("en", "zh", "test", tmp_path) == (
      tmp_path / "muse-dictionaries" / "en-zh.5000-6500.txt")
  assert download.muse_dictionary_path("en", "zh", "full", tmp_path).name == (
      "en-zh.txt")
  assert download.muse_dictionary_url("en", "zh", "train") == (
      "https://dl.fbaipublicfiles.com/arrival/dictionaries/en-zh.0-5000.txt")
  with pytest.raises(ValueError, match="full"):
    download.muse_dictionary_path("en", "zh", "dev")
  with pytest.raises(ValueError):
    download.fasttext_wiki_url("../etc")

  missing = [download.fasttext_wiki_path("en", tmp_path),
             download.muse_dictionary_path("en", "zh", "train", tmp_path),
             tmp_path / "other.vec"]
  message = download.missing_files_message(missing)
  for path in missing:
    assert str(path) in message
  assert (f"python -m bdi_jax.data.download --fasttext en --root {tmp_path}"
          in message)
  assert (f"python -m bdi_jax.data.download --muse en-zh --root {tmp_path}"
          in message)
  assert "BDI_DATA_DIR" in message


def test_download_cli(tmp_path, monkeypatch):
  remote = tmp_path / "remote"
  _write(remote / "wiki.xx.vec", "1 2\na 1 2\n")
  for suffix in ("", ".0-5000", ".5000-6500"):
    _write(remote / f"xx-yy{suffix}.txt", "a b\n")
  monkeypatch.setattr(download, "FASTTEXT_WIKI_URL",
                      remote.as_uri() + "/wiki.{lang}.vec")
  monkeypatch.setattr(download, "MUSE_DICTIONARY_URL",
                      remote.as_uri() + "/{src}-{tgt}{suffix}.txt")
  root = tmp_path / "root"
  assert download.main(["--fasttext", "xx", "--muse", "xx-yy",
                        "--root", str(root), "--quiet"]) == 0
  assert load_vec(download.fasttext_wiki_path("xx", root)).words == ("a",)
  for split in download.MUSE_SPLITS:
    assert download.muse_dictionary_path("xx", "yy", split, root).exists()
  assert download.main(["--fasttext", "zz", "--root", str(root),
                        "--quiet"]) == 1  # Not on the "server".
  with pytest.raises(SystemExit):
    download.main([])


# -------------------------------------------------------------------- paths


def test_paths_data_root_and_resolve(tmp_path, monkeypatch):
  monkeypatch.setenv("BDI_DATA_DIR", str(tmp_path / "data"))
  assert paths.data_root() == tmp_path / "data"
  assert paths.resolve("muse-dictionaries/en-es.txt") == (
      tmp_path / "data" / "muse-dictionaries" / "en-es.txt")
  assert paths.resolve("a.vec", root=tmp_path / "r") == tmp_path / "r" / "a.vec"
  absolute = tmp_path / "elsewhere" / "b.vec"
  assert paths.resolve(absolute) == absolute
  assert paths.resolve(str(absolute), root="/ignored") == absolute

  monkeypatch.delenv("BDI_DATA_DIR")
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
  assert paths.data_root() == tmp_path / "xdg" / "bdi-jax"

  monkeypatch.delenv("XDG_CACHE_HOME")
  monkeypatch.setenv("HOME", str(tmp_path / "home"))
  assert paths.data_root() == tmp_path / "home" / ".cache" / "bdi-jax"

  monkeypatch.setenv("BDI_DATA_DIR", "")  # Empty counts as unset.
  assert paths.data_root() == tmp_path / "home" / ".cache" / "bdi-jax"
  # The module-level helpers of the data package follow the root too.
  monkeypatch.setenv("BDI_DATA_DIR", str(tmp_path / "data"))
  assert download.fasttext_wiki_path("en") == (
      tmp_path / "data" / "fasttext-wiki" / "wiki.en.vec")
  assert dictionaries.Dictionary._fields == ("pairs", "coverage", "path")


# ------------------------------------------------- other embedding formats


def _word2vec_binary(words, vectors, newline=True) -> bytes:
  """Independent writer of the word2vec C tool's binary format."""
  out = [f"{len(words)} {vectors.shape[1]}\n".encode()]
  for word, row in zip(words, vectors):
    out.append(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() +
               (b"\n" if newline else b""))
  return b"".join(out)


def test_load_vec_gzip_reads_like_the_text_file(tmp_path, odd_vectors):
  text = _vec_text(_WORDS, odd_vectors)
  plain = _write(tmp_path / "a.vec", text)
  packed = tmp_path / "a.vec.gz"
  packed.write_bytes(gzip.compress(text.encode("utf-8")))
  # Recognised by content, whatever the name says.
  renamed = tmp_path / "gz-without-suffix.vec"
  renamed.write_bytes(packed.read_bytes())
  expected = _reference_rows(plain, skip_header=True)
  for path in (packed, renamed):
    emb = load_vec(path)
    assert emb.words == tuple(_WORDS)
    np.testing.assert_array_equal(emb.vectors,
                                  np.stack([expected[w] for w in _WORDS]))
    assert emb.path == str(path)


def test_load_vec_gzip_corrupt_is_a_file_error(tmp_path, odd_vectors):
  data = gzip.compress(_vec_text(_WORDS, odd_vectors).encode())
  path = tmp_path / "cut.vec.gz"
  path.write_bytes(data[:len(data) // 2])
  with pytest.raises(EmbeddingFileError, match=r"cut\.vec\.gz: .*gzip"):
    load_vec(path)


@pytest.mark.parametrize("name,newline", [("w.bin", True), ("w.bin", False),
                                          ("w2v-sniffed.vec", True)])
def test_load_vec_word2vec_binary(tmp_path, odd_vectors, name, newline):
  path = tmp_path / name
  path.write_bytes(_word2vec_binary(_WORDS, odd_vectors, newline))
  emb = load_vec(path)
  assert emb.words == tuple(_WORDS)
  np.testing.assert_array_equal(emb.vectors, odd_vectors)
  assert emb.vectors.dtype == np.float32
  # Gzipped binary too, and max_vocab stops early.
  packed = tmp_path / (name + ".gz")
  packed.write_bytes(gzip.compress(path.read_bytes()))
  emb = load_vec(packed, max_vocab=2)
  assert emb.words == tuple(_WORDS[:2])
  np.testing.assert_array_equal(emb.vectors, odd_vectors[:2])


def test_load_vec_word2vec_binary_duplicates_and_errors(tmp_path, odd_vectors):
  words = ["a", "b", "a", "c", "d"]
  path = tmp_path / "dups.bin"
  path.write_bytes(_word2vec_binary(words, odd_vectors))
  with pytest.warns(UserWarning, match="skipped 1 row"):
    emb = load_vec(path)
  assert emb.words == ("a", "b", "c", "d")
  np.testing.assert_array_equal(emb.vectors, odd_vectors[[0, 1, 3, 4]])

  data = _word2vec_binary(_WORDS, odd_vectors)
  cut = tmp_path / "cut.bin"
  cut.write_bytes(data[:-10])
  with pytest.raises(EmbeddingFileError, match=r"cut\.bin: row 5 .*ends"):
    load_vec(cut)
  short = tmp_path / "short.bin"
  short.write_bytes(data.replace(b"5 7\n", b"6 7\n", 1))
  with pytest.raises(EmbeddingFileError, match=r"after 5 of the 6 rows"):
    load_vec(short)
  nan = odd_vectors.copy()
  nan[2, 3] = np.nan
  bad = tmp_path / "nan.bin"
  bad.write_bytes(_word2vec_binary(_WORDS, nan))
  with pytest.raises(EmbeddingFileError, match=r"row 3 .*not finite"):
    load_vec(bad)


def test_load_vec_fasttext_model_says_use_the_vec_file(tmp_path):
  path = tmp_path / "cc.es.300.bin"
  # fastText's model header: magic int32 793712314, version 12, then args.
  path.write_bytes(np.array([793712314, 12, 300, 5], "<i4").tobytes() +
                   bytes(200))
  with pytest.raises(EmbeddingFileError, match=r"fastText binary model.*\.vec"):
    load_vec(path)


def test_load_vec_folder_is_a_file_error(tmp_path):
  with pytest.raises(EmbeddingFileError, match="is a folder"):
    load_vec(tmp_path)


def test_write_vec_round_trips_float32_exactly(tmp_path):
  rng = np.random.default_rng(5)
  x = (rng.normal(size=(13, 9)) * 10.0 ** rng.integers(-8, 4, (13, 1))
       ).astype(np.float32)
  words = [f"w{i}" for i in range(12)] + ["ñandú"]
  path = embeddings.write_vec(tmp_path / "out.vec", words, x)
  lines = path.read_text(encoding="utf-8").splitlines()
  assert lines[0] == "13 9" and len(lines) == 14
  # Independent re-read with float(): exactly the float32 values written.
  reference = _reference_rows(path, skip_header=True)
  np.testing.assert_array_equal(np.stack([reference[w] for w in words]), x)
  emb = load_vec(path)
  assert emb.words == tuple(words)
  np.testing.assert_array_equal(emb.vectors, x)
  assert not [p for p in tmp_path.iterdir() if "tmp" in p.name]


# -------------------------------------------------------------------- cache


def test_load_vec_cache_hit_and_invalidation(tmp_path, odd_vectors,
                                             monkeypatch):
  cache = tmp_path / "cache"
  path = _write(tmp_path / "c.vec", _vec_text(_WORDS, odd_vectors))
  first = load_vec(path, cache=cache)
  assert len(list(cache.glob("*.npy"))) == 1

  # A hit does not parse the file at all.
  def no_parse(*args):
    raise AssertionError("parsed although cached")
  with monkeypatch.context() as m:
    m.setattr(vec_files, "read_file", no_parse)
    second = load_vec(path, cache=cache)
  assert second.words == first.words and second.path == str(path)
  assert second.word_to_index == first.word_to_index
  np.testing.assert_array_equal(second.vectors, first.vectors)

  # Another max_vocab is another entry.
  assert load_vec(path, max_vocab=2, cache=cache).words == tuple(_WORDS[:2])
  # Same size, other values, other mtime: the file is parsed again.
  changed = odd_vectors[::-1].copy()  # Same numbers: the same byte count.
  size = path.stat().st_size
  _write(path, _vec_text(_WORDS, changed))
  assert path.stat().st_size == size
  stat = path.stat()
  os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
  third = load_vec(path, cache=cache)
  np.testing.assert_array_equal(third.vectors, changed)


def test_load_vec_cache_repeats_the_duplicate_warning(tmp_path):
  cache = tmp_path / "cache"
  path = _write(tmp_path / "d.vec", "3 2\na 1 1\nb 2 2\na 3 3\n")
  for _ in range(2):
    with pytest.warns(UserWarning, match="skipped 1 row"):
      emb = load_vec(path, cache=cache)
    assert emb.words == ("a", "b")


def test_load_vec_unwritable_cache_falls_back(tmp_path, odd_vectors):
  path = _write(tmp_path / "c.vec", _vec_text(_WORDS, odd_vectors))
  blocker = tmp_path / "a-file"
  blocker.write_text("not a folder")
  emb = load_vec(path, cache=blocker / "cache")  # Cannot be created.
  np.testing.assert_array_equal(
      emb.vectors, np.stack([_reference_rows(path, True)[w] for w in _WORDS]))
  # A corrupt entry is ignored and replaced.
  cache = tmp_path / "cache"
  load_vec(path, cache=cache)
  (npy,) = cache.glob("*.npy")
  npy.write_bytes(b"garbage")
  emb = load_vec(path, cache=cache)
  np.testing.assert_array_equal(
      emb.vectors, np.stack([_reference_rows(path, True)[w] for w in _WORDS]))
  assert np.load(npy).shape == (5, 7)


def test_load_vec_default_cache_only_for_large_files(tmp_path, odd_vectors,
                                                     monkeypatch):
  path = _write(tmp_path / "c.vec", _vec_text(_WORDS, odd_vectors))
  cache = pathlib.Path(os.environ[embeddings.CACHE_DIR_ENV])
  assert embeddings.default_cache_dir() == cache
  load_vec(path)
  assert not cache.exists()  # Small: re-parsing is cheaper.
  monkeypatch.setattr(vec_cache, "_CACHE_MIN_BYTES", 1)
  load_vec(path)
  assert len(list(cache.glob("*.json"))) == 1
  load_vec(path, cache=False)
  assert len(list(cache.glob("*.json"))) == 1


# ---------------------------------------------- vecmap normalisation names


def test_normalize_vecmap_aliases_match_numpy():
  rng = np.random.default_rng(3)
  x = (rng.normal(size=(11, 6)) + 2.0).astype(np.float32)
  x[:, 4] = 0.0  # An all-zero dimension stays zero.
  np.testing.assert_array_equal(normalize_embeddings(x, ["unit"]),
                                normalize_embeddings(x, ["renorm"]))
  unitdim = normalize_embeddings(x, ["unitdim"])
  ref = x.astype(np.float64).copy()
  norms = np.sqrt((ref ** 2).sum(0))
  ref[:, norms > 0] /= norms[norms > 0]
  np.testing.assert_allclose(unitdim, ref, atol=1e-6)
  np.testing.assert_array_equal(unitdim[:, 4], 0.0)
  # vecmap's recommended "unit,center,unit" chain.
  chain = normalize_embeddings(x, tasks.normalization_methods(
      "unit, center,unit"))
  ref = x / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
  ref = ref - ref.mean(0)
  ref /= np.linalg.norm(ref, axis=1, keepdims=True)
  np.testing.assert_allclose(chain, ref, atol=1e-6)
  with pytest.raises(errors.ConfigError, match=r"config\.data\.normalize.*"
                     r"whiten.*unitdim"):
    tasks.normalization_methods("center,whiten")


# -------------------------------------------- dictionary.tsv and identical


def test_load_dictionary_reads_a_runs_dictionary_tsv(tmp_path):
  src = {"perro": 0, "gato": 1, "casa": 2}
  tgt = {"dog": 0, "cat": 1, "house": 2}
  path = tmp_path / "dictionary.tsv"
  outputs.write_dictionary_tsv(path, [("perro", "dog", 0.5),
                                      ("gato", "cat", -0.25),
                                      ("casa", "house", 1e-3),
                                      ("luna", "moon", 0.1)])
  result = load_dictionary(path, src, tgt)
  np.testing.assert_array_equal(result.pairs, [[0, 0], [1, 1], [2, 2]])
  assert result.coverage.pairs_total == 4  # The header is not a pair.
  # A third field that is no number is still an error, with its line.
  bad = _write(tmp_path / "bad.tsv", "source\ttarget\tscore\na\tb\tc\n")
  with pytest.raises(DictionaryFileError, match=r"bad\.tsv:2: .*found 3"):
    load_dictionary(bad, {"a": 0}, {"b": 0})
  with pytest.raises(DictionaryFileError, match="is a folder"):
    load_dictionary(tmp_path, src, tgt)


def test_identical_strings_match_brute_force():
  src = {w: i for i, w in enumerate(["paris", "de", "1990", "casa", "x"])}
  tgt = {w: i for i, w in enumerate(["of", "1990", "paris", "house", "x"])}
  result = dictionaries.identical_strings(src, tgt)
  expected = sorted((src[w], tgt[w]) for w in src if w in tgt)
  np.testing.assert_array_equal(result.pairs, expected)
  assert result.coverage.pairs_found == 3
  with pytest.raises(DictionaryFileError, match="no word is written"):
    dictionaries.identical_strings({"a": 0}, {"b": 0})


# --------------------------------------------------------------- load_task


def _files_config(**data):
  import ml_collections  # pylint: disable=g-import-not-at-top
  from experiments.configs import default  # pylint: disable=g-import-not-at-top
  config = default.get_config()
  config.data.kind = "files"
  config.data.max_vocab = 0
  config.data.update(data)
  return ml_collections.ConfigDict(config.data.to_dict())


def _small_files(tmp_path):
  rng = np.random.default_rng(7)
  src_words = ["paris", "casa", "perro", "1990", "gato", "luna", "sol"]
  tgt_words = ["house", "paris", "dog", "cat", "1990", "moon", "sun", "x"]
  src = rng.normal(size=(len(src_words), 5)).astype(np.float32)
  tgt = rng.normal(size=(len(tgt_words), 5)).astype(np.float32)
  (tmp_path / "src.bin").write_bytes(_word2vec_binary(src_words, src))
  (tmp_path / "tgt.vec.gz").write_bytes(
      gzip.compress(_vec_text(tgt_words, tgt).encode()))
  _write(tmp_path / "test.txt", "casa house\nperro dog\n1990 1990\n")
  return src_words, src, tgt_words, tgt


def test_load_task_reads_bin_gz_and_identical(tmp_path):
  src_words, src, tgt_words, tgt = _small_files(tmp_path)
  data = _files_config(src_emb="src.bin", tgt_emb="tgt.vec.gz",
                       test_dict="test.txt", train_dict="identical")
  task = tasks.load_task(data, root=tmp_path)
  np.testing.assert_array_equal(task.src.vectors, src)
  assert task.tgt.words == tuple(tgt_words)
  np.testing.assert_array_equal(task.test_pairs, [[1, 0], [2, 2], [3, 4]])
  # Identical strings are paris and 1990; 1990 is a test word, so dropped.
  np.testing.assert_array_equal(task.train_pairs, [[0, 1]])
  # A run's dictionary.tsv is a training dictionary too.
  outputs.write_dictionary_tsv(tmp_path / "dictionary.tsv",
                               [("gato", "cat", 0.9), ("luna", "moon", 0.8)])
  data.train_dict = "dictionary.tsv"
  task = tasks.load_task(data, root=tmp_path)
  np.testing.assert_array_equal(task.train_pairs, [[4, 3], [5, 5]])


def test_load_task_without_train_dict_for_gans(tmp_path):
  _small_files(tmp_path)
  data = _files_config(src_emb="src.bin", tgt_emb="tgt.vec.gz",
                       train_dict="muse-dictionaries/xx-yy.txt")
  with pytest.raises(tasks.MissingDataError, match="xx-yy"):
    tasks.load_task(data, root=tmp_path)
  task = tasks.load_task(data, root=tmp_path, needs_train_dict=False)
  assert task.train_pairs is None and task.test_pairs is None


@pytest.mark.parametrize("field", ["src_emb", "test_dict", "train_dict"])
def test_load_task_folder_names_the_field(tmp_path, field):
  _small_files(tmp_path)
  (tmp_path / "folder").mkdir()
  data = _files_config(src_emb="src.bin", tgt_emb="tgt.vec.gz",
                       test_dict="test.txt", train_dict="test.txt")
  data[field] = "folder"
  with pytest.raises(errors.DataError) as info:
    tasks.load_task(data, root=tmp_path)
  message = str(info.value)
  assert f"config.data.{field}" in message and str(tmp_path / "folder") in (
      message)
  assert not isinstance(info.value, IsADirectoryError)
