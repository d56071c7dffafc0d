"""The whole experiment: adversarial training -> model selection -> refinement.

``train_and_evaluate(config, workdir)`` is the host-side driver (the pure parts
live in train.py, refine.py, retrieval.py, evaluate.py, schedule.py). It:

1. checks the config, loads the task and checks the config against it, all
   before anything is written;
2. trains ``config.n_seeds`` mappings at once (vmapped over the seed, sharded
   over local devices) in fused ``lax.scan`` chunks; a seed whose losses or
   mapping turn non-finite is rolled back to its state before the chunk with
   halved learning rates, and marked failed after ``train.max_rollbacks``;
3. after each epoch scores every mapping (unsupervised criterion and, given a
   test dictionary, P@k), keeps each seed's best by the criterion, applies the
   learning-rate policy and saves a checkpoint (also on Ctrl-C / SIGTERM);
   methods in :data:`bdi_jax.starts.STARTS` compute their start instead;
4. refines each seed's best mapping (CSLS dictionary + Procrustes) and selects
   the seed with the best refined criterion;
5. writes config.json, metrics.jsonl, train.log, summary.json, report.md,
   W.npy (the selected seed), W-seed<N>.npy (every seed), dictionary.tsv, in
   a staging folder that replaces the workdir only once everything is written
   (see :mod:`bdi_jax.outputs`).
"""

import contextlib
import dataclasses
import json
import signal
import threading
import time
from typing import Any, Dict, List, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import batched
from bdi_jax import checkpoint as ckpt_lib
from bdi_jax import console as console_lib
from bdi_jax import detector, errors, evaluate, models, outputs, provenance
from bdi_jax import refine
from bdi_jax import report, retrieval, schedule, starts, trainer, validate
from bdi_jax import train as train_lib
from bdi_jax.data import tasks
from bdi_jax.data.dictionaries import pairs_to_gold

__all__ = ["train_and_evaluate", "Mapping", "Spaces", "device_spaces",
           "score_mapping", "score_mappings", "refine_mapping",
           "refine_mappings", "induce_dictionary",
           "precision_by_band",
           "adversarial_training", "select_seed", "START_METHODS"]

# Methods that start from a computed mapping (bdi_jax/starts.py: supervised
# Procrustes, Gromov-Wasserstein) instead of adversarial training.
START_METHODS = tuple(starts.STARTS)


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
  # Unsupervised signals of the refinement that produced it (see detector.py).
  signals: Dict[str, float] = dataclasses.field(default_factory=dict)


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


def mapped_source(spaces: Spaces, w) -> jax.Array:
  return retrieval.normalize_rows(
      models.apply_mapping(jnp.asarray(w), spaces.src))


def _test_queries(spaces: Spaces):
  """``(source ids [q], gold)`` of the test dictionary, or ``(None, None)``."""
  if spaces.test_pairs is None:
    return None, None
  src_ids, gold = pairs_to_gold(spaces.test_pairs)
  return jnp.asarray(src_ids), gold


def _mapping_from(scores: batched.Scores, w, gold, config, origin: str,
                  signals=None) -> Mapping:
  """A host-side Mapping from one seed's (device_get) scores."""
  precision = None
  if gold is not None:
    precision = {m: evaluate.precision_at_k(top, gold, tuple(config.eval.ks))
                 for m, top in zip(config.eval.methods, scores.top)}
  ctx = retrieval.CSLSContext(jnp.asarray(scores.r_src),
                              jnp.asarray(scores.r_tgt), config.eval.csls_k)
  return Mapping(np.asarray(w), float(scores.criterion), precision, origin,
                 ctx, dict(signals or {}))


def score_mappings(spaces: Spaces, ws, config, origin: str) -> List[Mapping]:
  """Criterion and test precision of each ``ws[i]``, all in one compiled
  call (bdi_jax/batched.py), each sharing one CSLS context."""
  ws = np.asarray(ws, np.float32)
  if len(ws) == 0:
    return []
  queries, gold = _test_queries(spaces)
  scores = jax.device_get(batched.score_batch(
      jnp.asarray(ws), spaces.src, spaces.tgt_unit, queries,
      batched.settings_from_config(config)))
  return [_mapping_from(jax.tree.map(lambda x, i=i: x[i], scores), w, gold,
                        config, origin) for i, w in enumerate(ws)]


def score_mapping(spaces: Spaces, w, config, origin: str) -> Mapping:
  """:func:`score_mappings` of one mapping."""
  return score_mappings(spaces, np.asarray(w)[None], config, origin)[0]


def precision_by_band(spaces: Spaces, mapping: Mapping, config):
  """P@k by frequency band of the source word (thesis §5.4.10: frequent vs
  rare words), or None without a test dictionary. Computed for final
  mappings only: per-epoch scoring does not need it."""
  if spaces.test_pairs is None:
    return None
  return evaluate.evaluate_translation_by_band(
      mapped_source(spaces, mapping.w), spaces.tgt_unit, spaces.test_pairs,
      mapping.ctx, methods=tuple(config.eval.methods),
      ks=tuple(config.eval.ks), batch_size=config.eval.batch_size or None)


def induce_dictionary(spaces: Spaces, mapping: Mapping,
                      config) -> refine.InducedDictionary:
  """CSLS dictionary of a scored mapping (reuses its r-vectors)."""
  return refine.build_dictionary(
      mapped_source(spaces, mapping.w), spaces.tgt_unit, mapping.ctx,
      method=config.refine.method, mode=config.refine.mode,
      max_rank=config.refine.max_rank,
      batch_size=config.eval.batch_size or None)


def _p1(precision, method: str = "csls") -> Optional[float]:
  if not precision or method not in precision:
    return None
  return precision[method].get("p@1")


def refine_mappings(spaces: Spaces, begins: List[Mapping], config, *,
                    log=None, console=None, seeds=None) -> List[Mapping]:
  """``config.refine.n_rounds`` rounds of dictionary induction + Procrustes
  for every start mapping, all seeds and rounds in one compiled call
  (bdi_jax/batched.py).

  Returns, per start, the best of the start and every round by the
  unsupervised criterion, with the last round's dictionary signals
  (bdi_jax/detector.py).
  """
  console = console or console_lib.Console(bars=False, enabled=False)
  if not begins:
    return []
  seeds = list(range(len(begins))) if seeds is None else list(seeds)
  queries, gold = _test_queries(spaces)
  # How many words could pair up at most: the dictionary's mutual-NN size over
  # this is the detector's main signal.
  n_max = min(spaces.src.shape[0], spaces.tgt.shape[0],
              config.refine.max_rank or spaces.src.shape[0])
  desc = (f"refine {len(begins)} seeds" if len(begins) > 1
          else f"refine seed {seeds[0]}")
  with console.bar(1, desc) as bar:
    rounds = jax.device_get(batched.refine_batch(
        jnp.asarray(np.stack([b.w for b in begins]).astype(np.float32)),
        jnp.stack([b.ctx.r_src for b in begins]),
        jnp.stack([b.ctx.r_tgt for b in begins]),
        spaces.src, spaces.tgt, spaces.tgt_unit, queries,
        batched.settings_from_config(config)))
    bar.update(1)
  out = []
  for i, (seed, start) in enumerate(zip(seeds, begins)):
    best, signals = start, {}
    for r in range(config.refine.n_rounds):
      size = int(rounds.dictionary_size[i, r])
      if size == 0:
        raise ValueError(
            f"refinement round {r + 1} of seed {seed} induced no dictionary "
            f"pairs (refine.method={config.refine.method!r}, "
            f"mode={config.refine.mode!r}); the mapping is probably "
            "degenerate")
      signals = {"mutual_fraction": size / max(1, n_max),
                 "dictionary_overlap": (None if r == 0 else
                                        float(rounds.dictionary_overlap[i, r]))}
      current = _mapping_from(
          jax.tree.map(lambda x, i=i, r=r: x[i, r], rounds.scores),
          rounds.w[i, r], gold, config, f"refinement round {r + 1}")
      if log:
        log({"phase": "refinement", "seed": seed, "round": r + 1,
             "dictionary_size": size, **signals,
             "criterion": current.criterion, "precision": current.precision})
      if current.criterion > best.criterion:
        best = current
    console.log(f"refined seed {seed}: criterion {best.criterion:.4f} "
                f"({best.origin})")
    out.append(dataclasses.replace(best, signals=signals))
  return out


def refine_mapping(spaces: Spaces, start: Mapping, config, *,
                   log=None, console=None, seed=None) -> Mapping:
  """:func:`refine_mappings` of one start mapping."""
  return refine_mappings(spaces, [start], config, log=log, console=console,
                         seeds=None if seed is None else [seed])[0]


# ---------------------------------------------------------------------------
# Interrupts: Ctrl-C / SIGTERM only set a flag; the loop checks it between
# chunks, where the state is consistent, saves a checkpoint and stops.
# ---------------------------------------------------------------------------
class _StopFlag:
  requested = False


@contextlib.contextmanager
def _stop_on_signals():
  flag = _StopFlag()
  if threading.current_thread() is not threading.main_thread():
    yield flag
    return

  def handler(signum, frame):
    del frame
    if flag.requested:  # A second Ctrl-C: stop now, whatever the state.
      signal.signal(signum, signal.SIG_DFL)
      raise KeyboardInterrupt
    flag.requested = True

  old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
  try:
    yield flag
  finally:
    for s, h in old.items():
      signal.signal(s, h)


# ---------------------------------------------------------------------------
# Adversarial training.
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class _Book:
  """Host-side per-seed bookkeeping of the adversarial phase (checkpointed)."""
  map_lr: np.ndarray  # [seeds]
  dis_lr: np.ndarray
  drops: np.ndarray  # Epochs that ended below the best criterion.
  rollbacks: np.ndarray  # Non-finite chunks rolled back.
  failed: List[Optional[str]]  # Reason, or None while the seed is alive.
  takeoff_step: List[Optional[int]]
  # Early stop (schedule.stop_reason): each seed's criterion per epoch, the
  # epoch it took off in, and why it stopped (None while it trains).
  history: List[List[float]] = dataclasses.field(default_factory=list)
  # The criterion at each epoch end only (what the learning-rate policy sees).
  epoch_criteria: List[List[float]] = dataclasses.field(default_factory=list)
  takeoff_epoch: List[Optional[int]] = dataclasses.field(default_factory=list)
  stopped: List[Optional[str]] = dataclasses.field(default_factory=list)
  epoch: int = 0  # Next epoch to run (0-based).
  chunk: int = 0  # Next chunk of that epoch.
  sums: Dict[str, List[float]] = dataclasses.field(default_factory=dict)
  counts: Optional[List[int]] = None  # Finite chunks summed, per seed.
  timed_samples: float = 0.0  # Samples in chunks that did not compile.
  timed_seconds: float = 0.0

  def rate(self) -> float:
    """Samples/s over the chunks that did not compile (NaN before any)."""
    return (self.timed_samples / self.timed_seconds
            if self.timed_seconds > 0 else float("nan"))

  def alive(self) -> np.ndarray:
    """Seeds still training: neither failed nor stopped."""
    return np.asarray([f is None and s is None
                       for f, s in zip(self.failed, self.stopped)])


def _run_chunk(chunk_fn, state, run_keys, data, alive: np.ndarray):
  """One chunk for the live seeds only; stopped and failed seeds cost nothing.

  When some seeds are no longer alive, the chunk runs on the live seeds'
  slice of the state (one compilation per number of live seeds) and the
  result is written back; the others keep their state, with zero metrics.
  Returns ``(state, metrics)`` with metrics on the host, ``[n_seeds]`` each.
  """
  if alive.all():
    state, metrics = chunk_fn(state, run_keys, data)
    return state, jax.device_get(metrics)  # Host sync once per chunk.
  live = jnp.asarray(np.flatnonzero(alive))
  sub, sub_metrics = chunk_fn(jax.tree.map(lambda x: x[live], state),
                              run_keys[live], data)
  state = jax.tree.map(lambda full, part: full.at[live].set(part), state, sub)
  sub_metrics = jax.device_get(sub_metrics)
  metrics = {}
  for k, v in sub_metrics.items():
    v = np.asarray(v)
    full = np.ones(alive.shape, v.dtype) if k == "finite" else np.zeros(
        alive.shape, v.dtype)
    full[np.flatnonzero(alive)] = v
    metrics[k] = full
  return state, metrics


def _with_learning_rates(state, book: _Book):
  return state.replace(
      map_opt_state=train_lib.set_learning_rate(
          state.map_opt_state, book.map_lr.astype(np.float32)),
      dis_opt_state=train_lib.set_learning_rate(
          state.dis_opt_state, book.dis_lr.astype(np.float32)))


def _take_seeds(mask: np.ndarray, new, old):
  """Per seed: ``old`` where ``mask`` (roll back), else ``new``."""
  m = jnp.asarray(mask)

  def pick(n, o):
    return jnp.where(m.reshape((-1,) + (1,) * (n.ndim - 1)), o, n)

  return jax.tree.map(pick, new, old)


def _save_checkpoint(run, state, book: _Book, best: List[Optional[Mapping]],
                     seeds: List[int]) -> None:
  if run is None or not run.enabled:
    return
  arrays = ckpt_lib.tree_to_arrays("state", state)
  arrays.update(map_lr=book.map_lr, dis_lr=book.dis_lr, drops=book.drops,
                rollbacks=book.rollbacks)
  for i, b in enumerate(best):
    if b is not None:
      arrays[f"best_w/{i}"] = b.w
  meta = {
      "seeds": seeds, "epoch": book.epoch, "chunk": book.chunk,
      "failed": book.failed, "takeoff_step": book.takeoff_step,
      "history": book.history, "takeoff_epoch": book.takeoff_epoch,
      "epoch_criteria": book.epoch_criteria,
      "stopped": book.stopped,
      "sums": book.sums, "counts": book.counts,
      "timed_samples": book.timed_samples,
      "timed_seconds": book.timed_seconds,
      "best_origin": [b.origin if b else None for b in best],
      # Append-only files are cut back to these sizes on resume, so that a
      # resumed run's logs hold each chunk and epoch exactly once.
      "sizes": {f: run.size(f) for f in ("metrics.jsonl", "train.log")},
  }
  ckpt_lib.save(run.checkpoint, arrays, meta)


def _load_checkpoint(run, state, spaces, config, seeds):
  arrays, meta = ckpt_lib.load(run.checkpoint)
  if meta["seeds"] != list(seeds):
    raise errors.WorkdirError(
        f"{run.checkpoint} was saved for seeds {meta['seeds']}, not {seeds}; "
        "pass --overwrite to start over")
  state = ckpt_lib.arrays_to_tree("state", arrays, state)
  book = _Book(
      map_lr=arrays["map_lr"], dis_lr=arrays["dis_lr"],
      drops=arrays["drops"], rollbacks=arrays["rollbacks"],
      failed=meta["failed"], takeoff_step=meta["takeoff_step"],
      history=meta["history"], takeoff_epoch=meta["takeoff_epoch"],
      epoch_criteria=meta["epoch_criteria"],
      stopped=meta["stopped"],
      epoch=meta["epoch"], chunk=meta["chunk"],
      sums={k: list(v) for k, v in meta["sums"].items()},
      counts=meta["counts"], timed_samples=meta["timed_samples"],
      timed_seconds=meta["timed_seconds"])
  # The best mappings are re-scored (deterministic) rather than stored with
  # their CSLS context, which is large.
  best = [score_mapping(spaces, arrays[f"best_w/{i}"], config, origin)
          if origin is not None else None
          for i, origin in enumerate(meta["best_origin"])]
  for name, size in meta["sizes"].items():
    run.truncate(name, size)
  return state, book, best


def adversarial_training(spaces: Spaces, config, seeds: List[int], *,
                         run: Optional[outputs.RunDir] = None,
                         console: Optional[console_lib.Console] = None,
                         task: Optional[tasks.Task] = None,
                         base_criterion: Optional[float] = None,
                         checkpoints: bool = True):
  """Trains one mapping per seed.

  Returns:
    ``(best, book)``: each seed's best mapping by the criterion (None for a
    seed that failed before its first scored epoch) and the per-seed
    bookkeeping (failures, rollbacks, take-off steps). Per-chunk and
    per-epoch lines go to ``run``'s metrics.jsonl. A seed has taken off once
    its criterion exceeds ``base_criterion`` (the identity mapping's; computed
    when None) by ``eval.takeoff_margin``. ``checkpoints=False`` (the
    restarted seeds of ``config.restarts``) saves no checkpoint: a resumed
    run resumes from the first phase's and trains the restart again.
  """
  t = config.train
  console = console or console_lib.Console(bars=False, enabled=False)
  log = ((lambda r: run.append_jsonl("metrics.jsonl", r)) if run is not None
         else (lambda r: None))
  n, dim = len(seeds), spaces.src.shape[1]
  init_fn, chunk_fn, chunk_steps = trainer.build_trainer(config, dim)
  # An epoch is exactly epoch_size samples: full chunks, then a shorter one.
  iters = t.epoch_size // t.batch_size
  plan = [chunk_steps] * (iters // chunk_steps)
  if iters % chunk_steps:
    plan.append(iters % chunk_steps)
  chunk_fns = {chunk_steps: chunk_fn}
  for steps in set(plan) - {chunk_steps}:
    chunk_fns[steps] = trainer.build_chunk(config, dim, steps)
  compiled = set()  # Chunk sizes already run once (the first call compiles).

  state, run_keys = trainer.init_seeds(init_fn, seeds)
  resuming = run is not None and run.resumed and checkpoints
  if t.init_start and task is not None and not resuming:
    # Start every seed's mapping from a computed one (e.g. GW) instead of I.
    start = starts.get_start(t.init_start)
    if start.deterministic:  # The same for every seed: compute it once.
      w0 = np.stack([start.fn(task, spaces, config, seeds[0])] * n)
    else:
      w0 = np.stack([start.fn(task, spaces, config, s) for s in seeds])
    w0 = w0.astype(np.float32)
    state = state.replace(mapping=jnp.asarray(w0))
  data = train_lib.EmbeddingData(spaces.src, spaces.tgt)
  scales = np.asarray(tuple(t.map_lr_scales) or (1.0,) * n, np.float64)
  book = _Book(map_lr=t.map_lr * scales, dis_lr=t.dis_lr * scales,
               drops=np.zeros(n, np.int64), rollbacks=np.zeros(n, np.int64),
               failed=[None] * n, takeoff_step=[None] * n,
               history=[[] for _ in seeds], takeoff_epoch=[None] * n,
               epoch_criteria=[[] for _ in seeds],
               stopped=[None] * n)
  best: List[Optional[Mapping]] = [None] * n
  if resuming:
    state, book, best = _load_checkpoint(run, state, spaces, config, seeds)
    sharding = trainer.seed_sharding(n)
    if sharding is not None:
      state = jax.device_put(state, sharding)
    console.log(f"resuming from {run.checkpoint} at epoch {book.epoch + 1}, "
                f"chunk {book.chunk + 1}/{len(plan)}")
  state = _with_learning_rates(state, book)
  if base_criterion is None:
    base_criterion = _identity(spaces, config).criterion

  if not checkpoints:
    run_for_checkpoints = None
  else:
    run_for_checkpoints = run

  with _stop_on_signals() as stop:
    while book.epoch < t.n_epochs and book.alive().any():
      epoch = book.epoch
      if book.chunk == 0:
        book.sums, book.counts = {}, [0] * n
      done = sum(plan[:book.chunk])
      with console.bar(iters, f"epoch {epoch + 1}/{t.n_epochs}") as bar:
        bar.update(done)
        while book.chunk < len(plan):
          steps = plan[book.chunk]
          previous = state
          tic = time.perf_counter()
          state, metrics = _run_chunk(chunk_fns[steps], previous, run_keys,
                                      data, book.alive())
          seconds = time.perf_counter() - tic
          finite = np.asarray(metrics.pop("finite"), bool)
          state, bad = _handle_divergence(state, previous, finite, book,
                                          seeds, console, log,
                                          t.max_rollbacks)
          _accumulate(book, metrics, ~bad & book.alive())
          if steps in compiled:
            book.timed_samples += steps * 2 * t.batch_size * n
            book.timed_seconds += seconds
          compiled.add(steps)
          step_now = np.asarray(jax.device_get(state.step))
          alive = book.alive()
          for i, seed in enumerate(seeds):
            if alive[i]:
              log({"phase": "chunk", "epoch": epoch + 1, "seed": seed,
                   "step": int(step_now[i]),
                   **{k: float(np.asarray(v)[i]) for k, v in metrics.items()}})
          book.chunk += 1
          bar.update(steps, _chunk_caption(metrics, book))
          if (t.check_every and book.chunk < len(plan)
              and book.chunk % t.check_every == 0 and book.alive().any()):
            alive = book.alive()
            _check(spaces, config, state, book, best, seeds, base_criterion,
                   log, epoch_end=False)
            _apply_stop_rule(config, book, seeds, console, log, alive,
                             book.epoch)
            if not book.alive().any():
              break
          if stop.requested and book.chunk < len(plan):
            _save_checkpoint(run_for_checkpoints, state, book, best, seeds)
            raise _interrupted(run)
      best = _end_epoch(spaces, config, state, book, best, seeds,
                        base_criterion, console, log)
      book.epoch, book.chunk = epoch + 1, 0
      state = _with_learning_rates(state, book)
      _save_checkpoint(run_for_checkpoints, state, book, best, seeds)
      if stop.requested and book.epoch < t.n_epochs:
        raise _interrupted(run)
  for i, reason in enumerate(book.failed):
    if reason and best[i] is not None:
      best[i].origin += f" (then failed: {reason})"
  return best, book


def _identity(spaces: Spaces, config) -> Mapping:
  """The identity mapping, scored: what an unrelated map scores (the take-off
  level and the failure detector's reference)."""
  return score_mapping(spaces, models.init_mapping(spaces.src.shape[1]),
                       config, "identity mapping")


def _interrupted(run) -> errors.Interrupted:
  where = run.checkpoint if run is not None and run.enabled else "nothing"
  return errors.Interrupted(
      f"interrupted: the training state was saved to {where}; rerun the same "
      f"command to resume: {provenance.command_line()}")


def _handle_divergence(state, previous, finite, book: _Book, seeds, console,
                       log, max_rollbacks: int):
  """Rolls seeds with a non-finite chunk back, halving their learning rates."""
  bad = ~finite
  if not bad.any():
    return state, bad
  for i in np.flatnonzero(bad):
    if book.failed[i] is not None:
      continue
    book.rollbacks[i] += 1
    if book.rollbacks[i] > max_rollbacks:
      book.failed[i] = (f"non-finite loss or mapping {book.rollbacks[i]} times "
                        f"(learning rates halved {max_rollbacks} times); "
                        "stopped")
      # A failed seed stays at its last finite state and learns no more.
      book.map_lr[i] = book.dis_lr[i] = 0.0
      message = f"seed {seeds[i]} failed: {book.failed[i]}"
    else:
      book.map_lr[i] *= 0.5
      book.dis_lr[i] *= 0.5
      message = (f"seed {seeds[i]}: non-finite loss or mapping; rolled back "
                 f"to the state before this chunk, learning rates halved to "
                 f"{book.map_lr[i]:.3g} (mapping) / {book.dis_lr[i]:.3g} "
                 f"(critic), rollback {book.rollbacks[i]}/{max_rollbacks}")
    console.log(message)
    log({"phase": "divergence", "seed": seeds[i], "message": message})
  state = _take_seeds(bad | ~book.alive(), state, previous)
  return _with_learning_rates(state, book), bad


def _accumulate(book: _Book, metrics, ok: np.ndarray) -> None:
  for k, v in metrics.items():
    v = np.where(ok, np.asarray(v, np.float64), 0.0)
    old = book.sums.get(k, [0.0] * len(ok))
    book.sums[k] = [float(a + b) for a, b in zip(old, v)]
  book.counts = [c + int(o) for c, o in zip(book.counts, ok)]


def _chunk_caption(metrics, book: _Book) -> str:
  keys = [k for k in ("dis_loss", "w_estimate", "gen_loss") if k in metrics]
  parts = [f"{k} {float(np.mean(metrics[k])):.4g}" for k in keys[:2]]
  if book.timed_seconds > 0:
    parts.append(f"{book.rate():,.0f} samples/s")
  return " ".join(parts)


def _check(spaces, config, state, book: _Book, best, seeds, base_criterion,
           log, *, epoch_end: bool):
  """Scores every live seed's mapping, keeps its best, notes its take-off.

  Runs at each epoch end and, with ``train.check_every``, every that many
  chunks within an epoch (cheap on small vocabularies; what lets a seed stop
  soon after it has taken off). Returns the criteria ``[seeds]`` (NaN for
  seeds not scored) and their CSLS P@1 texts.
  """
  epoch = book.epoch
  ws = np.asarray(jax.device_get(state.mapping))
  steps = np.asarray(jax.device_get(state.step))
  n = len(seeds)
  criteria = np.full(n, np.nan)
  p1s = []
  alive = book.alive()
  live = np.flatnonzero(alive)
  where = f"adversarial epoch {epoch + 1}"
  if not epoch_end:
    where += f" step {int(steps[live[0]]) if len(live) else 0}"
  scored_live = score_mappings(spaces, ws[live], config, where)
  scored_by_seed = dict(zip(live.tolist(), scored_live))
  for i, seed in enumerate(seeds):
    if not alive[i]:
      p1s.append("-")
      continue
    scored = scored_by_seed[i]
    criteria[i] = scored.criterion
    if best[i] is None or scored.criterion > best[i].criterion:
      best[i] = scored
    book.history[i].append(scored.criterion)
    if (book.takeoff_step[i] is None and
        scored.criterion > base_criterion + config.eval.takeoff_margin):
      book.takeoff_step[i] = int(steps[i])
      book.takeoff_epoch[i] = len(book.history[i]) - 1
    p1 = _p1(scored.precision)
    p1s.append("-" if p1 is None else f"{p1:.3f}")
    if not epoch_end:
      log({"phase": "check", "epoch": epoch + 1, "seed": seed,
           "step": int(steps[i]), "criterion": scored.criterion,
           "precision": scored.precision})
    else:
      count = max(1, book.counts[i])
      rate = book.rate()
      log({"phase": "adversarial", "epoch": epoch + 1, "seed": seed,
           "step": int(steps[i]), "criterion": scored.criterion,
           "precision": scored.precision, "map_lr": float(book.map_lr[i]),
           **{k: v[i] / count for k, v in book.sums.items()},
           "samples_per_s": rate})
  return criteria, p1s


def _apply_stop_rule(config, book: _Book, seeds, console, log,
                     alive: np.ndarray, epochs_done: int) -> None:
  rule = schedule.StopRule.from_config(config.train)
  for i in np.flatnonzero(alive):
    reason = schedule.stop_reason(rule, book.history[i], book.takeoff_epoch[i],
                                  epochs_done=epochs_done)
    if reason:
      # A stopped seed learns no more: its rates go to 0 and its state is
      # held at the last chunk's (see _handle_divergence).
      book.stopped[i] = reason
      book.map_lr[i] = book.dis_lr[i] = 0.0
      console.log(f"seed {seeds[i]} stopped in epoch {book.epoch + 1}: "
                  f"{reason}")
      log({"phase": "stop", "seed": seeds[i], "epoch": book.epoch + 1,
           "message": reason})


def _end_epoch(spaces, config, state, book: _Book, best, seeds,
               base_criterion, console, log):
  """Scores every live seed, keeps its best, applies the learning-rate policy
  and the stopping rule."""
  t = config.train
  epoch = book.epoch
  alive = book.alive()
  # The learning-rate policy compares epoch ends only (mid-epoch checks must
  # not change when the rate shrinks).
  best_before = np.asarray([max(h) if h else np.nan
                            for h in book.epoch_criteria])
  criteria, p1s = _check(spaces, config, state, book, best, seeds,
                         base_criterion, log, epoch_end=True)
  for i in np.flatnonzero(alive):
    book.epoch_criteria[i].append(float(criteria[i]))
  texts = [f"{c:.4f}" if alive[i] else
           ("failed" if book.failed[i] else "stopped")
           for i, c in enumerate(criteria)]
  rate = book.rate()
  policy = schedule.LRPolicy.from_config(t)
  new_lr, new_drops = schedule.next_learning_rate(
      policy, book.map_lr, book.drops, np.nan_to_num(criteria, nan=-np.inf),
      best_before)
  book.map_lr = np.where(alive, new_lr, book.map_lr)
  book.drops = np.where(alive, new_drops, book.drops)
  _apply_stop_rule(config, book, seeds, console, log, alive, epoch + 1)
  line = f"epoch {epoch + 1}/{t.n_epochs}: criterion {' '.join(texts)}"
  if spaces.test_pairs is not None:
    line += f" | CSLS P@1 {' '.join(p1s)}"
  # The first chunk of each size compiles; it is left out of the rate.
  line += (f" | {rate:,.0f} samples/s" if np.isfinite(rate)
           else " | samples/s after the first compiled chunk")
  console.log(line)
  return best


# ---------------------------------------------------------------------------
# The whole run.
# ---------------------------------------------------------------------------
def select_seed(finals: List[Optional[Mapping]]) -> int:
  """Index of the seed with the best refined criterion (the unsupervised
  model selection of Conneau et al., across seeds as across epochs)."""
  candidates = [(m.criterion, -i) for i, m in enumerate(finals)
                if m is not None and np.isfinite(m.criterion)]
  if not candidates:
    raise errors.TrainingFailed(
        "every seed failed (non-finite losses or mapping); lower "
        "config.train.map_lr / dis_lr, see train.log")
  return -max(candidates)[1]


def _start_phase(task, spaces, config, seeds, console) -> List[Mapping]:
  start = starts.get_start(config.method)
  if start.deterministic:  # Every seed would compute the same start.
    w = start.fn(task, spaces, config, seeds[0])
    mapping = score_mapping(spaces, w, config, start.description)
    return [mapping] * len(seeds)
  out = []
  for seed in seeds:
    w = start.fn(task, spaces, config, seed)
    out.append(score_mapping(spaces, w, config, start.description))
    console.log(f"{start.description} seed {seed}: criterion "
                f"{out[-1].criterion:.4f}")
  return out


def _predicted(final: Optional[Mapping], identity: Mapping, config) -> bool:
  return final is not None and detector.predict_success(
      final.criterion, identity.criterion,
      min_gain=config.eval.detector_criterion_gain)


def _seed_row(seed, adversarial: Optional[Mapping], refined: Optional[Mapping],
              book: Optional[_Book], i: int, config, spaces: Spaces,
              identity: Mapping) -> Dict[str, Any]:
  signals = refined.signals if refined else {}
  criterion = refined.criterion if refined else None
  return {
      "seed": seed,
      "criterion": refined.criterion if refined else None,
      "adversarial_criterion": adversarial.criterion if adversarial else None,
      "adversarial": adversarial.precision if adversarial else None,
      "refined": refined.precision if refined else None,
      "refined_by_band": (precision_by_band(spaces, refined, config)
                          if refined else None),
      "selected": refined.origin if refined else None,
      "adversarial_selected": adversarial.origin if adversarial else None,
      "failed": book.failed[i] if book else None,
      "rollbacks": int(book.rollbacks[i]) if book else 0,
      "takeoff_step": book.takeoff_step[i] if book else None,
      "stopped": book.stopped[i] if book else None,
      # Epochs that ended with the seed alive, and criterion checks in all.
      "epochs": len(book.epoch_criteria[i]) if book else None,
      "checks": len(book.history[i]) if book else None,
      "mutual_fraction": signals.get("mutual_fraction"),
      "dictionary_overlap": signals.get("dictionary_overlap"),
      "criterion_gain": (None if criterion is None
                         else criterion - identity.criterion),
      "predicted_success": detector.predict_success(
          criterion, identity.criterion,
          min_gain=config.eval.detector_criterion_gain),
  }


def train_and_evaluate(config, workdir, *, overwrite: bool = False
                       ) -> Dict[str, Any]:
  """Runs one experiment and writes its outputs to ``workdir``.

  Running it again on the same workdir after an interruption (Ctrl-C,
  SIGTERM, a kill) resumes from the last checkpoint and gives the same
  results as an uninterrupted run.

  Returns:
    The summary dict written to ``summary.json``.

  Raises:
    BdiError subclasses for every user mistake (config, data, workdir), all
    before anything is written; ``errors.Interrupted`` after a Ctrl-C.
  """
  tic = time.perf_counter()
  provenance.code_version()  # Now, before the tree can change under the run.
  validate.check_config(config)
  start = starts.STARTS.get(config.method)
  task = tasks.load_task(
      config.data, needs_train_dict=bool(start and start.needs_train_dict))
  validate.check_against_task(config, len(task.src.words), len(task.tgt.words))
  run = outputs.open_run(workdir, json.loads(config.to_json()),
                         overwrite=overwrite, enabled=jax.process_index() == 0)
  console = console_lib.Console(
      bars=config.progress, enabled=run.enabled,
      log_path=run.path("train.log") if run.enabled else None)
  log = lambda r: run.append_jsonl("metrics.jsonl", r)  # pylint: disable=unnecessary-lambda-assignment
  console.log(task.description)
  if task.test_coverage is not None:
    c = task.test_coverage
    console.log(f"test dictionary: {c.pairs_found}/{c.pairs_total} pairs, "
                f"{c.source_words_found}/{c.source_words_total} source words "
                "in the vocabularies")

  seeds = [config.seed + i for i in range(config.n_seeds)]
  spaces = device_spaces(task)
  identity = _identity(spaces, config)
  book = None
  if config.method in START_METHODS:
    begins = _start_phase(task, spaces, config, seeds, console)
  else:
    begins, book = adversarial_training(
        spaces, config, seeds, run=run, console=console, task=task,
        base_criterion=identity.criterion)
  # Every seed's start refined in one call; a deterministic start (the same
  # Mapping object for every seed) is refined once.
  unique = list({id(b): b for b in begins if b is not None}.values())
  first_seed = {id(b): s for s, b in reversed(list(zip(seeds, begins)))
                if b is not None}
  refined = dict(zip(
      (id(b) for b in unique),
      refine_mappings(spaces, unique, config, log=log, console=console,
                      seeds=[first_seed[id(b)] for b in unique])))
  finals: List[Optional[Mapping]] = [
      None if b is None else refined[id(b)] for b in begins]
  # Where each seed's bookkeeping is: (book, index in it).
  books = [(book, i) for i in range(len(seeds))]
  if config.get("restarts") and config.method not in START_METHODS and not any(
      _predicted(f, identity, config) for f in finals):
    more = [seeds[-1] + 1 + i for i in range(config.restarts)]
    console.log(f"every seed is predicted to have failed (refined criterion "
                f"less than {config.eval.detector_criterion_gain:g} above the "
                f"identity's); restarts: training seeds {more}")
    log({"phase": "restart", "seeds": more})
    again = config.copy_and_resolve_references()
    with again.unlocked():
      again.n_seeds = len(more)
      again.train.map_lr_scales = ()
    begins_more, book_more = adversarial_training(
        spaces, again, more, run=run, console=console, task=task,
        base_criterion=identity.criterion, checkpoints=False)
    alive = [b for b in begins_more if b is not None]
    refined_more = iter(refine_mappings(
        spaces, alive, config, log=log, console=console,
        seeds=[s for s, b in zip(more, begins_more) if b is not None]))
    finals += [None if b is None else next(refined_more)
               for b in begins_more]
    begins += begins_more
    books += [(book_more, i) for i in range(len(more))]
    seeds = seeds + more
  chosen = select_seed(finals)
  head, head_start = finals[chosen], begins[chosen]

  for seed, f in zip(seeds, finals):
    if f is not None:
      run.save_array(f"W-seed{seed}.npy", f.w)
  run.save_array("W.npy", head.w)
  induced = induce_dictionary(spaces, head, config)
  pairs, scores = np.asarray(induced.pairs), np.asarray(induced.scores)
  if run.enabled:
    outputs.write_dictionary_tsv(
        run.path("dictionary.tsv"),
        ((task.src.words[s], task.tgt.words[t], float(v))
         for (s, t), v in zip(pairs, scores)))

  summary = {
      "name": config.name,
      "method": config.method,
      "src": config.data.src_lang,
      "tgt": config.data.tgt_lang,
      "synthetic": task.synthetic,
      "data": task.description,
      "seed": seeds[chosen],
      "selected_seed": seeds[chosen],
      "wall_seconds": time.perf_counter() - tic,
      "criterion": head.criterion,
      "adversarial": head_start.precision,
      "refined": head.precision,
      "adversarial_by_band": precision_by_band(spaces, head_start, config),
      "refined_by_band": precision_by_band(spaces, head, config),
      "selected": head.origin,
      "adversarial_selected": head_start.origin,
      "test_coverage": (task.test_coverage.as_dict()
                        if task.test_coverage is not None else None),
      "train_pairs": (int(len(task.train_pairs))
                      if task.train_pairs is not None
                      and config.method in START_METHODS else None),
      "dictionary_size": int(len(pairs)),
      "resumed": run.resumed,
      **provenance.describe(),
      "identity_criterion": identity.criterion,
      "restarted_seeds": seeds[config.n_seeds:],
      "seeds": [_seed_row(s, b, f, bk, i, config, spaces, identity)
                for s, b, f, (bk, i) in zip(seeds, begins, finals, books)],
  }
  run.write_json("summary.json", summary)
  run.write_text("report.md", report.markdown_report(
      summary, _epoch_lines(run)))
  console.log(f"selected seed {seeds[chosen]} (criterion "
              f"{head.criterion:.4f}, {head.origin})")
  run.finish()
  return summary


def _epoch_lines(run) -> List[Dict[str, Any]]:
  path = run.path("metrics.jsonl")
  if not run.enabled or not path.exists():
    return []
  lines = [json.loads(l) for l in path.read_text().splitlines() if l]
  return [l for l in lines if l.get("phase") in ("adversarial", "refinement")]
