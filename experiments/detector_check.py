r"""Checks the failure detector on pairs it was not designed on, without GANs.

For each pair: the null (random starts refined, as a run measures it), then
the detector's verdict on (a) the supervised Procrustes mapping of the pair's
dictionary, refined (a known-good mapping) and (b) fresh random rotations,
refined (known-bad: P@1 ~ 0). Prints one row per mapping with its refined
CSLS P@1, the verdict and its numbers; a false positive is a "success" whose
P@1 is below a quarter of the supervised one.

  python -m experiments.detector_check                # every pair below
  python -m experiments.detector_check --pairs=msl_en_es,ubi_en_es
  python -m experiments.detector_check --studies=docs/results  # real GAN seeds

``--studies`` judges every seed row of the committed stability reports
(``*.json``) against the null of its pair, measured here with the
``gan_<pair>`` preset's settings, and counts false positives (predicted
success, refined CSLS P@1 below half the supervised baseline: the study's
own success rule).

The supervised mapping is trained and tested on the same dictionary (it only
has to be a correct mapping here, not a fair baseline).
"""

import json
import pathlib
from typing import Dict, List

from absl import app
from absl import flags
import jax
import numpy as np

from bdi_jax import detector, refine, scoring
from bdi_jax.data import tasks
from experiments import cli
from experiments.configs import registry

_PAIRS = flags.DEFINE_list("pairs", None, "Pairs to check (default: all).")
_RANDOM = flags.DEFINE_integer("random_starts", 4,
                               "Fresh random rotations judged per pair.")
_STUDIES = flags.DEFINE_string(
    "studies", None, "A folder of stability reports (*.json, searched "
    "recursively) whose seed rows to judge instead of the pairs.")

_MSL = "fasttext-multisimlex"
_UBI = "ubilexat"
_MUSE = "muse-dictionaries"

# name -> data fields; every pair here is one the detector was NOT designed
# on (those were UBiLexAT es->en, zh->en and the synthetic data).
PAIRS: Dict[str, Dict[str, str]] = {
    "ubi_en_es": dict(src_emb=f"{_UBI}/es-en/word2vec.en",
                      tgt_emb=f"{_UBI}/es-en/word2vec.es",
                      test_dict=f"{_MUSE}/en-es.txt", src_lang="en",
                      tgt_lang="es"),
    "ubi_en_zh": dict(src_emb=f"{_UBI}/zh-en/word2vec.en",
                      tgt_emb=f"{_UBI}/zh-en/word2vec.zh",
                      test_dict=f"{_MUSE}/en-zh.txt", src_lang="en",
                      tgt_lang="zh"),
    "ubi_en_en": dict(src_emb=f"{_UBI}/es-en/word2vec.en",
                      tgt_emb=f"{_UBI}/zh-en/word2vec.en",
                      test_dict=f"{_MUSE}/en-en.txt", src_lang="en",
                      tgt_lang="en"),
    **{f"msl_en_{l}": dict(src_emb=f"{_MSL}/en.vec", tgt_emb=f"{_MSL}/{l}.vec",
                           test_dict=f"{_MSL}/dicts/en-{l}.txt",
                           src_lang="en", tgt_lang=l)
       for l in ("es", "zh", "et", "fi", "ru")},
}


def check_pair(name: str, n_random: int) -> List[Dict]:
  config = registry.get_config("gan_es_en")
  with config.unlocked():
    config.data.update(PAIRS[name])
    config.data.train_dict = PAIRS[name]["test_dict"]
    config.data.train_exclude_test = False
  task = tasks.load_task(config.data)
  settings = scoring.settings_from_config(config)
  spaces = scoring.device_spaces(task)
  null = detector.measure_null(spaces, settings,
                               jax.random.fold_in(jax.random.key(0), 2),
                               config.eval.detector_null_starts)
  pairs = task.train_pairs
  supervised = np.asarray(refine.procrustes(spaces.src[pairs[:, 0]],
                                            spaces.tgt[pairs[:, 1]]))
  others = np.asarray(detector.random_rotations(
      jax.random.key(12345), n_random, spaces.src.shape[1]))
  ws = np.concatenate([supervised[None], others])
  labels = ["supervised"] + [f"random {i}" for i in range(n_random)]
  starts = scoring.score_mappings(spaces, ws, settings, "start")
  rows = []
  for label, m in zip(labels, refine.refine_mappings(
      spaces, starts, settings, list(range(len(ws))))):
    v = detector.judge(m.criterion, m.signals.get("dictionary_overlap"),
                       null, **detector.thresholds(config.eval))
    rows.append({"pair": name, "mapping": label,
                 "p1": m.precision["csls"]["p@1"], **v._asdict()})
  good = rows[0]["p1"]
  for r in rows:
    r["truly_ok"] = r["p1"] >= good / 4
  return rows


def check_studies(folder: str) -> None:
  """Judges the seed rows of committed stability reports."""
  nulls, thresholds = {}, None
  counts = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
  seen = set()
  for path in sorted(pathlib.Path(folder).rglob("*.json")):
    report = json.loads(path.read_text())
    for entry in report.get("configs", []):
      pair = entry["pair"]
      if pair not in nulls:
        config = registry.get_config(f"gan_{pair}")
        thresholds = detector.thresholds(config.eval)
        spaces = scoring.device_spaces(tasks.load_task(config.data))
        nulls[pair] = detector.measure_null(
            spaces, scoring.settings_from_config(config),
            jax.random.fold_in(jax.random.key(0), 2),
            config.eval.detector_null_starts)
      for row in entry.get("seeds", []):
        key = (entry["config"], row["seed"], row.get("criterion"))
        if key in seen or row.get("criterion") is None:
          continue  # The same run is listed in several (merged) reports.
        seen.add(key)
        v = detector.judge(row["criterion"], row.get("dictionary_overlap"),
                           nulls[pair], **thresholds)
        ok = bool(row.get("success"))
        counts[("t" if v.success == ok else "f")
               + ("p" if v.success else "n")] += 1
        if v.success != ok:
          print(f"{path.name} {entry['config']} seed {row['seed']}: "
                f"predicted {v.success}, success {ok} ({v})")
  for pair, null in nulls.items():
    print(f"null {pair}: criterion {null.mean:.4f} (std "
          f"{np.std(null.criteria):.4f}), overlap {null.overlap:.3f}")
  total = sum(counts.values())
  print(f"{total} seed rows: {counts['tp']} true positives, {counts['fp']} "
        f"false positives, {counts['tn']} true negatives, {counts['fn']} "
        f"false negatives; accuracy "
        f"{(counts['tp'] + counts['tn']) / max(1, total):.3f}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _STUDIES.value:
    check_studies(_STUDIES.value)
    return
  names = _PAIRS.value or list(PAIRS)
  unknown = [n for n in names if n not in PAIRS]
  if unknown:
    cli.fail(f"--pairs: unknown {unknown}; known: {sorted(PAIRS)}")
  print("| pair | mapping | refined CSLS P@1 | predicted | truly ok | gain | z "
        "| stability |")
  print("|---|---|---:|---|---|---:|---:|---:|")
  fp = fn = total = 0
  for name in names:
    for r in check_pair(name, _RANDOM.value):
      total += 1
      fp += r["success"] and not r["truly_ok"]
      fn += (not r["success"]) and r["truly_ok"]
      stab = "-" if r["stability"] is None else f"{r['stability']:.2f}"
      print(f"| {r['pair']} | {r['mapping']} | {r['p1']:.3f} | "
            f"{r['success']} | {r['truly_ok']} | {r['gain']:.3f} | "
            f"{r['z']:.1f} | {stab} |", flush=True)
  print(f"\n{total} mappings: {fp} false positives, {fn} false negatives")


if __name__ == "__main__":
  cli.run(main)
