"""What every command line shares: one-line errors and ``--debug``.

``cli.run(main)`` replaces ``absl.app.run(main)``. A user mistake (any
:class:`bdi_jax.errors.BdiError`, or a ``FileNotFoundError`` /
``IsADirectoryError`` from a path the user gave) ends the program with
``error: <message>`` on stderr and exit status 2, no traceback; ``--debug``
re-raises it with the full trace. Ctrl-C prints one line (exit 130).
"""

import sys

from absl import app
from absl import flags

from bdi_jax import errors

__all__ = ["run", "fail", "USER_ERRORS"]

_DEBUG = flags.DEFINE_bool(
    "debug", False, "Show the full Python traceback of an error.")

# Exceptions that mean "the user asked for something impossible", not a bug.
USER_ERRORS = (errors.BdiError, FileNotFoundError, IsADirectoryError,
               NotADirectoryError, PermissionError, app.UsageError)


def fail(message: str, status: int = 2):
  """Prints ``error: message`` on stderr and exits."""
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(status)


def _one_line(e: BaseException) -> str:
  text = str(e).strip() or type(e).__name__
  return text


def run(main, argv=None) -> None:
  """``absl.app.run(main)`` with one-line errors for user mistakes."""

  def wrapped(argv):
    try:
      return main(argv)
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

  app.run(wrapped, argv=argv)
