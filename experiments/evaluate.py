r"""Word-translation precision of a finished run's mapping on any dictionary.

  python -m experiments.evaluate --workdir=runs/gan_es_en
  python -m experiments.evaluate --workdir=runs/gan_es_en \
      --dict=muse-dictionaries/es-en.5000-6500.txt
  python -m experiments.evaluate --workdir=runs/gan_es_en --dict=my.tsv \
      --src_emb=other.es.vec --tgt_emb=other.en.vec

P@1/5/10 of NN and CSLS retrieval, scored by the pipeline's own function with
the run's config (normalisation, CSLS k, methods, cut-offs), printed like the
run's report and written as JSON (``--output``, default
``<workdir>/evaluate-<dictionary>.json``). Without ``--dict`` the run's own
test dictionary is used, and the result equals ``summary.json``'s. Paths are
taken as given when they exist, else under the data root.
"""

import pathlib

from absl import flags

from experiments import cli

FLAGS = flags.FLAGS


def define_flags() -> None:
  """This command's flags; defined only when it runs, since every command
  (and experiments.run) has its own ``--workdir``."""
  flags.DEFINE_string("workdir", None, "Folder of a finished run.")
  flags.DEFINE_string("dict", None,
                      "Gold dictionary (src tgt per line, or a run's "
                      "dictionary.tsv); default: the run's test dictionary.")
  flags.DEFINE_string("src_emb", None,
                      "Other source embeddings (default: the run's).")
  flags.DEFINE_string("tgt_emb", None,
                      "Other target embeddings (default: the run's).")
  flags.DEFINE_string("output", None, "JSON file to write (default: "
                      "<workdir>/evaluate-<dictionary>.json).")
  flags.DEFINE_integer("seed", None,
                       "Evaluate this seed's mapping (W-seed<N>.npy) instead "
                       "of the selected one (W.npy).")


def result(run, mapping, dictionary: str, own_data: bool) -> dict:
  """What the JSON file holds.

  Args:
    run: the loaded :class:`bdi_jax.saved.SavedRun`.
    mapping: its scored mapping (:func:`bdi_jax.saved.score_run`).
    dictionary: the dictionary's name, for the report.
    own_data: whether this is the run's own test data (then ``summary.json``
      is quoted beside, to compare).
  """
  from bdi_jax import saved  # pylint: disable=g-import-not-at-top
  cov = run.task.test_coverage
  return {
      "workdir": str(run.workdir),
      "mapping": run.w_file.name,
      "dictionary": dictionary,
      "test_coverage": cov.as_dict() if cov is not None else None,
      "criterion": mapping.criterion,
      "precision": mapping.precision,
      "summary_precision": saved.recorded_precision(run) if own_data else None,
  }


def format_result(res: dict) -> str:
  """The printed report: the run report's columns, one row."""
  lines = [f"== {res['workdir']} ({res['mapping']}) on {res['dictionary']} =="]
  cov = res["test_coverage"]
  if cov:
    lines.append(f"pairs: {cov['pairs']}/{cov['pairs_total']}, source words: "
                 f"{cov['source_words']}/{cov['source_words_total']} in the "
                 "vocabularies")
  names = [(m, k) for m in res["precision"] for k in res["precision"][m]]
  from bdi_jax import report  # pylint: disable=g-import-not-at-top
  lines.append("  ".join(f"{m.upper()} {k.upper()}" for m, k in names)
               + report.low_coverage(cov))
  lines.append("  ".join(
      f"{res['precision'][m][k]:{len(m) + len(k) + 1}.3f}" for m, k in names))
  lines.append(f"criterion (mean CSLS cosine): {res['criterion']:.4f}")
  if res["summary_precision"] is not None:
    same = all(abs(res["summary_precision"][m][k] - res["precision"][m][k])
               <= 1e-6 for m, k in names)
    lines.append("matches summary.json" if same else
                 "differs from summary.json (other device or data?)")
  return "\n".join(lines)


def main(argv):
  cli.require_workdir(FLAGS.workdir, argv)
  from absl import logging  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)
  from bdi_jax import outputs  # pylint: disable=g-import-not-at-top
  from bdi_jax import saved  # pylint: disable=g-import-not-at-top
  run = saved.load_run(FLAGS.workdir, seed=FLAGS.seed, test_dict=FLAGS.dict,
                       src_emb=FLAGS.src_emb, tgt_emb=FLAGS.tgt_emb)
  own_data = not (FLAGS.dict or FLAGS.src_emb or FLAGS.tgt_emb)
  name = FLAGS.dict or run.config.data.test_dict or (
      "the built-in synthetic test dictionary")
  res = result(run, saved.score_run(run), name, own_data)
  print(format_result(res))
  stem = pathlib.Path(FLAGS.dict).name if FLAGS.dict else "test"
  seed = f"-seed{FLAGS.seed}" if FLAGS.seed is not None else ""
  out = pathlib.Path(FLAGS.output or run.workdir / f"evaluate-{stem}{seed}.json")
  outputs.write_json(out, res)
  print(f"written to {out}")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
