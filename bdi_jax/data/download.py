"""Fetches the data that is not shipped: fastText vectors, MUSE dictionaries.

Which files exist, their URLs and where they land under the data root
(:func:`bdi_jax.paths.data_root`) is :mod:`bdi_jax.data.catalogue`; this
module only downloads them:

* ``<root>/fasttext-wiki/wiki.{lang}.vec``
* ``<root>/muse-dictionaries/{src}-{tgt}{suffix}.txt``, suffix ``""`` (full),
  ``".0-5000"`` (train) or ``".5000-6500"`` (test).

Command line (a malformed argument is one ``error: ...`` line, exit status 2)::

  python -m bdi_jax.data.download --fasttext en,zh --muse en-zh [--root DIR]
"""

import argparse
import os
import pathlib
import sys
import time
import urllib.request
from typing import List, NoReturn, Optional, Sequence

from bdi_jax import errors
from bdi_jax import paths
from bdi_jax.data import catalogue
# The catalogue's names, re-exported for existing callers.
from bdi_jax.data.catalogue import fasttext_wiki_path
from bdi_jax.data.catalogue import fasttext_wiki_url
from bdi_jax.data.catalogue import missing_files_message
from bdi_jax.data.catalogue import MUSE_SPLITS
from bdi_jax.data.catalogue import muse_dictionary_path
from bdi_jax.data.catalogue import muse_dictionary_url

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

# Where main() fetches from: the catalogue's official locations (a test or a
# mirror points them elsewhere).
FASTTEXT_WIKI_URL = catalogue.FASTTEXT_WIKI_URL
MUSE_DICTIONARY_URL = catalogue.MUSE_DICTIONARY_URL

_PROG = "python -m bdi_jax.data.download"
_CHUNK_BYTES = 1 << 20
_PROGRESS_EVERY_S = 0.5


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


def _split_list(text: Optional[str]) -> List[str]:
  return [item.strip() for item in (text or "").split(",") if item.strip()]


class _Parser(argparse.ArgumentParser):
  """argparse, but a usage mistake is one ``error:`` line (no usage dump)."""

  def error(self, message: str) -> NoReturn:
    _fail(message)


def _fail(message: str) -> NoReturn:
  print(f"error: {message} (see {_PROG} --help)", file=sys.stderr, flush=True)
  sys.exit(2)


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = _Parser(
      prog=_PROG,
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
  for lang in _split_list(args.fasttext):
    try:
      catalogue.check_lang(lang)
    except errors.BdiError as e:
      parser.error(f"--fasttext={args.fasttext}: {e}")
  for pair in _split_list(args.muse):
    langs = pair.split("-")
    try:
      if len(langs) != 2:
        raise errors.ConfigError(f"{pair!r} is not a pair like en-zh")
      for lang in langs:
        catalogue.check_lang(lang)
    except errors.BdiError as e:
      parser.error(f"--muse={args.muse}: {e}")
  return args


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Command-line entry point; returns the process exit status.

  A malformed argument prints one ``error: ...`` line on stderr and exits with
  status 2 (``SystemExit``); a failed download prints ``FAILED url: why`` and
  the status is 1.
  """
  args = _parse_args(argv)
  jobs = []  # (url, dest)
  for lang in _split_list(args.fasttext):
    jobs.append((catalogue.fasttext_wiki_url(lang, FASTTEXT_WIKI_URL),
                 catalogue.fasttext_wiki_path(lang, args.root)))
  for pair in _split_list(args.muse):
    src, tgt = pair.split("-")
    for split in catalogue.MUSE_SPLITS:
      jobs.append((
          catalogue.muse_dictionary_url(src, tgt, split, MUSE_DICTIONARY_URL),
          catalogue.muse_dictionary_path(src, tgt, split, args.root)))
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
