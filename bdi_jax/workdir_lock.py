"""One process at a time on a workdir: ``<workdir>.lock`` beside it.

Two runs (or a run and a study or an export) writing one workdir would
interleave their metrics and logs and rename each other's staging folder away.
The lock is an ``flock`` on ``<workdir>.lock``, which names its holder's process
id. The kernel drops an ``flock`` when its process dies, however it dies, so a
lock file left by a killed process is free and is simply taken over (with a
note); a lock held by a live process is refused at once, naming that process.
"""

import atexit
import fcntl
import os
import pathlib
import socket
from typing import Dict, Optional

from bdi_jax import errors

__all__ = ["Lock", "acquire", "lock_path", "release_held"]

SUFFIX = ".lock"
_HELD: Dict[str, "Lock"] = {}  # Lock file -> this process's lock on it.


def _release_all(lock: "Lock") -> None:
  lock.release_all()


def release_held() -> None:
  """Frees every lock this process holds (a study holds its own and its run's).

  For the interrupt watchdog, which ends the process with ``os._exit``: that
  skips ``atexit``, and a lock file left behind would make the rerun print a
  "took over the lock" note for a process that ended cleanly.
  """
  for lock in list(_HELD.values()):
    lock.release_all()


def lock_path(workdir) -> pathlib.Path:
  workdir = pathlib.Path(workdir)
  if workdir.name in ("", ".", ".."):  # "." has no name to add a suffix to.
    workdir = workdir.resolve()
  return workdir.with_name(workdir.name + SUFFIX)


def _usable_parent(workdir: pathlib.Path, flag: str) -> pathlib.Path:
  """Creates the workdir's parent folder; one clear error if it cannot."""
  parent = workdir.absolute().parent
  blocker = next((p for p in [parent, *parent.parents]
                  if p.exists() and not p.is_dir()), None)
  if blocker is not None:
    raise errors.WorkdirError(
        f"{flag} {workdir}: {blocker} is a file, not a folder; choose another "
        f"{flag}")
  try:
    parent.mkdir(parents=True, exist_ok=True)
  except OSError as e:
    raise errors.WorkdirError(
        f"{flag} {workdir}: cannot create the folder {parent} "
        f"({e.strerror or e}); choose another {flag}") from None
  if not os.access(parent, os.W_OK | os.X_OK):
    raise errors.WorkdirError(
        f"{flag} {workdir}: the folder {parent} is not writable (permission "
        f"denied); choose another {flag} or fix its permissions")
  return parent


class Lock:
  """A held workdir lock; :meth:`release` (or the process's end) frees it.

  Attributes:
    path: the lock file.
    note: a line to show when a stale lock of a dead process was taken over
      (None otherwise).
  """

  def __init__(self, path: pathlib.Path, fd: int, note: Optional[str]):
    self.path, self._fd, self.note = path, fd, note
    self._count = 1

  def release(self) -> None:
    """Frees it once every :func:`acquire` of this process has released."""
    if self._fd is None:
      return
    self._count -= 1
    if self._count > 0:
      return
    _HELD.pop(str(self.path), None)
    # Unlinked while still held, so that a waiting process that opened the
    # old file notices (acquire checks the inode) instead of sharing it.
    try:
      self.path.unlink()
    except OSError:
      pass
    os.close(self._fd)
    self._fd = None

  def release_all(self) -> None:
    """Frees it now, however many times this process acquired it."""
    self._count = 1
    self.release()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.release()


def _holder(text: str) -> str:
  fields = dict(line.split("=", 1) for line in text.splitlines()
                if "=" in line)
  pid = fields.get("pid", "?")
  where = fields.get("host")
  if where and where != socket.gethostname():
    return f"process {pid} on {where}"
  return f"process {pid}"


def acquire(workdir, flag: str = "--workdir") -> Lock:
  """Takes the lock of ``workdir`` or refuses at once.

  Args:
    workdir: the folder a command is about to write (it need not exist).
    flag: how the command line calls it, for messages.

  Returns:
    The held :class:`Lock`.

  Raises:
    WorkdirError: another live process holds it (naming that process), or
      the workdir's parent folder cannot be created or written.
  """
  workdir = pathlib.Path(workdir)
  _usable_parent(workdir, flag)
  path = lock_path(workdir).absolute()
  held = _HELD.get(str(path))
  if held is not None:  # This process holds it already (run.py, then
    held._count += 1  # the pipeline): an flock would refuse ourselves.
    return held
  for _ in range(10):  # Retried only when the file was replaced meanwhile.
    try:
      fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
      raise errors.WorkdirError(
          f"{flag} {workdir}: cannot create the lock file {path} "
          f"({e.strerror or e}); choose another {flag}") from None
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
      text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
      os.close(fd)
      raise errors.WorkdirError(
          f"{flag} {workdir} is in use by {_holder(text)} (lock "
          f"{path}); wait for it to end, or choose another {flag}") from None
    try:
      same = os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
      same = False
    if not same:  # Its holder released (unlinked) it as we opened it.
      os.close(fd)
      continue
    old = os.pread(fd, 4096, 0).decode("utf-8", "replace")
    note = None
    if "pid=" in old:
      note = (f"note: took over the lock {path} left by {_holder(old)}, which "
              "is no longer running")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid={os.getpid()}\nhost={socket.gethostname()}\n".encode(),
              0)
    lock = _HELD[str(path)] = Lock(path, fd, note)
    atexit.register(_release_all, lock)
    return lock
  raise errors.WorkdirError(f"{flag} {workdir}: could not take the lock {path}")
