r"""Retrieval and refinement timings, run in a fresh process per size.

Peak memory is a per-process figure, so each size runs alone in its own
interpreter (started by :mod:`benchmarks.isolated`) and reports its own
``VmHWM``. Invoked as::

  python -m benchmarks.retrieval_worker retrieval --vocab 200000 --dim 300
  python -m benchmarks.retrieval_worker refine --vocab 200000 --dim 300

and prints one JSON line prefixed with :data:`RESULT_PREFIX` on stdout.

Warm-up, so that compilation stays out of the timings: the CSLS context is
the expensive part (minutes at 200k words), so it is warmed with one chunk of
queries only, which compiles the same kernel because the chunked functions of
:mod:`bdi_jax.retrieval` are compiled per chunk shape ``(chunk, n_keys, dim,
k)``; the few small eager ops around it (padding, concatenation) still compile
inside the timed region, a fraction of a second. Everything else (criterion,
evaluation, dictionary, Procrustes) is cheap enough to warm by running it once
in full with an all-zero context.
"""

import argparse
import json
import os
import sys
import time
from typing import Any, Dict

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import environment
from benchmarks import generated
from benchmarks import matmuls
from bdi_jax import induction, metrics, models, refine, retrieval

__all__ = ["RESULT_PREFIX", "measure_retrieval", "measure_refine", "main"]

RESULT_PREFIX = "BENCHMARK_RESULT "


def _memory_budget_mb() -> float:
  raw = os.environ.get(retrieval.MEMORY_ENV_VAR)
  return float(raw) if raw else float(retrieval.DEFAULT_MEMORY_MB)


def _chunk_rows(n_queries: int, n_keys: int, dim: int) -> int:
  # What retrieval picks when the caller passes batch_size=None.
  return min(retrieval.auto_batch_size(n_keys, dim), max(n_queries, 1))


def _warm_context(mapped, tgt, k):
  """Compiles ``csls_context``'s fused pass at the cost of about one block.

  The block shape depends on how the rows split, so the full run may still
  compile once more (seconds, against minutes of work at 200k words).
  """
  rows = _chunk_rows(mapped.shape[0], tgt.shape[0], tgt.shape[1])
  jax.block_until_ready(retrieval.csls_context(mapped[:max(rows, k)], tgt, k=k))


def _zero_context(n_src: int, n_tgt: int, k: int) -> retrieval.CSLSContext:
  return retrieval.CSLSContext(jnp.zeros((n_src,), jnp.float32),
                               jnp.zeros((n_tgt,), jnp.float32), k)


def measure_retrieval(vocab: int, dim: int, *, queries: int = 1500,
                      k: int = 10, criterion_words: int = 10000,
                      seed: int = 0) -> Dict[str, Any]:
  """Times the CSLS context + criterion, then a CSLS evaluation.

  After the context, its matrix products are timed alone (same blocks and
  tiles, :func:`benchmarks.matmuls.measure_context_matmuls`) for
  ``context_efficiency`` = matmul-only seconds / context seconds.

  Args:
    vocab: words on each side.
    dim: embedding dimension.
    queries: evaluation queries (capped at ``vocab``), as in a MUSE test set.
    k: CSLS neighbourhood and evaluation top-k (10 in MUSE for both).
    criterion_words: most frequent source words in the unsupervised criterion.
    seed: seed of the generated embeddings and of the query sample.

  Returns:
    Timings in seconds and the chunk sizes used; JSON-ready.
  """
  pair = generated.embedding_pair(vocab, dim, seed=seed, with_src=False)
  mapped, tgt = jnp.asarray(pair.mapped), jnp.asarray(pair.tgt)
  del pair  # jnp.asarray may have copied: keep one copy alive, not two.
  jax.block_until_ready((mapped, tgt))
  data_rss = environment.rss_mb()
  n_words = min(criterion_words, vocab)
  n_queries = min(queries, vocab)
  query_ids = np.sort(np.random.default_rng(seed + 1).choice(
      vocab, n_queries, replace=False))

  def evaluation(ctx):
    ids = jnp.asarray(query_ids)
    nb = retrieval.csls_knn(mapped[ids], tgt, ctx.r_src[ids], ctx.r_tgt, k)
    return jax.block_until_ready(nb)

  tic = time.perf_counter()
  _warm_context(mapped, tgt, k)
  zero_ctx = _zero_context(vocab, vocab, k)
  metrics.mean_cosine_criterion(mapped, tgt, zero_ctx, n_words=n_words)
  evaluation(zero_ctx)
  warmup_s = time.perf_counter() - tic

  # (a) What every epoch pays: both r-vectors, then the criterion.
  tic = time.perf_counter()
  ctx = retrieval.csls_context(mapped, tgt, k=k)
  jax.block_until_ready(ctx)
  context_s = time.perf_counter() - tic
  tic = time.perf_counter()
  criterion = metrics.mean_cosine_criterion(mapped, tgt, ctx, n_words=n_words)
  criterion_s = time.perf_counter() - tic  # A float: already synchronised.

  # The context's matrix products alone, same blocks: its efficiency.
  matmul = matmuls.measure_context_matmuls(mapped, tgt)

  # (b) A test-set evaluation reusing the context.
  tic = time.perf_counter()
  nb = evaluation(ctx)
  eval_s = time.perf_counter() - tic
  # Sanity: the generated pair aligns row i with row i.
  p_at_1 = float(np.mean(np.asarray(nb.indices[:, 0]) == query_ids))

  return {
      "vocab": vocab,
      "dim": dim,
      "queries": n_queries,
      "k": k,
      "criterion_words": n_words,
      "seconds": context_s + criterion_s + eval_s,
      "context_seconds": context_s,
      "criterion_seconds": criterion_s,
      "context_criterion_seconds": context_s + criterion_s,
      "eval_seconds": eval_s,
      "warmup_seconds": warmup_s,
      **matmul,
      "context_gflops": matmul["context_flops"] / context_s / 1e9,
      "context_efficiency": matmul["context_matmul_seconds"] / context_s,
      "chunk_rows": _chunk_rows(vocab, vocab, dim),
      "chunk_rows_criterion": _chunk_rows(n_words, vocab, dim),
      "chunk_rows_eval": _chunk_rows(n_queries, vocab, dim),
      "memory_budget_mb": _memory_budget_mb(),
      "data_rss_mb": data_rss,
      "criterion": criterion,
      "p_at_1": p_at_1,
  }


def measure_refine(vocab: int, dim: int, *, max_rank: int = 15000,
                   k: int = 10, seed: int = 0) -> Dict[str, Any]:
  """Times one refinement round: CSLS context, dictionary, Procrustes.

  The work of one ``refine.refine_mappings`` round, scoring aside: map and
  normalise the source, compute the CSLS context (the pipeline computes it
  when it scores a mapping and reuses it for the dictionary), induce an
  S2T&T2S dictionary over the ``max_rank`` most frequent words, and solve
  Procrustes on it.

  Args:
    vocab: words on each side.
    dim: embedding dimension.
    max_rank: candidate words per side for the dictionary.
    k: CSLS neighbourhood.
    seed: seed of the generated embeddings.

  Returns:
    Timings in seconds, the dictionary size and chunk sizes; JSON-ready.
  """
  pair = generated.embedding_pair(vocab, dim, seed=seed)
  src, tgt, w = (jnp.asarray(a) for a in (pair.src, pair.tgt, pair.w))
  del pair
  jax.block_until_ready((src, tgt, w))
  data_rss = environment.rss_mb()
  n_rank = vocab if max_rank <= 0 else min(max_rank, vocab)

  def induce(mapped, ctx):
    return induction.build_dictionary(mapped, tgt, ctx, method="csls",
                                   mode="S2T&T2S", max_rank=max_rank)

  def solve(induced):
    pairs = jnp.asarray(induced.pairs)
    return jax.block_until_ready(
        refine.procrustes(src[pairs[:, 0]], tgt[pairs[:, 1]]))

  tic = time.perf_counter()
  mapped = jax.block_until_ready(
      retrieval.normalize_rows(models.apply_mapping(w, src)))
  _warm_context(mapped, tgt, k)
  solve(induce(mapped, _zero_context(vocab, vocab, k)))
  del mapped
  warmup_s = time.perf_counter() - tic

  # One round's work, mapping included.
  tic = time.perf_counter()
  mapped = retrieval.normalize_rows(models.apply_mapping(w, src))
  ctx = retrieval.csls_context(mapped, tgt, k=k)
  jax.block_until_ready(ctx)
  context_s = time.perf_counter() - tic
  tic = time.perf_counter()
  induced = induce(mapped, ctx)
  dictionary_s = time.perf_counter() - tic  # NumPy output: synchronised.
  tic = time.perf_counter()
  new_w = solve(induced)
  procrustes_s = time.perf_counter() - tic

  eye = np.eye(dim, dtype=np.float32)
  new_w = np.asarray(new_w)
  return {
      "vocab": vocab,
      "dim": dim,
      "max_rank": n_rank,
      "k": k,
      "seconds": context_s + dictionary_s + procrustes_s,
      "context_seconds": context_s,
      "dictionary_seconds": dictionary_s,
      "procrustes_seconds": procrustes_s,
      "warmup_seconds": warmup_s,
      "dictionary_size": int(len(induced.pairs)),
      # Sanity: pairs on the diagonal are correct for the generated data.
      "dictionary_precision": float(np.mean(
          induced.pairs[:, 0] == induced.pairs[:, 1])),
      "orthogonality_error": float(np.abs(new_w @ new_w.T - eye).max()),
      "chunk_rows": _chunk_rows(vocab, vocab, dim),
      "chunk_rows_dictionary": _chunk_rows(n_rank, n_rank, dim),
      "memory_budget_mb": _memory_budget_mb(),
      "data_rss_mb": data_rss,
  }


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("task", choices=("retrieval", "refine"))
  parser.add_argument("--vocab", type=int, required=True)
  parser.add_argument("--dim", type=int, default=300)
  parser.add_argument("--queries", type=int, default=1500)
  parser.add_argument("--criterion-words", type=int, default=10000)
  parser.add_argument("--max-rank", type=int, default=15000)
  parser.add_argument("--k", type=int, default=10)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  if args.task == "retrieval":
    result = measure_retrieval(args.vocab, args.dim, queries=args.queries,
                               k=args.k, criterion_words=args.criterion_words,
                               seed=args.seed)
  else:
    result = measure_refine(args.vocab, args.dim, max_rank=args.max_rank,
                            k=args.k, seed=args.seed)
  result["platform"] = jax.devices()[0].platform
  # Read last, so it covers everything measured (see benchmarks/isolated.py
  # for why the child reports its own peak).
  result["peak_rss_mb"], result["peak_rss_source"] = environment.peak_rss()
  sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
  sys.stdout.flush()


if __name__ == "__main__":
  main()
