"""Data: embedding and dictionary readers, normalisation, downloads."""

from bdi_jax.data.dictionaries import Coverage
from bdi_jax.data.dictionaries import Dictionary
from bdi_jax.data.dictionaries import DictionaryFileError
from bdi_jax.data.dictionaries import load_dictionary
from bdi_jax.data.dictionaries import pairs_to_gold
from bdi_jax.data.embeddings import EmbeddingFileError
from bdi_jax.data.embeddings import Embeddings
from bdi_jax.data.embeddings import load_vec
from bdi_jax.data.embeddings import normalize_embeddings
from bdi_jax.data.embeddings import NORMALIZERS

# Re-exported lazily (PEP 562): importing `download` here would make
# `python -m bdi_jax.data.download` warn that the module was imported twice.
_DOWNLOAD_NAMES = ("fasttext_wiki_path", "missing_files_message",
                   "muse_dictionary_path")

__all__ = [
    "Coverage",
    "Dictionary",
    "DictionaryFileError",
    "load_dictionary",
    "pairs_to_gold",
    "EmbeddingFileError",
    "Embeddings",
    "load_vec",
    "normalize_embeddings",
    "NORMALIZERS",
    "fasttext_wiki_path",
    "missing_files_message",
    "muse_dictionary_path",
]


def __getattr__(name):
  if name in _DOWNLOAD_NAMES:
    import importlib  # pylint: disable=g-import-not-at-top
    module = importlib.import_module("bdi_jax.data.download")
    return getattr(module, name)
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
