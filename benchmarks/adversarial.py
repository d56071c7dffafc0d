"""Throughput of the adversarial phase, measured on the real training code.

The step is built exactly as ``adversarial.adversarial_training`` gets it
(``multi_seed.build_trainer`` from a registry config: vmapped over seeds, a
``lax.scan`` chunk, donated state), and fed generated embeddings of the
requested shape, so the figure is what a real run would see minus the epoch-end
evaluation.

Sample definition (as MUSE reports it): one iteration consumes ``batch`` source
and ``batch`` target rows, so ``samples = 2 * batch`` per iteration per seed.
The ``dis_steps`` critic updates inside an iteration are *not* multiplied in.
"""

import time
import warnings
from typing import Any, Dict

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import matmuls
from bdi_jax import multi_seed
from bdi_jax import step as step_lib
from experiments.configs import registry

__all__ = ["benchmark_config", "measure_throughput"]

# CPU cannot donate buffers; JAX warns on every compile. Harmless here.
warnings.filterwarnings("ignore",
                        message="Some donated buffers were not usable")


def benchmark_config(config_name: str, *, batch: int, n_seeds: int,
                     hidden: int, dis_steps: int, chunk_steps: int):
  """A registry config with the benchmark's overrides applied."""
  config = registry.get_config(config_name)
  config.train.batch_size = batch
  config.train.dis_steps = dis_steps
  config.train.chunk_steps = chunk_steps
  # All rows of the generated vocabulary are sampled, as with UBiLexAT data.
  config.train.dis_most_frequent = 0
  config.model.hidden = hidden
  config.model.n_layers = 2
  config.n_seeds = n_seeds
  config.progress = False
  return config


def _generated_data(vocab: int, dim: int, seed: int) -> step_lib.EmbeddingData:
  # The step's cost does not depend on the values, only on the shapes; a
  # normal matrix is enough.
  rng = np.random.default_rng(seed)
  src = rng.standard_normal((vocab, dim), dtype=np.float32)
  tgt = rng.standard_normal((vocab, dim), dtype=np.float32)
  return step_lib.EmbeddingData(jnp.asarray(src), jnp.asarray(tgt))


def measure_throughput(*, batch: int, n_seeds: int = 1, dim: int = 300,
                       vocab: int = 20000, hidden: int = 2048,
                       dis_steps: int = 5, chunk_steps: int = 50,
                       min_chunks: int = 3, min_seconds: float = 10.0,
                       max_chunks: int = 100,
                       config_name: str = "gan_es_en") -> Dict[str, Any]:
  """Times fused chunks of adversarial iterations after a warm-up chunk.

  Chunks are timed one by one (each ends with ``jax.block_until_ready``, as
  the real loop syncs once per chunk to log), until at least ``min_chunks``
  chunks and ``min_seconds`` seconds are done.

  Args:
    batch: rows per batch (each side).
    n_seeds: seeds trained at once (vmapped), as ``config.n_seeds``.
    dim: embedding dimension.
    vocab: rows of each generated embedding matrix.
    hidden: discriminator width (2 hidden layers).
    dis_steps: critic updates per mapping update.
    chunk_steps: iterations fused in one compiled call.
    min_chunks: timed chunks at least.
    min_seconds: timed seconds at least (bounded by ``max_chunks``).
    max_chunks: timed chunks at most.
    config_name: registry config the step is built from.

  Returns:
    A JSON-ready dict; ``samples_per_s`` and ``iterations_per_s`` use the
    median chunk time (robust to a stray slow chunk on a shared machine).
  """
  config = benchmark_config(config_name, batch=batch, n_seeds=n_seeds,
                            hidden=hidden, dis_steps=dis_steps,
                            chunk_steps=chunk_steps)
  data = _generated_data(vocab, dim, seed=0)
  trainer = multi_seed.build_trainer(config, dim)
  init_fn, steps = trainer.init_fn, trainer.chunk_steps
  chunk_fn = trainer.chunk_fn(steps)
  init_keys, run_keys = multi_seed.seed_keys(list(range(n_seeds)))
  state = init_fn(init_keys)
  jax.block_until_ready(state)

  # The first call compiles; it also runs one chunk, which is not timed.
  tic = time.perf_counter()
  state, metrics = chunk_fn(state, run_keys, data)
  jax.block_until_ready((state, metrics))
  warmup_s = time.perf_counter() - tic

  # The chunk donates its state: each call takes the previous call's output.
  carry = {"state": state}

  def call():
    carry["state"], carry["metrics"] = chunk_fn(carry["state"], run_keys, data)
    return carry["state"], carry["metrics"]

  chunk_seconds = matmuls.time_calls(call, min_calls=min_chunks,
                                     min_seconds=min_seconds,
                                     max_calls=max_chunks)
  metrics = carry["metrics"]

  # A benchmark of a diverged run would time NaN arithmetic; say so.
  finite = bool(all(np.all(np.isfinite(np.asarray(v)))
                    for v in jax.device_get(metrics).values()))
  median = float(np.median(chunk_seconds))
  iterations_per_s = steps / median
  samples_per_s = iterations_per_s * 2 * batch * n_seeds
  flops_per_iteration = matmuls.adversarial_flops(
      batch=batch, dim=dim, hidden=hidden, n_layers=config.model.n_layers,
      dis_steps=dis_steps)
  return {
      "batch": batch,
      "seeds": n_seeds,
      "samples_per_s": samples_per_s,
      "samples_per_s_per_seed": samples_per_s / n_seeds,
      "iterations_per_s": iterations_per_s,
      "samples_per_s_mean": steps * len(chunk_seconds) * 2 * batch * n_seeds
                            / sum(chunk_seconds),
      "chunk_steps": steps,
      "timed_chunks": len(chunk_seconds),
      "chunk_seconds": chunk_seconds,
      "warmup_seconds": warmup_s,
      "dim": dim,
      "vocab": vocab,
      "hidden": hidden,
      "n_layers": config.model.n_layers,
      "dis_steps": dis_steps,
      # Analytic dense-product FLOPs of one seed's iteration (matmuls.py).
      "flops_per_iteration": flops_per_iteration,
      "step_gflops": flops_per_iteration * iterations_per_s * n_seeds / 1e9,
      "config": config_name,
      "method": config.method,
      "finite_metrics": finite,
  }
