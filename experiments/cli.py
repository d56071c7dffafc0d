"""What every command line shares: one-line errors and ``--debug``.

``cli.run(main)`` replaces ``absl.app.run(main)``. A user mistake (any
:class:`bdi_jax.errors.BdiError`, or a ``FileNotFoundError`` /
``IsADirectoryError`` from a path the user gave) ends the program with
``error: <message>`` on stderr and exit status 2, no traceback; ``--debug``
re-raises it with the full trace. Ctrl-C prints one line (exit 130). Flag
errors (an unknown flag, a bad value, a ``--config.FIELD`` naming no field of
the config) are one ``error:`` line too.
"""

import importlib.util
import os
import logging as std_logging
import pathlib
import re
import sys
import warnings
from typing import List, Optional

from absl import app
from absl import flags

from bdi_jax import errors

__all__ = ["run", "fail", "check_config_file", "require_workdir",
           "enable_compilation_cache", "USER_ERRORS"]

_DEBUG = flags.DEFINE_bool(
    "debug", False, "Show the full Python traceback of an error.")

# Exceptions that mean "the user asked for something impossible", not a bug.
USER_ERRORS = (errors.BdiError, FileNotFoundError, FileExistsError,
               IsADirectoryError, NotADirectoryError, PermissionError,
               app.UsageError)


def fail(message: str, status: int = 2):
  """Prints ``error: message`` on stderr and exits."""
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(status)


def _one_line(e: BaseException) -> str:
  text = str(e).strip() or type(e).__name__
  return text


def _debug_requested(argv) -> bool:
  # Flags are not parsed yet when parsing them fails.
  return any(a in ("--debug", "-debug", "--debug=true", "--debug=True",
                   "--debug=1") for a in argv)


def _unknown_field(argv, e: BaseException) -> Optional[str]:
  """One line for ml_collections' error on ``--NAME.FIELD`` naming no field.

  ml_collections raises a ``KeyError`` (or an ``AttributeError`` around one)
  whose text is the missing key and, on a second line, a close match.
  """
  key_error = e
  while key_error is not None and not isinstance(key_error, KeyError):
    key_error = key_error.__context__
  if key_error is None or not key_error.args:
    return None
  lines = str(key_error.args[0]).splitlines()
  key = lines[0].strip().strip("'\"")
  hint = " ".join(line.strip() for line in lines[1:])
  for arg in argv[1:]:
    m = re.match(r"^--?(?:no)?([A-Za-z_]\w*)\.([\w.]+)", arg)
    if m and key in m.group(2).split("."):
      field = f"{m.group(1)}.{m.group(2)}"
      return (f"{arg}: unknown config field {field} (no {key!r})"
              + (f"; {hint}" if hint else ".")
              + " Every field is listed in experiments/configs/default.py.")
  return None


def _flag_error_line(text: str) -> str:
  # ml_collections embeds the trace of a failing get_config() in the flag
  # error; its last line (the exception) is what the user needs.
  marker = "Traceback (most recent call last):"
  if marker in text:
    last = [line for line in text.splitlines() if line.strip()][-1]
    text = text.split(marker, 1)[0] + " " + last
  return " ".join(text.split())


_HELP_FLAGS = ("--help", "-help", "-h", "--helpshort", "--helpfull",
               "--helpxml", "-?")


def _parse_flags(argv):
  """``FLAGS(argv)`` with flag errors as one ``error:`` line (exit 2)."""
  # --help lists --debug with the command's own flags.
  flags.FLAGS.register_key_flag_for_module(argv[0], flags.FLAGS["debug"])
  try:
    return flags.FLAGS(argv)
  except SystemExit as e:
    # absl exits 1 after printing the help; asking for it is no error.
    if e.code == 1 and any(a in _HELP_FLAGS for a in argv[1:]):
      sys.exit(0)
    raise
  except flags.Error as e:
    if _debug_requested(argv):
      raise
    fail(_flag_error_line(str(e)) + " (see --helpshort)")
  except (KeyError, AttributeError) as e:
    message = _unknown_field(argv, e)
    if message is None or _debug_requested(argv):
      raise
    fail(message)


def check_config_file(path: str, argv) -> None:
  """Exits with one ``error:`` line when the ``--config`` file is missing,
  fails to import or has no ``get_config`` (``--debug``: the trace)."""
  file = pathlib.Path(path).expanduser()
  if not file.is_file():
    fail(f"--config={path}: no such config file ({file.absolute()}); give a "
         "file that defines get_config(), or a name from --list_configs")
  try:
    spec = importlib.util.spec_from_file_location("_bdi_config_check", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
  except Exception as e:  # pylint: disable=broad-except
    if _debug_requested(argv):
      raise
    fail(f"--config={path}: importing it raised {type(e).__name__}: "
         f"{' '.join(str(e).split())} (--debug shows the trace)")
  if not callable(getattr(module, "get_config", None)):
    fail(f"--config={path}: defines no get_config(); a config file returns "
         "its ml_collections.ConfigDict from get_config()")


def require_workdir(workdir, argv=None) -> str:
  """The ``--workdir`` of a command on a finished run; refuses stray
  positional arguments when ``argv`` is given (absl's ``argv[0]`` is the
  program)."""
  if argv is not None and len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if not workdir:
    raise app.UsageError("--workdir is required (the folder of a finished "
                         "run)")
  return workdir


def enable_compilation_cache() -> None:
  """JAX's persistent compilation cache in the user's cache folder, so that a
  second run of the same shapes skips most of XLA's compile time."""
  import jax  # pylint: disable=g-import-not-at-top
  from bdi_jax import paths  # pylint: disable=g-import-not-at-top
  folder = paths.user_cache_dir() / "jax-compilation"
  try:
    folder.mkdir(parents=True, exist_ok=True)
  except OSError:
    return  # Read-only home: compile every time.
  jax.config.update("jax_compilation_cache_dir", str(folder))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def _show_warning(message, category, filename, lineno, file=None,
                  line=None) -> None:
  """A warning as one ``warning: ...`` line (no source line under it)."""
  del category, filename, lineno, line
  print(f"warning: {' '.join(str(message).split())}",
        file=file or sys.stderr, flush=True)


def run(main, argv=None) -> None:
  """``absl.app.run(main)`` with one-line errors for user mistakes."""

  def wrapped(argv):
    # JAX's backend probing logs at INFO; the run's own lines follow absl's
    # verbosity (bdi_jax.console), so only JAX is quietened here.
    std_logging.getLogger("jax").setLevel(std_logging.WARNING)
    warnings.showwarning = _show_warning
    try:
      return main(argv)
    except errors.Interrupted as e:  # Saved; the message says how to resume.
      if _DEBUG.value:
        raise
      print(_one_line(e), file=sys.stderr, flush=True)
      sys.exit(128 + int(getattr(e, "signum", 2)))  # 130 SIGINT, 143 SIGTERM.
    except USER_ERRORS as e:
      if _DEBUG.value:
        raise
      fail(_one_line(e))
    except KeyboardInterrupt:
      if _DEBUG.value:
        raise
      # Commands that save state on interrupt print their own line first.
      print("interrupted", file=sys.stderr, flush=True)
      sys.exit(130)

  app.run(wrapped, argv=argv, flags_parser=_parse_flags)


def parse_seeds(text: str) -> List[int]:
  """``"0-9"``, ``"0,2,5-7"`` -> sorted distinct seeds.

  Raises:
    app.UsageError: an item is not ``N`` or ``A-B`` with ``0 <= A <= B``, or
      a seed is listed twice.
  """
  seeds: List[int] = []
  for item in (text or "").split(","):
    item = item.strip()
    first, sep, last = item.partition("-")
    if not (first.isdigit() and (last.isdigit() if sep else True)):
      raise app.UsageError(
          f"--seeds={text}: {item!r} is not a seed N or a range A-B "
          "(e.g. --seeds=0-9 or --seeds=0,2,5-7)")
    a, b = int(first), int(last) if sep else int(first)
    if b < a:
      raise app.UsageError(f"--seeds={text}: range {item} is empty ({b} < {a})")
    seeds += range(a, b + 1)
  twice = sorted({s for s in seeds if seeds.count(s) > 1})
  if twice:
    raise app.UsageError(f"--seeds={text}: seed(s) {twice} listed twice")
  return sorted(seeds)


def resolve_config_argv(argv, get_config, registry_file, *,
                        default: Optional[str] = None):
  """Rewrites ``--config=NAME`` to ``registry_file:NAME``, so that
  registered names work as ml_collections config files.

  A path (``*.py`` or with a folder) is checked and passed on. Without
  ``--config`` it adds ``--config=<registry_file>:<default>`` first
  (overrides must follow it), or nothing without a default. Exits with one
  line (and close matches) for an unknown name: ``get_config(name)`` raises
  ValueError.
  """
  out = list(argv)
  if out and out[-1] == "--config":
    return out  # No value: absl says so.
  for i, arg in enumerate(out):
    if arg.startswith("--config="):
      value, prefix = arg[len("--config="):], "--config="
    elif arg == "--config" and i + 1 < len(out):
      value, prefix, i = out[i + 1], "", i + 1
    else:
      continue
    spec = value.split(":", 1)[0]
    if spec.endswith(".py") or os.sep in spec:
      check_config_file(spec, argv)  # ml_collections then loads it.
      return out
    try:
      get_config(value)
    except ValueError as e:
      sys.exit(f"error: {e}")
    out[i] = f"{prefix}{registry_file}:{value}"
    return out
  if default is None:
    return out
  return out[:1] + [f"--config={registry_file}:{default}"] + out[1:]
