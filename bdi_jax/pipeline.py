"""The whole experiment: adversarial training -> model selection -> refinement.

``train_and_evaluate(config, workdir)`` is the host-side driver (the pure parts
live in train.py, refine.py, retrieval.py, evaluate.py). It:

1. loads the task (every input is checked before the workdir is touched);
2. trains ``config.n_seeds`` mappings at once (vmapped over the seed, sharded
   over local devices), in fused ``lax.scan`` chunks, logging between chunks;
3. after each epoch computes the CSLS r-vectors of each mapping once and reuses
   them for the unsupervised criterion and the test precision; keeps the mapping
   with the best criterion; decays / shrinks the learning rate;
4. refines the best mapping with CSLS dictionaries + Procrustes, keeping the
   round with the best criterion;
5. writes config.json, metrics.jsonl, summary.json, W.npy, dictionary.tsv.
"""

import dataclasses
import functools
import json
import sys
import time
from typing import Any, Dict, List, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import evaluate, models, outputs, refine, retrieval, trainer
from bdi_jax import train as train_lib
from bdi_jax.data import tasks
from bdi_jax.progress import ProgressBar

__all__ = ["train_and_evaluate", "Mapping", "Spaces", "device_spaces",
           "score_mapping", "refine_mapping",
           "induce_dictionary", "adversarial_training", "SUPERVISED_METHODS"]

# Methods that start from a training dictionary instead of a GAN.
SUPERVISED_METHODS = ("procrustes",)


@dataclasses.dataclass
class Mapping:
  """A candidate mapping and what we know of it."""
  w: np.ndarray  # [d, d]
  criterion: float
  precision: Optional[Dict[str, Dict[str, float]]]  # {"nn": {"p@1":..}, ...}
  origin: str  # e.g. "adversarial epoch 3", "refinement round 2".
  # The CSLS r-vectors of this mapping, computed once (the expensive part at
  # 200k words) and reused by the criterion, the evaluation and the dictionary.
  ctx: retrieval.CSLSContext


class Spaces(NamedTuple):
  """A task's embeddings on the device, uploaded and normalised once per run
  (at 200k x 300 each upload is ~240 MB, and scoring happens every epoch)."""
  src: jax.Array  # [n_src, d] as trained on (config normalisation applied).
  tgt: jax.Array  # [n_tgt, d]
  tgt_unit: jax.Array  # [n_tgt, d] row-normalised, for retrieval.
  test_pairs: Optional[np.ndarray]  # [m, 2] gold pairs, or None.


def device_spaces(task: tasks.Task) -> Spaces:
  tgt = jnp.asarray(task.tgt_vectors)
  return Spaces(jnp.asarray(task.src_vectors), tgt,
                retrieval.normalize_rows(tgt), task.test_pairs)


def _mapped(spaces: Spaces, w) -> jax.Array:
  return retrieval.normalize_rows(
      models.apply_mapping(jnp.asarray(w), spaces.src))


def score_mapping(spaces: Spaces, w, config, origin: str) -> Mapping:
  """Criterion and test precision of ``w``, sharing one CSLS context."""
  mapped, tgt = _mapped(spaces, w), spaces.tgt_unit
  batch = config.eval.batch_size or None
  ctx = retrieval.csls_context(mapped, tgt, k=config.eval.csls_k,
                               batch_size=batch)
  criterion = evaluate.mean_cosine_criterion(
      mapped, tgt, ctx, n_words=config.eval.criterion_words, batch_size=batch)
  precision = None
  if spaces.test_pairs is not None:
    precision = evaluate.evaluate_translation(
        mapped, tgt, spaces.test_pairs, ctx,
        methods=tuple(config.eval.methods), ks=tuple(config.eval.ks),
        batch_size=batch)
  return Mapping(np.asarray(w), float(criterion), precision, origin, ctx)


def induce_dictionary(spaces: Spaces, mapping: Mapping,
                      config) -> refine.InducedDictionary:
  """CSLS dictionary of a scored mapping (reuses its r-vectors)."""
  return refine.build_dictionary(
      _mapped(spaces, mapping.w), spaces.tgt_unit, mapping.ctx,
      method=config.refine.method, mode=config.refine.mode,
      max_rank=config.refine.max_rank,
      batch_size=config.eval.batch_size or None)


def refine_mapping(spaces: Spaces, start: Mapping, config, *,
                   log=None, desc="refine") -> Mapping:
  """``config.refine.n_rounds`` rounds of dictionary induction + Procrustes.

  Returns the best of ``start`` and every round by the unsupervised criterion.
  """
  best, current = start, start
  with ProgressBar(config.refine.n_rounds, desc,
                   enabled=config.progress) as bar:
    for r in range(1, config.refine.n_rounds + 1):
      pairs = np.asarray(induce_dictionary(spaces, current, config).pairs)
      w = refine.procrustes(spaces.src[pairs[:, 0]], spaces.tgt[pairs[:, 1]])
      current = score_mapping(spaces, w, config, f"refinement round {r}")
      if log:
        log({"phase": "refinement", "round": r, "dictionary_size": len(pairs),
             "criterion": current.criterion, "precision": current.precision})
      if current.criterion > best.criterion:
        best = current
      bar.update(1, criterion=current.criterion, pairs=len(pairs))
  return best


def adversarial_training(spaces: Spaces, config, seeds: List[int], *,
                         log=None) -> List[Mapping]:
  """Trains one mapping per seed; returns each seed's best by the criterion."""
  t = config.train
  n_src, dim = spaces.src.shape
  init_fn, chunk_fn, chunk_steps = trainer.build_trainer(config, dim, n_src)
  state, run_keys = trainer.init_seeds(init_fn, seeds)
  data = train_lib.EmbeddingData(spaces.src, spaces.tgt)

  # MUSE counts an epoch in samples; one iteration consumes batch_size of them.
  iters_per_epoch = max(1, t.epoch_size // t.batch_size)
  n_chunks = -(-iters_per_epoch // chunk_steps)
  lr = np.full(len(seeds), t.map_lr, np.float64)
  best: List[Optional[Mapping]] = [None] * len(seeds)
  drops = np.zeros(len(seeds), np.int64)  # Epochs that ended below the best.

  for epoch in range(t.n_epochs):
    sums: Dict[str, np.ndarray] = {}
    tic = time.perf_counter()
    with ProgressBar(n_chunks * chunk_steps, f"epoch {epoch}/{t.n_epochs}",
                     enabled=config.progress) as bar:
      for _ in range(n_chunks):
        state, metrics = chunk_fn(state, run_keys, data)
        metrics = jax.device_get(metrics)  # Host sync once per chunk.
        for k, v in metrics.items():
          sums[k] = sums.get(k, 0.0) + np.asarray(v)
        bar.update(chunk_steps, **{k: float(np.mean(v))
                                   for k, v in metrics.items()})
    seconds = time.perf_counter() - tic
    samples = n_chunks * chunk_steps * 2 * t.batch_size * len(seeds)
    means = {k: v / n_chunks for k, v in sums.items()}

    ws = np.asarray(jax.device_get(state.mapping))
    epoch_criteria = []
    for i, seed in enumerate(seeds):
      scored = score_mapping(spaces, ws[i], config, f"adversarial epoch {epoch}")
      epoch_criteria.append(scored.criterion)
      previous_best = best[i]
      if previous_best is None or scored.criterion > previous_best.criterion:
        best[i] = scored
      # Schedule (Conneau et al. 2018): multiplicative decay every epoch, and
      # a shrink when the criterion falls below the best so far. The first
      # such drop is forgiven: before the map "takes off" the criterion only
      # wanders, and shrinking then would stall training for good.
      lr[i] = max(t.min_lr, lr[i] * t.lr_decay)
      if previous_best and scored.criterion < previous_best.criterion:
        drops[i] += 1
        if t.lr_shrink < 1 and drops[i] > t.lr_shrink_patience:
          lr[i] = max(t.min_lr, lr[i] * t.lr_shrink)
      if log:
        log({"phase": "adversarial", "epoch": epoch, "seed": seed,
             "criterion": scored.criterion, "precision": scored.precision,
             "map_lr": float(lr[i]),
             **{k: float(v[i]) for k, v in means.items()},
             "seconds": seconds, "samples_per_s": samples / seconds})
    state = state.replace(map_opt_state=train_lib.set_learning_rate(
        state.map_opt_state, lr.astype(np.float32)))
    _print(config, f"epoch {epoch}: criterion " + " ".join(
        f"{c:.4f}" for c in epoch_criteria)
           + f" | {samples / seconds:,.0f} samples/s")
  return best


def supervised_start(task: tasks.Task, spaces: Spaces, config) -> Mapping:
  if task.train_pairs is None:
    raise ValueError(f"method {config.method!r} needs config.data.train_dict")
  w = refine.procrustes(spaces.src[task.train_pairs[:, 0]],
                        spaces.tgt[task.train_pairs[:, 1]])
  return score_mapping(spaces, w, config, "supervised Procrustes")


def _print(config, text: str) -> None:
  if config.progress:
    print(text, file=sys.stderr, flush=True)


def _seed_summary(seed, adversarial: Mapping, refined: Mapping) -> Dict[str, Any]:
  return {"seed": seed, "criterion": refined.criterion,
          "adversarial_criterion": adversarial.criterion,
          "adversarial": adversarial.precision, "refined": refined.precision,
          "selected": refined.origin, "adversarial_selected": adversarial.origin}


def train_and_evaluate(config, workdir, *, overwrite: bool = False
                       ) -> Dict[str, Any]:
  """Runs one experiment and writes its outputs to ``workdir``.

  Returns:
    The summary dict written to ``summary.json``.
  """
  tic = time.perf_counter()
  task = tasks.load_task(config.data)  # Fails before the workdir is touched.
  workdir = outputs.prepare_workdir(workdir, overwrite=overwrite)
  outputs.write_json(workdir / "config.json", json.loads(config.to_json()))
  metrics_path = workdir / "metrics.jsonl"
  log = functools.partial(outputs.append_jsonl, metrics_path)
  _print(config, task.description)
  if task.test_coverage is not None:
    c = task.test_coverage
    _print(config, f"test dictionary: {c.pairs_found}/{c.pairs_total} pairs, "
           f"{c.source_words_found}/{c.source_words_total} source words in "
           "the vocabularies")

  seeds = [config.seed + i for i in range(config.n_seeds)]
  spaces = device_spaces(task)
  if config.method in SUPERVISED_METHODS:
    # Deterministic: every seed would refine the same start to the same end.
    start = supervised_start(task, spaces, config)
    starts = [start] * len(seeds)
    finals = [refine_mapping(spaces, start, config, log=log)] * len(seeds)
  else:
    starts = adversarial_training(spaces, config, seeds, log=log)
    finals = [refine_mapping(spaces, s, config, log=log,
                             desc=f"refine seed {seed}")
              for seed, s in zip(seeds, starts)]

  head = finals[0]
  outputs.save_array(workdir / "W.npy", head.w)
  induced = induce_dictionary(spaces, head, config)
  pairs, scores = np.asarray(induced.pairs), np.asarray(induced.scores)
  outputs.write_dictionary_tsv(
      workdir / "dictionary.tsv",
      ((task.src.words[s], task.tgt.words[t], float(v))
       for (s, t), v in zip(pairs, scores)))

  summary = {
      "name": config.name,
      "method": config.method,
      "src": config.data.src_lang,
      "tgt": config.data.tgt_lang,
      "synthetic": task.synthetic,
      "data": task.description,
      "seed": seeds[0],
      "wall_seconds": time.perf_counter() - tic,
      "criterion": head.criterion,
      "adversarial": starts[0].precision,
      "refined": head.precision,
      "selected": head.origin,
      "adversarial_selected": starts[0].origin,
      "test_coverage": (task.test_coverage.as_dict()
                        if task.test_coverage is not None else None),
      "train_pairs": (int(len(task.train_pairs))
                      if config.method in SUPERVISED_METHODS else None),
      "device": f"{jax.devices()[0].platform}:{jax.devices()[0].device_kind}",
      "seeds": [_seed_summary(s, a, f) for s, a, f in zip(seeds, starts, finals)],
  }
  outputs.write_json(workdir / "summary.json", summary)
  return summary
