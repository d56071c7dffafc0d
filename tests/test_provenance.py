"""Where a result came from: the git commit a run's code was loaded from."""

import pathlib
import shutil
import subprocess

import pytest

from bdi_jax import provenance

REPO = pathlib.Path(__file__).resolve().parents[1]

needs_git = pytest.mark.skipif(shutil.which("git") is None,
                               reason="git is not installed")


def _git(root, *args):
  return subprocess.run(["git", "-C", str(root), *args], check=True,
                        capture_output=True, text=True).stdout.strip()


@needs_git
def test_git_version_names_the_commit_and_tracked_changes(tmp_path):
  repo = tmp_path / "checkout"
  repo.mkdir()
  _git(repo, "init", "-q")
  (repo / "a.py").write_text("x = 1\n")
  _git(repo, "add", "a.py")
  _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a")
  head = _git(repo, "rev-parse", "HEAD")
  assert provenance.git_version(repo) == {"commit": head, "dirty": False}
  (repo / "notes.txt").write_text("untracked files do not make it dirty\n")
  assert provenance.git_version(repo)["dirty"] is False
  (repo / "a.py").write_text("x = 2\n")
  assert provenance.git_version(repo) == {"commit": head, "dirty": True}
  # A folder inside a checkout is not a checkout's top (an installed copy of
  # the package could sit in someone else's repository).
  (repo / "sub").mkdir()
  assert provenance.git_version(repo / "sub") is None
  assert provenance.git_version(tmp_path / "plain") is None


def test_code_text():
  assert provenance.code_text(None) == "not a git checkout (commit unknown)"
  sha = "0123456789abcdef" * 2 + "01234567"
  assert provenance.code_text({"commit": sha, "dirty": False}) == \
      "commit 0123456789ab"
  assert provenance.code_text({"commit": sha, "dirty": True}) == \
      "commit 0123456789ab with uncommitted changes"


@needs_git
def test_describe_records_this_checkouts_commit():
  if provenance.git_version(REPO) is None:
    pytest.skip(f"{REPO} is not a git checkout")
  code = provenance.describe()["code"]
  assert code["commit"] == _git(REPO, "rev-parse", "HEAD")
