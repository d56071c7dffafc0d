"""Tests for bdi_jax.paths and bdi_jax.data (readers, normalisation, download).

References are independent of the code under test: values are re-parsed with
plain ``float()``, coverage is recounted with Python sets, normalisation is
recomputed in float64 NumPy.
"""

import io
import pathlib
import urllib.request
import warnings

import numpy as np
import pytest

from bdi_jax import paths
from bdi_jax.data import dictionaries
from bdi_jax.data import download
from bdi_jax.data import embeddings
from bdi_jax.data import (Coverage, DictionaryFileError, EmbeddingFileError,
                          load_dictionary, load_vec, normalize_embeddings,
                          pairs_to_gold)

# ----------------------------------------------------------------- helpers


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
  monkeypatch.setattr(embeddings, "_CHUNK_BYTES", 50)  # ~1 row per block.
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
