"""Writing run outputs without ever destroying or mixing results.

A run never writes into its workdir directly. Everything goes to a staging
folder beside it, ``<workdir>.partial`` (config, metrics, log, checkpoint), and
only a finished run's folder is renamed into place, replacing the old one in
one step. So a failed, killed or interrupted run leaves the old results exactly
as they were, and never a folder where old and new results sit together; the
staging folder is what a rerun of the same command resumes from.

Every file is written to a temporary name and renamed into place, so an
interrupted write leaves either the old file or the new one, never half.
"""

import contextlib
import json
import math
import os
import pathlib
import shutil
import threading
from typing import Any, Dict, Iterable, Optional, Tuple

import numpy as np

from bdi_jax import errors
from bdi_jax import workdir_lock

__all__ = ["RunDir", "open_run", "atomic_file", "atomic_write_bytes", "jsonable",
           "write_json", "append_jsonl", "save_array", "write_dictionary_tsv",
           "RESULT_FILES", "STAGING_SUFFIX"]

# Files whose presence means "a finished run lives here".
RESULT_FILES = ("summary.json", "W.npy", "dictionary.tsv")
STAGING_SUFFIX = ".partial"
CHECKPOINT = "checkpoint.npz"


@contextlib.contextmanager
def atomic_file(path, mode: str = "wb", **kwargs):
  """``with atomic_file(p) as f: f.write(...)``: the one atomic writer.

  Writes a temporary file beside ``path`` and renames it over ``path`` only
  when the block succeeds; on any error the temporary file is removed and
  ``path`` keeps its old content (or stays absent).
  """
  path = pathlib.Path(path)
  # Per thread too: the interrupt watchdog may save while the loop does.
  tmp = path.with_name(
      f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
  try:
    with open(tmp, mode, **kwargs) as f:
      yield f
    os.replace(tmp, path)
  finally:
    tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: pathlib.Path, data: bytes) -> None:
  with atomic_file(path) as f:
    f.write(data)


def jsonable(x: Any) -> Any:
  """Plain JSON types; non-finite floats become ``None`` (strict JSON)."""
  if isinstance(x, dict):
    return {str(k): jsonable(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [jsonable(v) for v in x]
  if isinstance(x, np.ndarray) and x.shape == ():
    x = x.item()
  elif isinstance(x, np.generic):
    x = x.item()
  elif hasattr(x, "shape") and getattr(x, "shape", None) == ():
    x = np.asarray(x).item()
  if isinstance(x, float) and not math.isfinite(x):
    return None
  return x


def _dumps(obj: Any, **kwargs) -> str:
  return json.dumps(jsonable(obj), allow_nan=False, **kwargs)


def write_json(path, obj: Dict[str, Any]) -> None:
  text = _dumps(obj, indent=2) + "\n"
  atomic_write_bytes(pathlib.Path(path), text.encode("utf-8"))


def append_jsonl(path, record: Dict[str, Any]) -> None:
  with open(path, "a", encoding="utf-8") as f:
    f.write(_dumps(record) + "\n")


def save_array(path, array) -> None:
  import io  # pylint: disable=g-import-not-at-top
  buf = io.BytesIO()
  np.save(buf, np.asarray(array))
  atomic_write_bytes(pathlib.Path(path), buf.getvalue())


def write_dictionary_tsv(path, rows: Iterable[Tuple[str, str, float]]) -> None:
  lines = ["source\ttarget\tscore\n"]
  lines += [f"{s}\t{t}\t{score:.6f}\n" for s, t, score in rows]
  atomic_write_bytes(pathlib.Path(path), "".join(lines).encode("utf-8"))


class RunDir:
  """Where one run writes: its staging folder, renamed to ``final`` at the end.

  ``enabled=False`` (every process but 0 of a multi-host run) turns every
  write into a no-op, so only one process writes a workdir.
  """

  def __init__(self, final: pathlib.Path, *, resumed: bool, enabled: bool):
    self.final = final
    self.staging = final.with_name(final.name + STAGING_SUFFIX)
    self.resumed = resumed
    self.enabled = enabled
    self.lock = None  # The workdir's lock (bdi_jax/workdir_lock.py).

  def path(self, name: str) -> pathlib.Path:
    return self.staging / name

  @property
  def checkpoint(self) -> pathlib.Path:
    return self.staging / CHECKPOINT

  def write_json(self, name: str, obj) -> None:
    if self.enabled:
      write_json(self.path(name), obj)

  def append_jsonl(self, name: str, record) -> None:
    if self.enabled:
      append_jsonl(self.path(name), record)

  def save_array(self, name: str, array) -> None:
    if self.enabled:
      save_array(self.path(name), array)

  def write_text(self, name: str, text: str) -> None:
    if self.enabled:
      atomic_write_bytes(self.path(name), text.encode("utf-8"))

  def size(self, name: str) -> int:
    p = self.path(name)
    return p.stat().st_size if p.exists() else 0

  def truncate(self, name: str, size: int) -> None:
    """Cuts an append-only file back to ``size`` bytes (resume)."""
    p = self.path(name)
    if self.enabled and p.exists() and p.stat().st_size > size:
      with open(p, "r+b") as f:
        f.truncate(size)

  def finish(self) -> pathlib.Path:
    """Replaces ``final`` by the staging folder, in one rename where possible."""
    if not self.enabled:
      return self.final
    if self.checkpoint.exists():
      self.checkpoint.unlink()
    old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
    if self.final.exists():
      os.replace(self.final, old)
    os.replace(self.staging, self.final)
    if old.exists():
      shutil.rmtree(old, ignore_errors=True)
    self.release()
    return self.final

  def release(self) -> None:
    """Frees the workdir's lock (once; :meth:`finish` does it too). After an
    error the staging folder stays, with its checkpoint, for a resume."""
    if self.lock is not None:
      self.lock.release()
      self.lock = None

  def __enter__(self) -> "RunDir":
    return self

  def __exit__(self, *exc) -> None:
    self.release()


def _config_differences(staging: pathlib.Path,
                        config_json: Dict[str, Any]) -> Optional[list]:
  """Fields whose values differ from the staged run's (None: unreadable)."""
  try:
    saved = json.loads((staging / "config.json").read_text())
  except (OSError, ValueError):
    return None
  out = []

  def walk(a, b, prefix):
    for key in sorted(set(a) | set(b)):
      x, y = a.get(key), b.get(key)
      if isinstance(x, dict) and isinstance(y, dict):
        walk(x, y, f"{prefix}{key}.")
      elif x != y:
        out.append(f"{prefix}{key}")

  walk(saved, jsonable(config_json), "")
  return out


def open_run(workdir, config_json: Dict[str, Any], *, overwrite: bool = False,
             enabled: bool = True) -> RunDir:
  """Prepares the staging folder of a run into ``workdir``.

  * A finished run in ``workdir`` is refused unless ``overwrite`` (it stays
    untouched until the new run has finished).
  * An interrupted run of the *same* config (its staging folder with a
    checkpoint) is resumed; one of another config is refused unless
    ``overwrite``, which discards it.
  * A workdir another process is writing is refused (its lock,
    bdi_jax/workdir_lock.py, is held until :meth:`RunDir.finish`).

  Raises:
    WorkdirError: ``workdir`` is a file, holds results, an interrupted run
      of another config, or is in use by another process.
  """
  final = pathlib.Path(workdir)
  if final.exists() and not final.is_dir():
    raise errors.WorkdirError(
        f"--workdir {final} is a file, not a folder; choose another --workdir")
  lock = workdir_lock.acquire(final) if enabled else None
  try:
    run = _open_staging(final, config_json, overwrite, enabled)
  except BaseException:
    if lock is not None:
      lock.release()
    raise
  run.lock = lock
  return run


def _open_staging(final: pathlib.Path, config_json, overwrite: bool,
                  enabled: bool) -> RunDir:
  run = RunDir(final, resumed=False, enabled=enabled)
  staging = run.staging
  existing = [f for f in RESULT_FILES if (final / f).exists()]
  if existing and not overwrite:
    raise errors.WorkdirError(
        f"{final} already holds results ({', '.join(existing)}); choose "
        "another --workdir or pass --overwrite to replace them")
  if staging.exists():
    has_checkpoint = (staging / CHECKPOINT).exists()
    differences = _config_differences(staging, config_json)
    if has_checkpoint and differences == []:
      run.resumed = True
      return run
    if has_checkpoint and not overwrite:
      fields = ", ".join((differences or ["config.json unreadable"])[:4])
      raise errors.WorkdirError(
          f"{staging} holds an interrupted run of a different config "
          f"(differs in: {fields}); pass --overwrite to discard it, or rerun "
          "its own command to resume it")
    if enabled:
      shutil.rmtree(staging)  # Never results: those live only in `final`.
  if enabled:
    try:
      staging.mkdir(parents=True)
    except OSError as e:
      raise errors.WorkdirError(
          f"--workdir {final}: cannot create {staging} ({e.strerror or e}); "
          "choose another --workdir") from None
    run.write_json("config.json", config_json)
  return run

