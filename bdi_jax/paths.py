"""Where bdi-jax looks for data files.

Every data path the library uses is relative to one root so that a single
environment variable moves all of it: ``BDI_DATA_DIR`` when set, otherwise a
per-user cache folder. Absolute paths are always used as given.
"""

import os
import pathlib
from typing import Optional, Union

__all__ = ["DATA_DIR_ENV", "data_root", "resolve", "open_data_file"]

PathLike = Union[str, "os.PathLike[str]"]

# The one environment variable that points the library at its data.
DATA_DIR_ENV = "BDI_DATA_DIR"


def data_root() -> pathlib.Path:
  """Returns the data root folder (it need not exist yet).

  ``$BDI_DATA_DIR`` if set and non-empty, else ``$XDG_CACHE_HOME/bdi-jax``, else
  ``~/.cache/bdi-jax``. A leading ``~`` is expanded.
  """
  explicit = os.environ.get(DATA_DIR_ENV)
  if explicit:
    return pathlib.Path(explicit).expanduser()
  cache = os.environ.get("XDG_CACHE_HOME")
  base = pathlib.Path(cache).expanduser() if cache else (
      pathlib.Path.home() / ".cache")
  return base / "bdi-jax"


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


def open_data_file(path: PathLike):
  """Opens ``path`` for binary reading; a missing file says how to get it."""
  try:
    return open(path, "rb")
  except FileNotFoundError:
    # Imported late so that `python -m bdi_jax.data.download` does not find
    # its module already imported by the package (runpy warns about that).
    from bdi_jax.data import download  # pylint: disable=g-import-not-at-top
    raise FileNotFoundError(
        download.missing_files_message([path])) from None
