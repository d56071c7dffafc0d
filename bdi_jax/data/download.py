"""Fetches the data that is not shipped: fastText vectors, MUSE dictionaries.

Files land under the data root (:func:`bdi_jax.paths.data_root`):

* ``<root>/fasttext-wiki/wiki.{lang}.vec``
* ``<root>/muse-dictionaries/{src}-{tgt}{suffix}.txt``, suffix ``""`` (full),
  ``".0-5000"`` (train) or ``".5000-6500"`` (test).

Command line::

  python -m bdi_jax.data.download --fasttext en,zh --muse en-zh [--root DIR]
"""

import argparse
import os
import pathlib
import re
import shlex
import sys
import time
import urllib.request
from typing import Iterable, List, Optional, Sequence

from bdi_jax import paths

__all__ = [
    "FASTTEXT_WIKI_URL",
    "MUSE_DICTIONARY_URL",
    "MUSE_SPLITS",
    "fasttext_wiki_url",
    "fasttext_wiki_path",
    "muse_dictionary_url",
    "muse_dictionary_path",
    "download",
    "missing_files_message",
    "main",
]

FASTTEXT_WIKI_URL = (
    "https://dl.fbaipublicfiles.com/fasttext/vectors-wiki/wiki.{lang}.vec")
MUSE_DICTIONARY_URL = ("https://dl.fbaipublicfiles.com/arrival/dictionaries/"
                       "{src}-{tgt}{suffix}.txt")
# Split name -> file-name suffix used by the MUSE release.
MUSE_SPLITS = {"full": "", "train": ".0-5000", "test": ".5000-6500"}

_FASTTEXT_DIR = "fasttext-wiki"
_MUSE_DIR = "muse-dictionaries"
_CHUNK_BYTES = 1 << 20
_PROGRESS_EVERY_S = 0.5
_FASTTEXT_NAME = re.compile(r"^wiki\.([A-Za-z_]+)\.vec$")
_MUSE_NAME = re.compile(
    r"^([A-Za-z_]+)-([A-Za-z_]+)(|\.0-5000|\.5000-6500)\.txt$")


def _check_lang(lang: str) -> str:
  # Language codes end up in URLs and file names: refuse anything odd early.
  if not re.fullmatch(r"[A-Za-z_]+", lang or ""):
    raise ValueError(f"Invalid language code {lang!r}")
  return lang


def fasttext_wiki_url(lang: str) -> str:
  """URL of the full fastText wiki vectors for ``lang`` (e.g. ``"en"``)."""
  return FASTTEXT_WIKI_URL.format(lang=_check_lang(lang))


def fasttext_wiki_path(lang: str,
                       root: Optional[paths.PathLike] = None) -> pathlib.Path:
  """Local path of ``wiki.{lang}.vec`` under ``root`` (default: data root)."""
  return paths.resolve(
      pathlib.Path(_FASTTEXT_DIR) / f"wiki.{_check_lang(lang)}.vec", root)


def _muse_suffix(split: str) -> str:
  try:
    return MUSE_SPLITS[split]
  except KeyError:
    raise ValueError(
        f"Unknown MUSE split {split!r}; known: {sorted(MUSE_SPLITS)}") from None


def muse_dictionary_url(src: str, tgt: str, split: str) -> str:
  """URL of a MUSE dictionary; ``split`` is "full", "train" or "test"."""
  return MUSE_DICTIONARY_URL.format(
      src=_check_lang(src), tgt=_check_lang(tgt), suffix=_muse_suffix(split))


def muse_dictionary_path(src: str, tgt: str, split: str,
                         root: Optional[paths.PathLike] = None) -> pathlib.Path:
  """Local path of a MUSE dictionary under ``root`` (default: data root)."""
  name = f"{_check_lang(src)}-{_check_lang(tgt)}{_muse_suffix(split)}.txt"
  return paths.resolve(pathlib.Path(_MUSE_DIR) / name, root)


def _format_bytes(n: float) -> str:
  if n < 1000:
    return f"{int(n)} B"
  for unit in ("KB", "MB", "GB"):
    n /= 1000
    if n < 1000:
      break
  return f"{n:.1f} {unit}"


def _progress_line(dest: pathlib.Path, done: int, total: Optional[int]) -> str:
  if total:
    return (f"\r{dest.name}: {_format_bytes(done)} / {_format_bytes(total)} "
            f"({100.0 * done / total:5.1f}%)")
  return f"\r{dest.name}: {_format_bytes(done)}"


def download(url: str, dest: paths.PathLike, *, overwrite: bool = False,
             progress: bool = True) -> pathlib.Path:
  """Streams ``url`` into ``dest``, atomically.

  The bytes go to ``dest + ".part"``, which is renamed to ``dest`` only once
  the whole body has arrived (and matches ``Content-Length`` when the server
  sends one). An existing ``dest`` is therefore never damaged: without
  ``overwrite`` it is kept and nothing is fetched; with ``overwrite`` it is
  replaced only by a complete download. On failure the ``.part`` file is
  removed and the error re-raised.

  Args:
    url: any URL urllib opens (``https://``, ``file://`` ...).
    dest: destination file; parent folders are created.
    overwrite: replace an existing ``dest``.
    progress: print a progress line to stderr.

  Returns:
    ``dest`` as a path.
  """
  dest = pathlib.Path(dest).expanduser()
  if dest.exists() and not overwrite:
    if progress:
      print(f"{dest}: already present, not downloading", file=sys.stderr)
    return dest
  dest.parent.mkdir(parents=True, exist_ok=True)
  part = dest.with_name(dest.name + ".part")
  if progress:
    print(f"Downloading {url}\n  -> {dest}", file=sys.stderr)
  try:
    with urllib.request.urlopen(url, timeout=60) as response, \
        open(part, "wb") as out:
      length = response.headers.get("Content-Length")
      total = int(length) if length and length.isdigit() else None
      done = 0
      last_report = 0.0
      while True:
        chunk = response.read(_CHUNK_BYTES)
        if not chunk:
          break
        out.write(chunk)
        done += len(chunk)
        now = time.monotonic()
        if progress and now - last_report >= _PROGRESS_EVERY_S:
          sys.stderr.write(_progress_line(dest, done, total))
          sys.stderr.flush()
          last_report = now
      if total is not None and done != total:
        raise IOError(
            f"{url}: connection closed after {done} of {total} bytes")
    os.replace(part, dest)
  except BaseException:
    # Includes KeyboardInterrupt: a half-written .part must never linger.
    try:
      part.unlink()
    except FileNotFoundError:
      pass
    if progress:
      sys.stderr.write("\n")
    raise
  if progress:
    sys.stderr.write(_progress_line(dest, done, total) + "\n")
  return dest


def _download_command(path: pathlib.Path) -> Optional[str]:
  """The CLI call that fetches ``path``, or None if it is not downloadable."""
  root = shlex.quote(str(path.parent.parent))
  match = _FASTTEXT_NAME.match(path.name)
  if path.parent.name == _FASTTEXT_DIR and match:
    return (f"python -m bdi_jax.data.download --fasttext {match.group(1)} "
            f"--root {root}")
  match = _MUSE_NAME.match(path.name)
  if path.parent.name == _MUSE_DIR and match:
    return (f"python -m bdi_jax.data.download "
            f"--muse {match.group(1)}-{match.group(2)} --root {root}")
  return None


def missing_files_message(missing: Iterable[paths.PathLike]) -> str:
  """Explains how to obtain files that are not on disk.

  Args:
    missing: the paths that were not found.

  Returns:
    A multi-line message naming each path and, where the file is one this
    module can fetch, the exact download command.
  """
  lines = ["Data file(s) not found:"]
  for path in missing:
    path = pathlib.Path(path)
    command = _download_command(path)
    lines.append(f"  {path}")
    if command:
      lines.append(f"    fetch it with: {command}")
    else:
      lines.append("    (not downloadable by bdi_jax.data.download; "
                   "pass the right path)")
  lines.append(
      f"Set {paths.DATA_DIR_ENV} to the folder that holds the data "
      f"(now: {paths.data_root()}), or run `python -m bdi_jax.data.download "
      "--help` to fetch what is missing.")
  return "\n".join(lines)


def _split_list(text: Optional[str]) -> List[str]:
  return [item.strip() for item in (text or "").split(",") if item.strip()]


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog="python -m bdi_jax.data.download",
      description="Download fastText wiki vectors and MUSE dictionaries.")
  parser.add_argument(
      "--fasttext", default="",
      help="comma-separated languages, e.g. en,zh (fetches wiki.XX.vec)")
  parser.add_argument(
      "--muse", default="",
      help="comma-separated pairs, e.g. en-zh,zh-en (all three splits)")
  parser.add_argument(
      "--root", default=None,
      help=f"data root (default: ${paths.DATA_DIR_ENV} or ~/.cache/bdi-jax)")
  parser.add_argument("--overwrite", action="store_true",
                      help="re-download files that already exist")
  parser.add_argument("--quiet", action="store_true",
                      help="no progress output")
  args = parser.parse_args(argv)
  if not args.fasttext and not args.muse:
    parser.error("nothing to do: pass --fasttext and/or --muse")
  for pair in _split_list(args.muse):
    if pair.count("-") != 1:
      parser.error(f"--muse expects pairs like en-zh, got {pair!r}")
  return args


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Command-line entry point; returns the process exit status."""
  args = _parse_args(argv)
  jobs = []  # (url, dest)
  for lang in _split_list(args.fasttext):
    jobs.append((fasttext_wiki_url(lang), fasttext_wiki_path(lang, args.root)))
  for pair in _split_list(args.muse):
    src, tgt = pair.split("-")
    for split in MUSE_SPLITS:
      jobs.append((muse_dictionary_url(src, tgt, split),
                   muse_dictionary_path(src, tgt, split, args.root)))
  failures = 0
  for url, dest in jobs:
    try:
      download(url, dest, overwrite=args.overwrite, progress=not args.quiet)
    except (OSError, ValueError) as error:  # URLError is an OSError.
      failures += 1
      print(f"FAILED {url}: {error}", file=sys.stderr)
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main())
