"""The data sets: files (relative to the data root) and languages, nothing else.

Files for the real data sets: README "Running on real data"; the fastText ones
come from ``python -m bdi_jax.data.download --fasttext en,XX --muse en-XX``.
No data set sets a schedule or a threshold: those are derived from the data
at run time (bdi_jax/derived.py).
"""

from typing import Dict

from experiments.configs.presets.spec import Dataset

__all__ = ["DATASETS"]

_MUSE = "muse-dictionaries"


def _files(src: str, tgt: str, src_emb: str, tgt_emb: str, test: str,
           train: str, max_vocab: int = 0) -> Dict[str, object]:
  return {
      "data.kind": "files",
      "data.src_lang": src,
      "data.tgt_lang": tgt,
      "data.src_emb": src_emb,
      "data.tgt_emb": tgt_emb,
      "data.test_dict": test,
      "data.train_dict": train,
      "data.max_vocab": max_vocab,  # 0: every word of the file.
  }


def _ubilexat(src: str, tgt: str, corpus: str, test: str, train: str
              ) -> Dataset:
  """A UBiLexAT pair, either direction of its corpus ``corpus`` (e.g.
  "es-en")."""
  return Dataset(
      summary=f"UBiLexAT {src}->{tgt} (50-d word2vec, {corpus} corpus)",
      fields=_files(src, tgt, f"ubilexat/{corpus}/word2vec.{src}",
                    f"ubilexat/{corpus}/word2vec.{tgt}", test, train))


def _fasttext_wiki(src: str, tgt: str) -> Dataset:
  return Dataset(
      summary=f"fastText wiki {src}-{tgt} (300-d, 200k words; MUSE test "
              "dictionary)",
      fields=_files(src, tgt, f"fasttext-wiki/wiki.{src}.vec",
                    f"fasttext-wiki/wiki.{tgt}.vec",
                    f"{_MUSE}/{src}-{tgt}.5000-6500.txt",
                    f"{_MUSE}/{src}-{tgt}.0-5000.txt", max_vocab=200000))


DATASETS: Dict[str, Dataset] = {
    "synthetic": Dataset(
        summary="synthetic 20-d languages related by a hidden rotation",
        fields={"data.kind": "synthetic", "data.src_lang": "syn-src",
                "data.tgt_lang": "syn-tgt"}),
    # The supervised baseline trains on MUSE's full pair list minus every
    # test source word (bdi_jax/data/tasks.py).
    "es_en": _ubilexat("es", "en", "es-en",
                       "ubilexat/es-en/zhang2017acl.es-en.test.txt",
                       f"{_MUSE}/es-en.txt"),
    "zh_en": _ubilexat("zh", "en", "zh-en", "ubilexat/zh-en/zh-en.ldc.txt",
                       f"{_MUSE}/zh-en.txt"),
    # The other direction of each corpus, tested on MUSE's test split.
    "ubi_en_es": _ubilexat("en", "es", "es-en",
                           f"{_MUSE}/en-es.5000-6500.txt",
                           f"{_MUSE}/en-es.0-5000.txt"),
    "ubi_en_zh": _ubilexat("en", "zh", "zh-en",
                           f"{_MUSE}/en-zh.5000-6500.txt",
                           f"{_MUSE}/en-zh.0-5000.txt"),
    # Two independently trained English spaces (the en side of the es-en and
    # of the zh-en corpora): the easiest real pair, a sanity check.
    "en_en": Dataset(
        summary="UBiLexAT en (es-en corpus) -> en (zh-en corpus), sanity check",
        fields=_files("en", "en", "ubilexat/es-en/word2vec.en",
                      "ubilexat/zh-en/word2vec.en",
                      f"{_MUSE}/en-en.5000-6500.txt",
                      f"{_MUSE}/en-en.0-5000.txt")),
    **{f"en_{t}": _fasttext_wiki("en", t)
       for t in ("es", "et", "el", "fi", "hu", "tr", "pl", "zh")},
}
