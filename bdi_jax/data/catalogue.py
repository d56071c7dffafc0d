"""The data files bdi-jax knows how to fetch, and what to say when one is missing.

Where each known file comes from and where it lives under the data root
(:func:`bdi_jax.paths.data_root`):

* ``fasttext-wiki/wiki.{lang}.vec``: full fastText wiki vectors
  (:data:`FASTTEXT_WIKI_URL`);
* ``muse-dictionaries/{src}-{tgt}{suffix}.txt``: MUSE dictionaries, suffix
  ``""`` (full), ``".0-5000"`` (train) or ``".5000-6500"`` (test)
  (:data:`MUSE_DICTIONARY_URL`).

This module only names files; fetching them is ``bdi_jax.data.download``'s job
(``python -m bdi_jax.data.download --fasttext en,zh --muse en-zh``). It
imports nothing of the data package, so the readers, the task loader and the
download command can all use it without import cycles.
"""

import pathlib
import re
import shlex
from typing import BinaryIO, Iterable, Optional

from bdi_jax import errors
from bdi_jax import paths

__all__ = [
    "FASTTEXT_DIR", "FASTTEXT_WIKI_URL", "MUSE_DIR", "MUSE_DICTIONARY_URL",
    "MUSE_SPLITS", "check_lang", "fasttext_wiki_file", "fasttext_wiki_path",
    "fasttext_wiki_url", "muse_dictionary_file", "muse_dictionary_path",
    "muse_dictionary_url", "download_command",
    "missing_files_message", "open_data_file",
]

FASTTEXT_WIKI_URL = (
    "https://dl.fbaipublicfiles.com/fasttext/vectors-wiki/wiki.{lang}.vec")
MUSE_DICTIONARY_URL = ("https://dl.fbaipublicfiles.com/arrival/dictionaries/"
                       "{src}-{tgt}{suffix}.txt")
# Split name -> file-name suffix used by the MUSE release.
MUSE_SPLITS = {"full": "", "train": ".0-5000", "test": ".5000-6500"}
# Folders under the data root.
FASTTEXT_DIR = "fasttext-wiki"
MUSE_DIR = "muse-dictionaries"

_LANG = r"[A-Za-z_]+"
_FASTTEXT_NAME = re.compile(rf"^wiki\.({_LANG})\.vec$")
_MUSE_NAME = re.compile(rf"^({_LANG})-({_LANG})(|\.0-5000|\.5000-6500)\.txt$")


def check_lang(lang: str) -> str:
  """Returns ``lang`` if it is a language code (letters and '_').

  Language codes end up in URLs and file names, so anything else (``""``,
  ``"../etc"``) is refused before it is used.

  Raises:
    ConfigError: ``lang`` is not a language code.
  """
  if not isinstance(lang, str) or not re.fullmatch(_LANG, lang):
    raise errors.ConfigError(
        f"invalid language code {lang!r}: use letters only, e.g. 'en' or 'zh'")
  return lang


def _muse_suffix(split: str) -> str:
  try:
    return MUSE_SPLITS[split]
  except KeyError:
    raise errors.ConfigError(
        f"unknown MUSE split {split!r}; known: {sorted(MUSE_SPLITS)}") from None


def fasttext_wiki_url(lang: str, template: str = FASTTEXT_WIKI_URL) -> str:
  """URL of the full fastText wiki vectors of ``lang`` (e.g. ``"en"``).

  Args:
    lang: language code.
    template: URL with a ``{lang}`` field (default: the official location).
  """
  return template.format(lang=check_lang(lang))


def fasttext_wiki_file(lang: str) -> str:
  """``wiki.{lang}.vec``'s path relative to the data root (as configs name it)."""
  return f"{FASTTEXT_DIR}/wiki.{check_lang(lang)}.vec"


def fasttext_wiki_path(lang: str,
                       root: Optional[paths.PathLike] = None) -> pathlib.Path:
  """Local path of ``wiki.{lang}.vec`` under ``root`` (default: data root)."""
  return paths.resolve(fasttext_wiki_file(lang), root)


def muse_dictionary_url(src: str, tgt: str, split: str,
                        template: str = MUSE_DICTIONARY_URL) -> str:
  """URL of a MUSE dictionary; ``split`` is "full", "train" or "test".

  Args:
    src, tgt: language codes.
    split: a key of :data:`MUSE_SPLITS`.
    template: URL with ``{src}``, ``{tgt}`` and ``{suffix}`` fields (default:
      the official location).
  """
  return template.format(src=check_lang(src), tgt=check_lang(tgt),
                         suffix=_muse_suffix(split))


def muse_dictionary_file(src: str, tgt: str, split: str) -> str:
  """A MUSE dictionary's path relative to the data root (as configs name it)."""
  return (f"{MUSE_DIR}/{check_lang(src)}-{check_lang(tgt)}"
          f"{_muse_suffix(split)}.txt")


def muse_dictionary_path(src: str, tgt: str, split: str,
                         root: Optional[paths.PathLike] = None) -> pathlib.Path:
  """Local path of a MUSE dictionary under ``root`` (default: data root)."""
  return paths.resolve(muse_dictionary_file(src, tgt, split), root)


def download_command(path: paths.PathLike) -> Optional[str]:
  """The command that fetches ``path``, or None if it is no known file."""
  path = pathlib.Path(path)
  root = shlex.quote(str(path.parent.parent))
  match = _FASTTEXT_NAME.match(path.name)
  if path.parent.name == FASTTEXT_DIR and match:
    return (f"python -m bdi_jax.data.download --fasttext {match.group(1)} "
            f"--root {root}")
  match = _MUSE_NAME.match(path.name)
  if path.parent.name == MUSE_DIR and match:
    return (f"python -m bdi_jax.data.download "
            f"--muse {match.group(1)}-{match.group(2)} --root {root}")
  return None


def missing_files_message(missing: Iterable[paths.PathLike]) -> str:
  """Explains how to obtain files that are not on disk.

  Args:
    missing: the paths that were not found.

  Returns:
    A multi-line message naming each path and, where it is a known file, the
    exact command that fetches it.
  """
  lines = ["Data file(s) not found:"]
  for path in missing:
    command = download_command(path)
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


def open_data_file(path: paths.PathLike) -> BinaryIO:
  """Opens ``path`` for binary reading; a missing file says how to get it.

  Raises:
    FileNotFoundError: with :func:`missing_files_message` as its message.
  """
  try:
    return open(path, "rb")
  except FileNotFoundError:
    raise FileNotFoundError(missing_files_message([path])) from None
