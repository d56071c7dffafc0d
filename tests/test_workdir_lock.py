"""The workdir lock with real processes, and the own-vectors flags' helpers."""

import os
import signal

import pytest

from bdi_jax import errors
from bdi_jax import workdir_lock
from experiments import own_vectors
from experiments.configs import registry
from tests import lock_holder


def test_second_process_is_refused_naming_the_first(tmp_path):
  workdir = tmp_path / "run"
  holder = lock_holder.holder(workdir)
  try:
    with pytest.raises(errors.WorkdirError) as err:
      workdir_lock.acquire(workdir)
    assert f"in use by process {holder.pid}" in str(err.value)
    assert len(str(err.value).splitlines()) == 1
  finally:
    lock_holder.stop(holder)


def test_lock_of_a_killed_process_is_taken_over_with_a_note(tmp_path):
  workdir = tmp_path / "run"
  holder = lock_holder.holder(workdir)
  holder.send_signal(signal.SIGKILL)
  lock_holder.stop(holder)
  assert workdir_lock.lock_path(workdir).exists()  # Left behind.
  lock = workdir_lock.acquire(workdir)
  try:
    assert lock.note is not None and f"process {holder.pid}" in lock.note
    assert f"pid={os.getpid()}" in workdir_lock.lock_path(workdir).read_text()
    # Re-entrant within a process; freed (and removed) by the last release.
    again = workdir_lock.acquire(workdir)
    assert again is lock and again.note is not None
    again.release()
    assert workdir_lock.lock_path(workdir).exists()
  finally:
    lock.release()
  assert not workdir_lock.lock_path(workdir).exists()
  fresh = workdir_lock.acquire(workdir)  # A clean release leaves no note.
  assert fresh.note is None
  fresh.release()


def test_workdir_below_a_file_is_named(tmp_path):
  (tmp_path / "blocker").write_text("x")
  with pytest.raises(errors.WorkdirError, match="blocker is a file"):
    workdir_lock.acquire(tmp_path / "blocker" / "run")


@pytest.mark.parametrize("name, code", [
    ("wiki.en.vec", "en"), ("en.vec", "en"), ("word2vec.es", "es"),
    ("cc.de.300.vec.gz", "de"), ("wiki.multi.fr.vec", "fr"),
    ("vectors-zh.txt", "zh"), ("my.de.vec", "de"), ("glove.6B.50d.txt", None),
    ("/data/ubilexat/es-en/word2vec.en", "en")])
def test_language_from_filename(name, code):
  assert own_vectors.language_from_filename(name) == code


def test_paths_resolve_in_the_current_folder_then_the_data_root(tmp_path):
  here, root = tmp_path / "here", tmp_path / "root"
  here.mkdir()
  root.mkdir()
  (here / "a.vec").write_text("")
  (root / "a.vec").write_text("")
  (root / "b.vec").write_text("")
  assert own_vectors.resolve_user_path("src_emb", "a.vec", here, root) == str(
      here / "a.vec")
  assert own_vectors.resolve_user_path("src_emb", "b.vec", here, root) == str(
      root / "b.vec")
  with pytest.raises(errors.DataError) as err:
    own_vectors.resolve_user_path("src_emb", "c.vec", here, root)
  assert str(here / "c.vec") in str(err.value)
  assert str(root / "c.vec") in str(err.value)


def test_flags_set_the_data_fields_of_a_borrowed_preset(tmp_path):
  for name in ("wiki.en.vec", "wiki.es.vec", "en-es.txt"):
    (tmp_path / name).write_text("")
  config = own_vectors.apply(
      registry.get_config("gan_es_en"),
      own_vectors.Flags("wiki.en.vec", "wiki.es.vec", dico_eval="en-es.txt"),
      cwd=tmp_path, root=tmp_path / "nowhere")
  d = config.data
  assert (d.kind, d.src_lang, d.tgt_lang) == ("files", "en", "es")
  assert d.src_emb == str(tmp_path / "wiki.en.vec")
  assert d.test_dict == str(tmp_path / "en-es.txt")
  assert d.train_dict == ""  # The preset's es-en dictionary is not kept.
  assert registry.get_config("gan_es_en").data.src_lang == "es"  # A copy.
