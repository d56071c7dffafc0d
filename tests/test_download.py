"""The data-file catalogue, the download command's arguments, the data root."""

import os
import pathlib
import subprocess
import sys

import pytest

from bdi_jax import errors
from bdi_jax import paths
from bdi_jax.data import catalogue
from bdi_jax.data import download
from experiments.configs import registry

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_catalogue_paths_urls_and_commands_agree(tmp_path):
  # Every known file: its path, its URL and the command that fetches it name
  # the same thing, and the command reproduces the path it was made from.
  for lang in ("en", "zh", "pt_br"):
    path = catalogue.fasttext_wiki_path(lang, tmp_path)
    assert path == tmp_path / catalogue.FASTTEXT_DIR / f"wiki.{lang}.vec"
    assert catalogue.fasttext_wiki_url(lang).endswith("/" + path.name)
    assert catalogue.download_command(path) == (
        f"python -m bdi_jax.data.download --fasttext {lang} --root {tmp_path}")
  for split, suffix in catalogue.MUSE_SPLITS.items():
    path = catalogue.muse_dictionary_path("en", "zh", split, tmp_path)
    assert path == tmp_path / catalogue.MUSE_DIR / f"en-zh{suffix}.txt"
    assert catalogue.muse_dictionary_url("en", "zh", split).endswith(
        "/" + path.name)
    assert catalogue.download_command(path) == (
        f"python -m bdi_jax.data.download --muse en-zh --root {tmp_path}")
  # The registry's file names are the catalogue's (relative to the root).
  config = registry.get_config("wgangp_en_zh").data
  assert config.src_emb == catalogue.fasttext_wiki_file("en")
  assert config.tgt_emb == catalogue.fasttext_wiki_file("zh")
  assert config.test_dict == catalogue.muse_dictionary_file("en", "zh", "test")
  assert config.train_dict == catalogue.muse_dictionary_file("en", "zh",
                                                             "train")
  # Unknown files, or known names in the wrong folder, have no command.
  assert catalogue.download_command(tmp_path / "other.vec") is None
  assert catalogue.download_command(tmp_path / "x" / "wiki.en.vec") is None
  # A template moves every URL (a mirror), keeping the file names.
  assert catalogue.fasttext_wiki_url("en", "file:///m/{lang}.v") == (
      "file:///m/en.v")


@pytest.mark.parametrize("bad", ["", "../etc", "en zh", "e-n", None, "en/"])
def test_catalogue_refuses_odd_language_codes(bad):
  with pytest.raises(errors.ConfigError, match="invalid language code"):
    catalogue.fasttext_wiki_path(bad)
  with pytest.raises(errors.ConfigError, match="invalid language code"):
    catalogue.muse_dictionary_url("en", bad, "test")


def test_missing_file_message_names_file_command_and_root(tmp_path,
                                                          monkeypatch):
  monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "root"))
  known = catalogue.muse_dictionary_path("es", "en", "test")
  with pytest.raises(FileNotFoundError) as info:
    catalogue.open_data_file(known)
  message = str(info.value)
  assert str(known) in message
  assert catalogue.download_command(known) in message
  assert str(tmp_path / "root") in message and paths.DATA_DIR_ENV in message
  # The catalogue is its one home: the deprecated shim in the resolver (which
  # had to import the catalogue late, a paths <-> catalogue cycle) is gone.
  assert not hasattr(paths, "open_data_file")


def test_data_root_is_absolute_and_follows_the_variable(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  monkeypatch.setenv(paths.DATA_DIR_ENV, "rel/data")
  assert paths.data_root() == tmp_path / "rel" / "data"
  assert paths.resolve("a/b.vec") == tmp_path / "rel" / "data" / "a" / "b.vec"
  monkeypatch.delenv(paths.DATA_DIR_ENV)
  monkeypatch.setenv("XDG_CACHE_HOME", "cache")
  assert paths.data_root() == paths.user_cache_dir() == (
      tmp_path / "cache" / "bdi-jax")


def test_paths_imports_nothing_of_the_data_package():
  # The old paths <-> download cycle: importing the resolver must not load
  # the catalogue or the download command (and `-m` must not warn that
  # download was imported twice).
  code = ("import sys, bdi_jax.paths; "
          "print(sorted(m for m in sys.modules if m.startswith('bdi_jax')))")
  proc = subprocess.run([sys.executable, "-c", code], cwd=REPO,
                        capture_output=True, text=True, timeout=60)
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.split() == ["['bdi_jax',", "'bdi_jax.paths']"]


@pytest.mark.parametrize("argv, names", [
    (["--muse", "en-"], "--muse=en-"),
    (["--muse=-zh"], "--muse=-zh"),
    (["--muse", "en-zh-fr"], "en-zh-fr"),
    (["--muse", "enzh"], "enzh"),
    (["--muse", "en-zh,es"], "'es'"),
    (["--fasttext", "../x"], "--fasttext=../x"),
    (["--fasttext", "en,z h"], "z h"),
    (["--fasttext"], "--fasttext"),
    (["--bogus"], "--bogus"),
    ([], "nothing to do"),
])
def test_malformed_arguments_are_one_error_line(argv, names, capsys, tmp_path):
  with pytest.raises(SystemExit) as info:
    download.main(argv + ["--root", str(tmp_path)])
  assert info.value.code == 2
  err = capsys.readouterr().err
  lines = err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: "), err
  assert names in lines[0]
  assert not any(tmp_path.iterdir())  # Nothing was written.


def test_malformed_argument_on_the_real_command_line(tmp_path):
  env = dict(os.environ, PYTHONWARNINGS="error")  # runpy's double import.
  proc = subprocess.run(
      [sys.executable, "-m", "bdi_jax.data.download", "--muse", "en-",
       "--root", str(tmp_path)],
      cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines() == [
      "error: --muse=en-: invalid language code '': use letters only, e.g. "
      "'en' or 'zh' (see python -m bdi_jax.data.download --help)"]
  assert "Traceback" not in proc.stderr and proc.stdout == ""
