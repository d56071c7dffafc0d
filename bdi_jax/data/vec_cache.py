"""A cache of parsed embedding files (``.npy`` + vocabulary + metadata).

Parsing a 200k x 300 ``.vec`` file takes seconds; loading its ``.npy`` takes
a fraction of that. An entry is keyed by the file's absolute path and
``max_vocab`` and records the file's size and modification time, so a changed
file is parsed again. Where the cache cannot be written, files are simply
re-parsed: correctness first.
"""

import hashlib
import json
import os
import pathlib
from typing import Optional, Tuple, Union

import numpy as np

from bdi_jax import outputs
from bdi_jax import paths
from bdi_jax.data.embedding_types import Embeddings

__all__ = ["CACHE_DIR_ENV", "default_cache_dir", "cache_folder",
           "cache_entry", "read_cache", "write_cache"]

# Where parsed files are cached unless load_vec is told otherwise.
CACHE_DIR_ENV = "BDI_CACHE_DIR"
# Files smaller than this load faster than a cache could be checked and kept.
_CACHE_MIN_BYTES = 16 << 20
# Bumped whenever what a cache entry holds changes.
_CACHE_VERSION = 1


def default_cache_dir() -> pathlib.Path:
  """``$BDI_CACHE_DIR``, else ``$XDG_CACHE_HOME/bdi-jax/vec-cache``, else
  ``~/.cache/bdi-jax/vec-cache``."""
  explicit = os.environ.get(CACHE_DIR_ENV)
  if explicit:
    return pathlib.Path(explicit).expanduser()
  return paths.user_cache_dir() / "vec-cache"


def cache_entry(folder: pathlib.Path, path: pathlib.Path,
                max_vocab: Optional[int]) -> Tuple[pathlib.Path, dict]:
  """``(entry prefix, what the entry must record)`` for one file and vocab."""
  source = str(path.resolve())
  key = hashlib.sha256(f"{source}\0{max_vocab}".encode("utf-8")).hexdigest()
  stat = path.stat()
  expected = {"version": _CACHE_VERSION, "source": source,
              "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
              "max_vocab": max_vocab}
  return folder / key[:24], expected


def read_cache(prefix: pathlib.Path, expected: dict, name: str
               ) -> Optional[Tuple[Embeddings, Optional[str]]]:
  """The cached entry, or None if absent, stale or unreadable."""
  try:
    meta = json.loads(prefix.with_suffix(".json").read_text("utf-8"))
    if {k: meta.get(k) for k in expected} != expected:
      return None  # Another file at that path now, or another max_vocab.
    vectors = np.load(prefix.with_suffix(".npy"), allow_pickle=False)
    words = prefix.with_suffix(".words").read_bytes().decode("utf-8").split(
        "\n")
  except (OSError, ValueError):  # Missing, half-written, corrupt: re-read.
    return None
  if (vectors.dtype != np.float32 or vectors.ndim != 2 or
      len(words) != vectors.shape[0] or len(set(words)) != len(words)):
    return None
  word_to_index = {w: i for i, w in enumerate(words)}
  return (Embeddings(tuple(words), vectors, word_to_index, name),
          meta.get("warning"))


def write_cache(prefix: pathlib.Path, expected: dict,
                embeddings: Embeddings, warning: Optional[str]) -> None:
  """Stores an entry; silently does nothing where the folder is read-only."""
  # The metadata goes last: an entry without it is never read.
  meta = dict(expected, warning=warning, n=len(embeddings.words),
              dim=embeddings.dim)
  contents = [
      (".npy", lambda f: np.save(f, embeddings.vectors, allow_pickle=False)),
      (".words", lambda f: f.write("\n".join(embeddings.words).encode())),
      (".json", lambda f: f.write(json.dumps(meta).encode("utf-8"))),
  ]
  try:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for suffix, write in contents:
      with outputs.atomic_file(prefix.with_suffix(suffix)) as f:
        write(f)
  except OSError:
    pass  # No cache then (read-only data root, full disk): correctness first.


def cache_folder(cache: Union[bool, str, os.PathLike],
                 path: pathlib.Path) -> Optional[pathlib.Path]:
  """Where to cache ``path`` given ``load_vec``'s ``cache``; None: nowhere."""
  if cache is False or cache is None:
    return None
  if cache is True:
    try:
      if path.stat().st_size < _CACHE_MIN_BYTES:
        return None
    except OSError:
      return None  # Missing: the reader says so, with how to get it.
    return default_cache_dir()
  return pathlib.Path(cache).expanduser()
