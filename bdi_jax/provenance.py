"""What a result file must say about where it came from.

``describe()`` is stored in every ``summary.json``, so a number can be traced
to its code version, device, command line and data months later.
"""

import platform
import shlex
import sys
from typing import Any, Dict

import jax

from bdi_jax import paths

__all__ = ["describe", "command_line", "versions"]


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
    argv[0] = "python -m experiments." + module[:-3].replace("/", ".")
    return " ".join([argv[0]] + [shlex.quote(a) for a in argv[1:]])
  return " ".join(shlex.quote(a) for a in argv)


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
      "data_root": str(paths.data_root()),
  }
