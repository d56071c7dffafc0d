"""Data: embedding and dictionary readers, normalisation, downloads."""

from bdi_jax.data.catalogue import fasttext_wiki_path
from bdi_jax.data.catalogue import missing_files_message
from bdi_jax.data.catalogue import muse_dictionary_path
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

