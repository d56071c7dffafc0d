r"""Aligned vectors of a finished run, in fastText text format.

  python -m experiments.export --workdir=runs/gan_es_en
  python -m experiments.export --workdir=runs/gan_es_en --max_words=50000

Writes ``vectors-<src>.vec`` (the mapped source space) and ``vectors-<tgt>.vec``
(the target space) into the workdir (or ``--output_dir``), header ``N D``,
frequent words first. Both are exactly what the run's retrieval searched: the
mapped source is ``normalize_rows(X @ W.T)`` after the config's normalisation,
the target ``normalize_rows(Y)``; so nearest-neighbour retrieval on the
re-read files gives the run's NN P@1.
"""

import pathlib

from absl import app
from absl import flags

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


def main(argv):
  cli.require_workdir(FLAGS.workdir, argv)
  if FLAGS.max_words is not None and FLAGS.max_words < 1:
    raise app.UsageError(f"--max_words={FLAGS.max_words}: expected >= 1")
  from absl import logging  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)
  from bdi_jax import saved  # pylint: disable=g-import-not-at-top
  run = saved.load_run(FLAGS.workdir, seed=FLAGS.seed)
  out = FLAGS.output_dir or run.workdir
  for path in export(run, out, FLAGS.max_words):
    with open(path, encoding="utf-8") as f:
      n, d = f.readline().split()
    print(f"{path}: {int(n):,} words x {d}")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
