"""MUSE-style flags for a user's own vectors: ``--src_emb``, ``--dico_eval``...

``experiments.run --config=wgangp --src_emb=wiki.de.vec --tgt_emb=wiki.en.vec``
sets the ``config.data`` fields these flags stand for (MUSE's names, so that a
MUSE command line carries over). Paths are looked up in the current folder
first, then under the data root, and an error names both places; languages
default from the file names (``wiki.en.vec``, ``en.vec``, ``word2vec.en``).
"""

import copy
import os
import pathlib
import re
from typing import Optional

from bdi_jax import errors
from bdi_jax import paths

__all__ = ["Flags", "language_from_filename", "resolve_user_path", "apply"]

# File-name parts that are formats or corpora, never a language code.
_NOT_LANGUAGES = frozenset({
    "vec", "gz", "bin", "txt", "emb", "npy", "tsv", "cc", "wiki", "w2v"})
# Training dictionaries that are no file (bdi_jax.data.tasks).
_BUILT_IN = ("identical",)


class Flags:
  """The flags as given (None: not given)."""

  def __init__(self, src_emb=None, tgt_emb=None, src_lang=None, tgt_lang=None,
               dico_eval=None, dico_train=None):
    self.src_emb, self.tgt_emb = src_emb, tgt_emb
    self.src_lang, self.tgt_lang = src_lang, tgt_lang
    self.dico_eval, self.dico_train = dico_eval, dico_train

  def any(self) -> bool:
    return any(v is not None for v in vars(self).values())


def language_from_filename(path) -> Optional[str]:
  """The language code a vector file's name gives, or None.

  The last part of the name (split at ``.``, ``_`` and ``-``) that is two or
  three letters and not a format: ``wiki.en.vec``, ``cc.de.300.vec.gz``,
  ``en.vec``, ``word2vec.en``, ``vectors-es.txt``.
  """
  parts = re.split(r"[._\-]", pathlib.Path(str(path)).name.lower())
  codes = [p for p in parts
           if re.fullmatch(r"[a-z]{2,3}", p) and p not in _NOT_LANGUAGES]
  return codes[-1] if codes else None


def resolve_user_path(flag: str, value: str, cwd=None, root=None) -> str:
  """The absolute path of a file named on the command line.

  Relative paths are tried in ``cwd`` (the current folder) first, then under
  ``root`` (the data root).

  Raises:
    DataError: neither place has it; the message names both.
  """
  path = pathlib.Path(value).expanduser()
  if path.is_absolute():
    if not path.exists():
      raise errors.DataError(f"--{flag}={value}: no such file")
    return str(path)
  here = pathlib.Path(cwd if cwd is not None else os.getcwd()) / path
  under_root = paths.resolve(path, root)
  for candidate in (here, under_root):
    if candidate.exists():
      return str(candidate.absolute())
  raise errors.DataError(
      f"--{flag}={value}: no such file in the current folder ({here}) nor "
      f"under the data root ({under_root}; set $BDI_DATA_DIR to move it)")


def apply(config, flags: Flags, cwd=None, root=None):
  """A copy of ``config`` with the flags' ``data.*`` fields set.

  ``--src_emb`` / ``--tgt_emb`` (both or neither) switch ``data.kind`` to
  files and clear the preset's dictionaries unless ``--dico_eval`` /
  ``--dico_train`` name new ones (a borrowed preset's dictionaries belong to
  its own pair).

  Raises:
    ConfigError: only one of ``--src_emb`` / ``--tgt_emb``.
    DataError: a file that is in neither place (see resolve_user_path).
  """
  if not flags.any():
    return config
  config = copy.deepcopy(config)
  data = config.data
  if (flags.src_emb is None) != (flags.tgt_emb is None):
    given = "--src_emb" if flags.src_emb is not None else "--tgt_emb"
    raise errors.ConfigError(
        f"{given} was given alone; give both --src_emb and --tgt_emb")
  if flags.src_emb is not None:
    data.kind = "files"
    data.src_emb = resolve_user_path("src_emb", flags.src_emb, cwd, root)
    data.tgt_emb = resolve_user_path("tgt_emb", flags.tgt_emb, cwd, root)
    data.src_lang = language_from_filename(flags.src_emb) or "src"
    data.tgt_lang = language_from_filename(flags.tgt_emb) or "tgt"
    data.test_dict = ""
    data.train_dict = ""
  if flags.src_lang is not None:
    data.src_lang = flags.src_lang
  if flags.tgt_lang is not None:
    data.tgt_lang = flags.tgt_lang
  if flags.dico_eval is not None:
    data.test_dict = (resolve_user_path("dico_eval", flags.dico_eval, cwd,
                                        root) if flags.dico_eval else "")
  if flags.dico_train is not None:
    data.train_dict = (
        flags.dico_train if flags.dico_train in _BUILT_IN or not
        flags.dico_train else resolve_user_path("dico_train",
                                                flags.dico_train, cwd, root))
  return config
