"""Writing run outputs without ever destroying earlier results.

Every file is written to a temporary name and renamed into place, so an
interrupted run leaves either the old file or the new one, never half of one; a
workdir that already holds a finished run is refused unless the caller asks to
overwrite.
"""

import json
import os
import pathlib
from typing import Any, Dict, Iterable, Tuple

import numpy as np

__all__ = ["prepare_workdir", "write_json", "append_jsonl", "save_array",
           "write_dictionary_tsv", "RESULT_FILES"]

RESULT_FILES = ("summary.json", "metrics.jsonl", "W.npy", "dictionary.tsv",
                "config.json")


def prepare_workdir(workdir, *, overwrite: bool = False) -> pathlib.Path:
  """Creates ``workdir``; refuses one with results in it unless ``overwrite``."""
  path = pathlib.Path(workdir)
  existing = [f for f in RESULT_FILES if (path / f).exists()]
  if existing and not overwrite:
    raise FileExistsError(
        f"{path} already holds results ({', '.join(existing)}); choose another "
        "--workdir or pass --overwrite to replace them")
  path.mkdir(parents=True, exist_ok=True)
  if overwrite and (path / "metrics.jsonl").exists():
    (path / "metrics.jsonl").unlink()  # Appended to during the run.
  return path


def _atomic_write(path: pathlib.Path, write) -> None:
  tmp = path.with_name(path.name + ".tmp")
  with open(tmp, "wb") as f:
    write(f)
  os.replace(tmp, path)


def _jsonable(x: Any) -> Any:
  if isinstance(x, dict):
    return {str(k): _jsonable(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [_jsonable(v) for v in x]
  if isinstance(x, (np.generic,)):
    return x.item()
  if hasattr(x, "shape") and getattr(x, "shape", None) == ():
    return np.asarray(x).item()
  return x


def write_json(path, obj: Dict[str, Any]) -> None:
  text = json.dumps(_jsonable(obj), indent=2, sort_keys=False) + "\n"
  _atomic_write(pathlib.Path(path), lambda f: f.write(text.encode("utf-8")))


def append_jsonl(path, record: Dict[str, Any]) -> None:
  with open(path, "a", encoding="utf-8") as f:
    f.write(json.dumps(_jsonable(record)) + "\n")


def save_array(path, array) -> None:
  _atomic_write(pathlib.Path(path), lambda f: np.save(f, np.asarray(array)))


def write_dictionary_tsv(path, rows: Iterable[Tuple[str, str, float]]) -> None:
  lines = ["source\ttarget\tscore\n"]
  lines += [f"{s}\t{t}\t{score:.6f}\n" for s, t, score in rows]
  text = "".join(lines)
  _atomic_write(pathlib.Path(path), lambda f: f.write(text.encode("utf-8")))
