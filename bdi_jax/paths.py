"""Where bdi-jax looks for data files.

Every data path the library uses is relative to one root so that a single
environment variable moves all of it: ``BDI_DATA_DIR`` when set, otherwise a
per-user cache folder. Absolute paths are always used as given.

This is the one resolver of that root: the library, the tests
(``tests/conftest.py``) and the benchmarks all call :func:`data_root`. It is a
leaf module (it imports nothing of bdi_jax); which files exist under the root
and how to fetch them is :mod:`bdi_jax.data.catalogue`'s concern.
"""

import os
import pathlib
from typing import Optional, Union

__all__ = ["DATA_DIR_ENV", "user_cache_dir", "data_root", "resolve"]

PathLike = Union[str, "os.PathLike[str]"]

# The one environment variable that points the library at its data.
DATA_DIR_ENV = "BDI_DATA_DIR"


def user_cache_dir() -> pathlib.Path:
  """bdi-jax's per-user cache folder: ``$XDG_CACHE_HOME/bdi-jax``, else
  ``~/.cache/bdi-jax`` (absolute; it need not exist yet)."""
  cache = os.environ.get("XDG_CACHE_HOME")
  base = pathlib.Path(cache).expanduser() if cache else (
      pathlib.Path.home() / ".cache")
  return base.absolute() / "bdi-jax"


def data_root() -> pathlib.Path:
  """Returns the data root folder (it need not exist yet).

  ``$BDI_DATA_DIR`` if set and non-empty, else :func:`user_cache_dir`. A
  leading ``~`` is expanded, and a relative ``$BDI_DATA_DIR`` (e.g.
  ``../shared/data``) is made absolute against the current folder, so that
  messages and recorded provenance name the real place.
  """
  explicit = os.environ.get(DATA_DIR_ENV)
  if explicit:
    return pathlib.Path(explicit).expanduser().absolute()
  return user_cache_dir()


def resolve(relative_path: PathLike,
            root: Optional[PathLike] = None) -> pathlib.Path:
  """Turns a data path into an absolute one.

  Args:
    relative_path: a path; absolute paths (after ``~`` expansion) pass through.
    root: folder that relative paths are joined to; defaults to
      :func:`data_root`.

  Returns:
    The resolved path (not checked for existence).
  """
  path = pathlib.Path(relative_path).expanduser()
  if path.is_absolute():
    return path
  base = pathlib.Path(root).expanduser() if root is not None else data_root()
  return base / path
