"""Normalising embeddings: pure functions ``[n, d] -> [n, d]`` chosen by name.

A config names the steps (``data.normalize = "center,renorm"``); they are
applied in that order, in NumPy, before any array reaches the device.
"""

from typing import Callable, Dict, Sequence

import numpy as np

__all__ = ["NORMALIZERS", "normalize_embeddings"]


def _center(vectors: np.ndarray) -> np.ndarray:
  """Subtracts the mean vector (computed in float64 for accuracy)."""
  mean = vectors.mean(axis=0, dtype=np.float64)
  return (vectors - mean).astype(vectors.dtype, copy=False)


def _renorm(vectors: np.ndarray) -> np.ndarray:
  """Scales each row to unit L2 norm; all-zero rows stay zero."""
  norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
  safe = np.where(norms > 0, norms, 1.0)
  return (vectors / safe).astype(vectors.dtype, copy=False)


def _unit_dim(vectors: np.ndarray) -> np.ndarray:
  """Scales each dimension (column) to unit L2 norm; all-zero columns stay."""
  norms = np.linalg.norm(vectors.astype(np.float64), axis=0, keepdims=True)
  safe = np.where(norms > 0, norms, 1.0)
  return (vectors / safe).astype(vectors.dtype, copy=False)


# Name -> pure function [n, d] -> [n, d]; applied in the order requested.
# "unit" and "unitdim" are the names vecmap's --normalize uses (Artetxe et
# al. 2018): "unit" is "renorm", "unitdim" scales each dimension.
NORMALIZERS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "center": _center,
    "renorm": _renorm,
    "unit": _renorm,
    "unitdim": _unit_dim,
}


def normalize_embeddings(vectors: np.ndarray,
                         methods: Sequence[str]) -> np.ndarray:
  """Applies the named normalisations in order; the input is not modified.

  Args:
    vectors: ``[n, d]`` embeddings.
    methods: names from :data:`NORMALIZERS`, e.g. ``("center", "renorm")``
      or vecmap's ``("unit", "center", "unit")`` (the order matters); empty
      for none.

  Returns:
    A new ``[n, d]`` array of the same dtype.

  Raises:
    ValueError: an unknown method name.
    TypeError: ``methods`` is a single string.
  """
  if isinstance(methods, (str, bytes)):
    raise TypeError(f"methods must be a sequence of names such as "
                    f"('center', 'renorm'), got the string {methods!r}")
  unknown = [m for m in methods if m not in NORMALIZERS]
  if unknown:
    raise ValueError(f"Unknown normalisation(s) {unknown}; known: "
                     f"{sorted(NORMALIZERS)}")
  vectors = np.asarray(vectors)
  if vectors.ndim != 2:
    raise ValueError(f"vectors must be [n, d], got shape {vectors.shape}")
  # Integer input would be truncated by the in-dtype results below.
  dtype = vectors.dtype if np.issubdtype(vectors.dtype, np.floating) else (
      np.float32)
  out = np.array(vectors, dtype=dtype, copy=True)
  for method in methods:
    out = NORMALIZERS[method](out)
  return out
