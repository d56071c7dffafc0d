"""What a result file must say about where it came from.

``describe()`` is stored in every ``summary.json``, so a number can be traced
to its code version, device, command line and data months later.
"""

import functools
import pathlib
import platform
import shlex
import subprocess
import sys
from typing import Any, Dict, Optional

import jax

from bdi_jax import paths

__all__ = ["describe", "command_line", "versions", "code_version",
           "git_version", "code_text"]

# The checkout this package runs from (when it is one).
_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _version(module: str) -> str:
  from importlib import metadata  # pylint: disable=g-import-not-at-top
  try:
    return metadata.version(module)
  except metadata.PackageNotFoundError:
    return "not installed"


def versions() -> Dict[str, str]:
  return {"bdi_jax": _version("bdi-jax"), "jax": jax.__version__,
          "jaxlib": _version("jaxlib"), "flax": _version("flax"),
          "optax": _version("optax"), "numpy": _version("numpy"),
          "python": platform.python_version()}


def command_line() -> str:
  """The command that started this process, as a shell would need it."""
  argv = list(sys.argv)
  if argv and argv[0].endswith(".py") and "experiments" in argv[0]:
    # `python -m experiments.run` shows up as the module's file path.
    module = argv[0].replace("\\", "/").rsplit("experiments/", 1)[-1]
    # A package run with -m (experiments.stability) shows up as __main__.py.
    module = module[:-3].replace("/", ".").removesuffix(".__main__")
    argv[0] = "python -m experiments." + module
    return " ".join([argv[0]] + [shlex.quote(a) for a in argv[1:]])
  return " ".join(shlex.quote(a) for a in argv)


def _git(root: pathlib.Path, *args: str) -> Optional[str]:
  try:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                          text=True, timeout=10, check=False)
  except (OSError, subprocess.SubprocessError):
    return None  # No git here: the version is simply unknown.
  return done.stdout.strip() if done.returncode == 0 else None


def git_version(root: pathlib.Path) -> Optional[Dict[str, Any]]:
  """``{"commit", "dirty"}`` of the git checkout whose top is ``root``.

  ``dirty``: a tracked file differs from the commit, so the commit alone does
  not reproduce the result. None when ``root`` is not the top of a checkout
  (an installed package, a copied tree) or git is missing.
  """
  top = _git(root, "rev-parse", "--show-toplevel")
  if top is None or pathlib.Path(top).resolve() != pathlib.Path(root).resolve():
    return None
  commit = _git(root, "rev-parse", "HEAD")
  status = _git(root, "status", "--porcelain", "--untracked-files=no")
  if not commit or status is None:
    return None
  return {"commit": commit, "dirty": bool(status)}


@functools.lru_cache(maxsize=None)
def code_version() -> Optional[Dict[str, Any]]:
  """:func:`git_version` of this package's checkout, taken once per process.

  Cached because the tree may change while a long run trains: a run calls it
  when it starts, so its summary names the code that was loaded.
  """
  return git_version(_ROOT)


def code_text(code: Optional[Dict[str, Any]]) -> str:
  """A ``code`` block (:func:`git_version`) in words, for reports."""
  if not code:
    return "not a git checkout (commit unknown)"
  return f"commit {code['commit'][:12]}" + (
      " with uncommitted changes" if code.get("dirty") else "")


def describe() -> Dict[str, Any]:
  device = jax.devices()[0]
  return {
      "device": f"{device.platform}:{device.device_kind}",
      "devices": {"count": jax.device_count(),
                  "local": jax.local_device_count(),
                  "processes": jax.process_count(),
                  "host": platform.machine(),
                  "processor": platform.processor() or platform.machine()},
      "versions": versions(),
      "command": command_line(),
      "code": code_version(),
      "data_root": str(paths.data_root()),
  }
