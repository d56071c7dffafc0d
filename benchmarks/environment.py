"""What a benchmark ran on: device, library versions, date, process memory.

Figures are meaningless without the machine and versions that produced them,
so every JSON report starts with :func:`describe`.
"""

import datetime
import importlib.metadata
import os
import platform
import resource
import sys
from typing import Dict, Optional, Tuple

__all__ = ["describe", "device_info", "versions", "utc_now", "rss_mb",
           "peak_rss"]

_PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy")


def _cpu_model() -> str:
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      for line in f:
        if line.lower().startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  # Not Linux (or no /proc): the best the standard library knows.
  return platform.processor() or platform.machine()


def _usable_cores() -> int:
  # A container or `taskset` may allow fewer cores than the machine has; the
  # affinity mask is what XLA's thread pool can actually use.
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:
    return os.cpu_count() or 0


def device_info() -> Dict[str, object]:
  """Platform and kind of JAX's default device, plus the host CPU."""
  import jax  # pylint: disable=g-import-not-at-top
  dev = jax.devices()[0]
  return {
      "platform": dev.platform,
      "device_kind": dev.device_kind,
      "device_count": jax.device_count(),
      "cpu_model": _cpu_model(),
      "cpu_cores": os.cpu_count(),
      "usable_cores": _usable_cores(),
      "hostname": platform.node(),
  }


def versions() -> Dict[str, Optional[str]]:
  """Python and the numerical libraries the figures depend on."""
  out: Dict[str, Optional[str]] = {"python": platform.python_version()}
  for name in _PACKAGES:
    try:
      out[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      out[name] = None
  return out


def utc_now() -> str:
  return datetime.datetime.now(datetime.timezone.utc).isoformat(
      timespec="seconds")


def describe() -> Dict[str, object]:
  """The header of a report: device, versions, date and relevant settings."""
  return {
      "device": device_info(),
      "versions": versions(),
      "date": utc_now(),
      # Settings that change the figures without changing the code.
      "env": {k: os.environ.get(k) for k in (
          "BDI_RETRIEVAL_MEMORY_MB", "XLA_FLAGS", "JAX_PLATFORMS",
          "XLA_PYTHON_CLIENT_PREALLOCATE")},
  }


def _proc_status_mb(field: str) -> Optional[float]:
  try:
    with open("/proc/self/status", encoding="utf-8") as f:
      for line in f:
        if line.startswith(field + ":"):
          return int(line.split()[1]) / 1024.0  # The value is in kB.
  except OSError:
    pass
  return None


def rss_mb() -> Optional[float]:
  """Current resident set size of this process in MiB (Linux only)."""
  return _proc_status_mb("VmRSS")


def peak_rss() -> Tuple[float, str]:
  """Peak resident set size of this process so far.

  Returns:
    ``(MiB, source)``. ``VmHWM`` where ``/proc`` exists; otherwise
    ``ru_maxrss``, which may also count the parent's RSS at spawn time (it
    does on Linux), so it is only an upper bound (see benchmarks/isolated.py).
  """
  hwm = _proc_status_mb("VmHWM")
  if hwm is not None:
    return hwm, "VmHWM"
  maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  # Linux reports kB, macOS bytes.
  return maxrss / (2**20 if sys.platform == "darwin" else 1024.0), "ru_maxrss"
