r"""Aligned vectors of a finished run, in fastText text format.

  python -m experiments.export --workdir=runs/gan_es_en
  python -m experiments.export --workdir=runs/gan_es_en --max_words=50000

Writes ``vectors-<src>.vec`` (the mapped source space) and ``vectors-<tgt>.vec``
(the target space) into the workdir (or ``--output_dir``), header ``N D``,
frequent words first. Both are exactly what the run's retrieval searched: the
mapped source is ``normalize_rows(X @ W.T)`` after the config's normalisation,
the target ``normalize_rows(Y)``; so nearest-neighbour retrieval on the
re-read files gives the run's NN P@1.

The folder written into holds its lock (``bdi_jax/workdir_lock.py``) while
the files are written: an export into the workdir of a run that is training,
or two exports into one folder, is refused at once, naming the other process.
"""

import contextlib
import os
import pathlib
import sys

from absl import app
from absl import flags

from bdi_jax import errors
from bdi_jax import workdir_lock
from experiments import cli

FLAGS = flags.FLAGS
FORMATS = ("vec",)


def define_flags() -> None:
  """This command's flags; defined only when it runs, since every command
  (and experiments.run) has its own ``--workdir``."""
  flags.DEFINE_string("workdir", None, "Folder of a finished run.")
  flags.DEFINE_integer("max_words", None,
                       "Write only the N most frequent words of each side.")
  flags.DEFINE_enum("format", "vec", FORMATS,
                    "Output format: fastText text (.vec).")
  flags.DEFINE_string("output_dir", None,
                      "Where to write the files (default: the workdir).")
  flags.DEFINE_integer("seed", None,
                       "Export this seed's mapping (W-seed<N>.npy) instead of "
                       "the selected one (W.npy).")


def output_names(src_lang: str, tgt_lang: str):
  """``(source file, target file)`` names; distinct for en-en runs."""
  if src_lang == tgt_lang:
    return f"vectors-src-{src_lang}.vec", f"vectors-tgt-{tgt_lang}.vec"
  return f"vectors-{src_lang}.vec", f"vectors-{tgt_lang}.vec"


def export(run, output_dir, max_words=None):
  """Writes the two aligned spaces of a loaded run; returns their paths."""
  from bdi_jax.data import embeddings  # pylint: disable=g-import-not-at-top
  from bdi_jax import saved  # pylint: disable=g-import-not-at-top
  output_dir = pathlib.Path(output_dir)
  output_dir.mkdir(parents=True, exist_ok=True)
  src_words, mapped, tgt_words, tgt = saved.aligned_vectors(run, max_words)
  src_name, tgt_name = output_names(run.config.data.src_lang,
                                    run.config.data.tgt_lang)
  return (embeddings.write_vec(output_dir / src_name, src_words, mapped),
          embeddings.write_vec(output_dir / tgt_name, tgt_words, tgt))


def output_folder(workdir, output_dir=None) -> pathlib.Path:
  """The folder :func:`main` writes into: ``output_dir``, else the run's
  workdir (as :func:`bdi_jax.saved.load_run` reads it)."""
  folder = pathlib.Path(output_dir or workdir).expanduser()
  if folder.name in ("", ".", ".."):  # E.g. "." : its lock needs a name.
    folder = pathlib.Path(os.path.abspath(folder))
  return folder


def lock_output(folder: pathlib.Path, flag: str) -> workdir_lock.Lock:
  """Takes ``folder``'s workdir lock, or refuses in one line naming the
  process that holds it (a run training there, or another export)."""
  try:
    lock = workdir_lock.acquire(folder, flag=flag)
  except errors.WorkdirError as e:
    text = str(e)
    if flag == "--workdir" and " is in use by " in text:
      # Another --workdir is another run: the way out is --output_dir.
      tail = ", or choose another --workdir"
      text = text[:-len(tail)] if text.endswith(tail) else text + ";"
      raise errors.WorkdirError(
          f"{text}, or write the files elsewhere with --output_dir") from None
    raise
  if lock.note:
    print(lock.note, file=sys.stderr, flush=True)
  return lock


def main(argv):
  cli.require_workdir(FLAGS.workdir, argv)
  if FLAGS.max_words is not None and FLAGS.max_words < 1:
    raise app.UsageError(f"--max_words={FLAGS.max_words}: expected >= 1")
  from absl import logging  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)
  out = output_folder(FLAGS.workdir, FLAGS.output_dir)
  flag = "--output_dir" if FLAGS.output_dir else "--workdir"
  if out.exists() and not out.is_dir() and FLAGS.output_dir:
    raise errors.WorkdirError(f"{flag} {out} is a file, not a folder; choose "
                              f"another {flag}")
  # Before JAX starts or the run is read: a busy folder is refused at once.
  # Without --output_dir in a missing parent folder no run can be there:
  # load_run says so, and no lock creates that folder.
  with (lock_output(out, flag) if FLAGS.output_dir
        or out.absolute().parent.is_dir() else contextlib.nullcontext()):
    from bdi_jax import saved  # pylint: disable=g-import-not-at-top
    run = saved.load_run(FLAGS.workdir, seed=FLAGS.seed)
    for path in export(run, out, FLAGS.max_words):
      with open(path, encoding="utf-8") as f:
        n, d = f.readline().split()
      print(f"{path}: {int(n):,} words x {d}")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
