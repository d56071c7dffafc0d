"""Shared pytest fixtures."""

import os
import pathlib

import pytest

# Several test processes share one machine (and one GPU, when there is one):
# JAX must not grab most of the accelerator memory up front.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

_REPO = pathlib.Path(__file__).resolve().parents[1]
_DEFAULT_DATA = _REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
  """Root of the real data (UBiLexAT, MUSE dictionaries, fastText, GloVe).

  ``$BDI_DATA_DIR`` if set, else ``<repo>/../shared/data``; tests that need it
  are skipped when it is missing.
  """
  explicit = os.environ.get("BDI_DATA_DIR")
  root = pathlib.Path(explicit).expanduser() if explicit else _DEFAULT_DATA
  if not root.is_dir():
    pytest.skip(f"real data not found at {root}; set "
                "BDI_DATA_DIR=/path/to/data (CI points it at ../shared/data)")
  return root
