"""``--dry_run``: what a run would do, need and cost, without training.

It prints the schedule, each data file the config names (present, or missing
with the command that fetches it), the memory of the adversarial phase
(bdi_jax.run_plan.estimate, from the training state's shapes: nothing is
allocated) and a time estimate: the run's floating-point work counted from
its shapes, divided by this host's matrix-multiply rate measured on the spot
at the run's own shapes (the critic's small batches run far below the rate
of large products), for the full schedule (no early stop). Only multiplies
are counted (no data reading, compilation, retrieval's top-k or host work),
and a busy host measures a lower rate, so it is a rough figure, meant for
sizing a run on a host that has the vectors (the fastText benchmark
configs, ``*_en_XX``).
"""

import pathlib
import time
from typing import List, Optional, Tuple

from bdi_jax import paths
from bdi_jax.data import catalogue
from bdi_jax.data import vec_text

__all__ = ["vocabulary_shape", "training_flops", "scoring_flops",
           "matmul_rate", "describe"]

# The fastText wiki vectors' width, for sizing a run before they are fetched.
FASTTEXT_DIM = 300
_FILES = ("src_emb", "tgt_emb", "test_dict", "train_dict")


def vocabulary_shape(path: pathlib.Path, max_vocab: int,
                     synthetic_dim: int = 0) -> Tuple[int, int, str]:
  """``(rows, dim, how it is known)`` of a vectors file, capped at max_vocab.

  A present file's ``N D`` header line gives both (fastText text and
  word2vec binary files start with one); a missing file is taken as
  ``max_vocab`` rows of 300, the fastText wiki vectors' shape.
  """
  cap = max_vocab if max_vocab > 0 else None
  if path.is_file():
    with open(path, "rb") as f:
      header = vec_text.parse_header(f.readline(200))
    if header:
      n, dim = header
      return (min(n, cap) if cap else n), dim, "from the file's header"
  return (cap or 200000), FASTTEXT_DIM, (
      f"assumed: {FASTTEXT_DIM}-d, data.max_vocab rows")


def _critic_macs(dim: int, hidden: int, n_layers: int) -> int:
  """Multiply-adds of one critic forward pass for one row."""
  if n_layers == 0:
    return dim
  return dim * hidden + (n_layers - 1) * hidden * hidden + hidden


# Critic passes per critic update, forward + backward counted as 3 forwards:
# the loss's scores (both sides); the penalty's gradient and its gradient
# (about 2 more of each side); CT-GAN's two dropout passes on the real side.
_PASSES = {"gan": 3 * 2, "wgan": 3 * 2, "wgangp": 3 * 2 + 6,
           "ctgan": 3 * 2 + 6 + 3 * 2, "sinkhorn": 0}


def training_flops(config, dim: int) -> float:
  """FLOPs of the adversarial phase of every seed (2 per multiply-add)."""
  t, m = config.train, config.model
  if config.method not in _PASSES:
    return 0.0  # A computed start (procrustes, gw): no adversarial phase.
  iters = t.n_epochs * (t.epoch_size // t.batch_size)
  critic = _critic_macs(dim, m.hidden, m.n_layers)
  per_iter = (t.dis_steps * _PASSES[config.method] * t.batch_size * critic
              + 3 * t.batch_size * (critic + dim * dim)  # The mapping step.
              + 2 * dim ** 3)  # Orthogonalisation: W W^T W.
  return 2.0 * per_iter * iters * config.n_seeds


def scoring_flops(config, n_src: int, n_tgt: int, dim: int) -> float:
  """FLOPs of the criterion checks and refinement rounds of every seed."""
  # One check: CSLS's two neighbourhoods (each side against the other) and
  # the criterion words' translations.
  check = n_src * n_tgt * dim * 2 + config.eval.criterion_words * n_tgt * dim
  checks = config.train.n_epochs if config.method in _PASSES else 0
  if config.train.get("check_every", 0):
    chunks = -(-config.train.epoch_size // config.train.batch_size
               // config.train.chunk_steps)
    checks += config.train.n_epochs * chunks // config.train.check_every
  rank = config.refine.max_rank or max(n_src, n_tgt)
  induce = 2 * min(rank, n_src) * min(rank, n_tgt) * dim  # Both directions.
  rounds = config.refine.n_rounds * (induce + check + dim ** 3)
  return 2.0 * (checks * check + rounds + check) * config.n_seeds


def matmul_rate(m: int, k: int, n: int, seconds: float = 0.3) -> float:
  """This host's float32 rate (FLOP/s) for ``[m, k] @ [k, n]`` in JAX,
  measured."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  a, b = jnp.ones((m, k), jnp.float32), jnp.ones((k, n), jnp.float32)
  mul = jax.jit(lambda x, y: x @ y)
  mul(a, b).block_until_ready()  # Compile outside the timing.
  runs, start = 0, time.perf_counter()
  while runs < 3 or time.perf_counter() - start < seconds:
    mul(a, b).block_until_ready()
    runs += 1
  return 2.0 * m * k * n * runs / (time.perf_counter() - start)


def _gib(n: float) -> str:
  return f"{n / 1024 ** 3:.2f} GiB"


def _files(config, root) -> List[str]:
  lines, data = [], config.data
  for field in _FILES:
    value = data[field]
    if not value or value == "identical":
      continue
    path = paths.resolve(value, root)
    if path.exists():
      lines.append(f"  data.{field}: {path} (present)")
      continue
    command = catalogue.download_command(path)
    lines.append(f"  data.{field}: {path} (MISSING; "
                 + (f"fetch it with: {command})" if command else
                    "not downloadable by bdi_jax: pass the right path)"))
  return lines


def describe(config, root: Optional[pathlib.Path] = None,
             rates: Optional[Tuple[float, float]] = None) -> str:
  """The dry run's report: plan, files, memory and time, one fact a line."""
  from bdi_jax import derived  # pylint: disable=g-import-not-at-top
  from bdi_jax import multi_seed  # pylint: disable=g-import-not-at-top
  from bdi_jax import run_plan  # pylint: disable=g-import-not-at-top
  seeds = list(range(config.seed, config.seed + config.n_seeds))
  lines = [f"dry run of {config.name} (method {config.method}; nothing is "
           "trained)"]
  if config.data.kind == "files":
    lines.append("files (data root "
                 f"{paths.data_root() if root is None else root}):")
    lines += _files(config, root)
    n_src, dim, how = vocabulary_shape(paths.resolve(config.data.src_emb, root),
                                       config.data.max_vocab)
    n_tgt, _, how_tgt = vocabulary_shape(
        paths.resolve(config.data.tgt_emb, root), config.data.max_vocab)
    lines.append(f"shapes: {n_src:,} x {n_tgt:,} words, {dim}-d "
                 f"(source {how}; target {how_tgt})")
  else:
    n_src = n_tgt = config.data.synthetic.n_concepts
    dim = config.data.synthetic.dim
    lines.append(f"shapes: generated, about {n_src:,} words a side, {dim}-d")
  config, sizes = derived.derive(config, n_src, n_tgt, dim)
  t = config.train
  lines.insert(1, (
      f"plan: {config.n_seeds} seed(s) {seeds[0]}-{seeds[-1]}, "
      f"{t.n_epochs} epochs x {t.epoch_size // t.batch_size:,} iterations of "
      f"{t.dis_steps} critic updates, batch {t.batch_size}; "
      f"{config.refine.n_rounds} refinement rounds"))
  if sizes:
    lines.insert(2, "derived from the data: " + ", ".join(
        f"{k} = {v:,}" for k, v in sizes.items()))
  if config.method in _PASSES:
    trainer = multi_seed.build_trainer(config, dim)
    est = run_plan.estimate(trainer, n_src, n_tgt, dim, t.batch_size, seeds)
    have, what = run_plan.available_bytes()
    lines.append(f"memory: ~{_gib(est.total)} for the adversarial phase "
                 "(estimated from the state's shapes)"
                 + (f"; {_gib(have)} {what}" if have else ""))
  train = training_flops(config, dim)
  score = scoring_flops(config, n_src, n_tgt, dim)
  # Rates at the run's shapes: a critic layer on one batch, and a block of
  # retrieval (queries x target words).
  hidden = max(config.model.hidden, dim)
  rates = rates or (matmul_rate(2 * t.batch_size, hidden, hidden),
                    matmul_rate(min(n_src, 4096), dim, min(n_tgt, 8192)))
  minutes = (train / rates[0] + score / rates[1]) / 60
  lines.append(
      f"time: ~{minutes:,.1f} min for the full schedule ({train:.2e} FLOPs "
      "of training at "
      f"{rates[0] / 1e9:,.1f} GFLOP/s, {score:.2e} of scoring and "
      f"refinement at {rates[1] / 1e9:,.1f} GFLOP/s, both measured now at "
      "the run's shapes; multiplies only, rough)")
  return "\n".join(lines)
