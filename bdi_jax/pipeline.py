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
from typing import Any, Dict, List, Optional

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import evaluate, models, outputs, refine, retrieval, trainer
from bdi_jax import train as train_lib
from bdi_jax.data import tasks
from bdi_jax.progress import ProgressBar

__all__ = ["train_and_evaluate", "Mapping", "score_mapping", "refine_mapping",
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


def _mapped(task: tasks.Task, w) -> jax.Array:
  return retrieval.normalize_rows(
      models.apply_mapping(jnp.asarray(w), jnp.asarray(task.src_vectors)))


def _targets(task: tasks.Task) -> jax.Array:
  return retrieval.normalize_rows(jnp.asarray(task.tgt_vectors))


def score_mapping(task: tasks.Task, w, config, origin: str) -> Mapping:
  """Criterion and test precision of ``w``, sharing one CSLS context."""
  mapped, tgt = _mapped(task, w), _targets(task)
  batch = config.eval.batch_size or None
  ctx = retrieval.csls_context(mapped, tgt, k=config.eval.csls_k,
                               batch_size=batch)
  criterion = evaluate.mean_cosine_criterion(
      mapped, tgt, ctx, n_words=config.eval.criterion_words, batch_size=batch)
  precision = None
  if task.test_pairs is not None:
    precision = evaluate.evaluate_translation(
        mapped, tgt, task.test_pairs, ctx, methods=tuple(config.eval.methods),
        ks=tuple(config.eval.ks), batch_size=batch)
  return Mapping(np.asarray(w), float(criterion), precision, origin, ctx)


def induce_dictionary(task: tasks.Task, mapping: Mapping,
                      config) -> refine.InducedDictionary:
  """CSLS dictionary of a scored mapping (reuses its r-vectors)."""
  return refine.build_dictionary(
      _mapped(task, mapping.w), _targets(task), mapping.ctx,
      method=config.refine.method, mode=config.refine.mode,
      max_rank=config.refine.max_rank,
      batch_size=config.eval.batch_size or None)


def refine_mapping(task: tasks.Task, start: Mapping, config, *,
                   log=None, desc="refine") -> Mapping:
  """``config.refine.n_rounds`` rounds of dictionary induction + Procrustes.

  Returns the best of ``start`` and every round by the unsupervised criterion.
  """
  best, current = start, start
  src = jnp.asarray(task.src_vectors)
  tgt = jnp.asarray(task.tgt_vectors)
  with ProgressBar(config.refine.n_rounds, desc,
                   enabled=config.progress) as bar:
    for r in range(1, config.refine.n_rounds + 1):
      pairs = np.asarray(induce_dictionary(task, current, config).pairs)
      w = refine.procrustes(src[pairs[:, 0]], tgt[pairs[:, 1]])
      current = score_mapping(task, w, config, f"refinement round {r}")
      if log:
        log({"phase": "refinement", "round": r, "dictionary_size": len(pairs),
             "criterion": current.criterion, "precision": current.precision})
      if current.criterion > best.criterion:
        best = current
      bar.update(1, criterion=current.criterion, pairs=len(pairs))
  return best


def adversarial_training(task: tasks.Task, config, seeds: List[int], *,
                         log=None) -> List[Mapping]:
  """Trains one mapping per seed; returns each seed's best by the criterion."""
  t = config.train
  dim = task.src_vectors.shape[1]
  n_src = task.src_vectors.shape[0]
  init_fn, chunk_fn, chunk_steps = trainer.build_trainer(config, dim, n_src)
  state, run_keys = trainer.init_seeds(init_fn, seeds)
  data = train_lib.EmbeddingData(jnp.asarray(task.src_vectors),
                                 jnp.asarray(task.tgt_vectors))

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
      scored = score_mapping(task, ws[i], config, f"adversarial epoch {epoch}")
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


def supervised_start(task: tasks.Task, config) -> Mapping:
  if task.train_pairs is None:
    raise ValueError(f"method {config.method!r} needs config.data.train_dict")
  src = jnp.asarray(task.src_vectors)[task.train_pairs[:, 0]]
  tgt = jnp.asarray(task.tgt_vectors)[task.train_pairs[:, 1]]
  return score_mapping(task, refine.procrustes(src, tgt), config,
                       "supervised Procrustes")


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
  if config.method in SUPERVISED_METHODS:
    starts = [supervised_start(task, config)] * len(seeds)
  else:
    starts = adversarial_training(task, config, seeds, log=log)
  finals = [refine_mapping(task, s, config, log=log, desc=f"refine seed {seed}")
            for seed, s in zip(seeds, starts)]

  head = finals[0]
  outputs.save_array(workdir / "W.npy", head.w)
  induced = induce_dictionary(task, head, config)
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
