r"""Translations of source words by a finished run's mapping.

  python -m experiments.translate --workdir=runs/gan_es_en perro casa luna
  echo "perro casa" | python -m experiments.translate --workdir=runs/gan_es_en
  python -m experiments.translate --workdir=runs/gan_es_en --k=10 --method=nn perro

Prints one line per word: the word, then its top-k target words with their
CSLS (or cosine, ``--method=nn``) scores, best first. A word missing from the
source vocabulary (looked up as written, then lower-cased) gets a line saying
so.
"""

import sys

from absl import app
from absl import flags

from experiments import cli

FLAGS = flags.FLAGS


def define_flags() -> None:
  """This command's flags; defined only when it runs, since every command
  (and experiments.run) has its own ``--workdir``."""
  flags.DEFINE_string("workdir", None, "Folder of a finished run.")
  flags.DEFINE_integer("k", 5, "Translations per word.")
  flags.DEFINE_enum("method", "csls", ["csls", "nn"],
                    "Retrieval: CSLS (as the run's dictionary) or cosine.")
  flags.DEFINE_integer("seed", None,
                       "Use this seed's mapping (W-seed<N>.npy) instead of "
                       "the selected one (W.npy).")


def format_translation(t) -> str:
  """One output line for a :class:`bdi_jax.saved.Translation`."""
  if not t.found:
    return f"{t.word}\t(not in the source vocabulary)"
  return t.word + "\t" + "  ".join(
      f"{w} ({s:.3f})" for w, s in zip(t.translations, t.scores))


def main(argv):
  cli.require_workdir(FLAGS.workdir)
  words = list(argv[1:])
  if not words:
    if sys.stdin.isatty():
      raise app.UsageError("give words to translate as arguments or on stdin")
    words = sys.stdin.read().split()
  if not words:
    raise app.UsageError("no words on stdin")
  from absl import logging  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)
  from bdi_jax import saved  # pylint: disable=g-import-not-at-top
  run = saved.load_run(FLAGS.workdir, seed=FLAGS.seed)
  for t in saved.translate(run, words, k=FLAGS.k, method=FLAGS.method):
    print(format_translation(t))


if __name__ == "__main__":
  define_flags()
  cli.run(main)
