"""Shared pytest fixtures."""

import os

import pytest

from bdi_jax import paths

# Several test processes share one machine (and one GPU, when there is one):
# JAX must not grab most of the accelerator memory up front.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

# The folders of the shared real data that tests read (../shared/data/README.md).
_SHARED_FOLDERS = ("ubilexat", "muse-dictionaries", "fasttext-multisimlex",
                   "glove-6B-50d")


@pytest.fixture(scope="session")
def shared_data():
  """Root of the real data (UBiLexAT, MUSE dictionaries, fastText, GloVe).

  The library's own data root, :func:`bdi_jax.paths.data_root` (CI sets
  ``BDI_DATA_DIR=../shared/data``); tests that need it are skipped when it
  lacks any of the shared folders.
  """
  root = paths.data_root()
  missing = [f for f in _SHARED_FOLDERS if not (root / f).is_dir()]
  if missing:
    pytest.skip(f"real data not found: {root} has no {', '.join(missing)}; "
                f"set {paths.DATA_DIR_ENV}=/path/to/data (CI: ../shared/data)")
  return root
