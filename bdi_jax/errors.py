"""The library's own exception types.

Every mistake a user can make (a bad data file, a bad config value, a bad
workdir) raises a subclass of :class:`BdiError`, so that the command lines can
print it as one line (``error: ...``) and everything else stays a traceback
(a bug). The library never prints or exits; only ``experiments/cli.py`` does.
"""

__all__ = ["BdiError", "ConfigError", "DataError", "WorkdirError",
           "TrainingFailed", "Interrupted"]


class BdiError(Exception):
  """A user-facing error; its message says what, where and what to do."""


class ConfigError(BdiError, ValueError):
  """A config value is out of range, of the wrong kind, or inconsistent."""


class DataError(BdiError, ValueError):
  """A data file (embeddings, dictionary) is unusable; names file and line."""


class WorkdirError(BdiError):
  """A workdir cannot be used (holds other results, is not a run, ...)."""


class TrainingFailed(BdiError):
  """Every seed of a run failed (e.g. diverged); nothing to export."""


class Interrupted(BdiError):
  """Ctrl-C / SIGTERM: the state was saved; the message says how to resume."""
