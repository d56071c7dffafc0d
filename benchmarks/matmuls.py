"""The matrix products of the benchmarked code: counted, and timed alone.

An efficiency figure needs two things, kept here in one place:

* the analytic count of the dense products, ``2 * m * n * k`` FLOPs for an
  ``[m, k] @ [k, n]`` product (bias adds, activations, losses, optimiser
  updates and top-k are not counted);
* a jitted function that does *only* those products, on random arrays of the
  same shapes, so that ``step rate / matmul-only rate`` says how close the
  real code comes to the arithmetic the machine does on the same products.

Adversarial iteration (``train.train_step`` with a critic of ``n_layers``
hidden layers of width ``hidden`` and a 1-logit output, batch ``b``, dim
``d``); products as JAX's autodiff emits them:

* each of ``dis_steps`` critic updates: the fake batch ``x @ W.T``; the
  critic's forward pass over the ``2b`` real + fake rows; its backward pass
  to the parameters: per layer the weight gradient ``h_in.T @ g`` and, except
  for the first layer (its input is a constant to the critic's loss), the
  input gradient ``g @ W_l.T``;
* the mapping update: ``x @ W.T``; the forward pass over ``b`` rows; the
  backward pass to the input only (the critic is a constant there): ``g @
  W_l.T`` for every layer; the mapping's gradient ``g.T @ x``; and the
  orthogonalisation ``(W @ W.T) @ W``.

The gradient penalty of ``wgangp`` / ``ctgan`` (a double backward pass) is not
counted: for those objectives the count, and the step GFLOP/s derived from
it, are lower bounds.

CSLS context (``retrieval.csls_context``): one ``[batch, d] @ [d, tile]``
product per source block and target tile, padding included, with the block
shapes of ``retrieval._fused_r_terms``.
"""

import time
from typing import Callable, Dict, List, NamedTuple, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import retrieval

__all__ = ["Product", "adversarial_products", "adversarial_flops",
           "adversarial_matmul_iteration", "adversarial_update_iteration",
           "measure_adversarial_matmuls",
           "ContextBlocks", "context_blocks", "padded_blocks", "context_matmuls",
           "measure_context_matmuls", "flops", "time_calls"]


class Product(NamedTuple):
  """One dense product ``[m, k] @ [k, n]``: ``2 * m * n * k`` FLOPs."""
  m: int
  n: int
  k: int
  name: str


def flops(products: Sequence[Product]) -> int:
  """``sum(2 * m * n * k)``: multiply-adds count as two FLOPs."""
  return int(sum(2 * p.m * p.n * p.k for p in products))


def _layer_widths(dim: int, hidden: int, n_layers: int) -> List[Tuple[int, int]]:
  # (fan_in, fan_out) of every Dense layer, output logit included.
  widths = [dim] + [hidden] * n_layers + [1]
  return list(zip(widths[:-1], widths[1:]))


def adversarial_products(*, batch: int, dim: int, hidden: int, n_layers: int,
                         dis_steps: int) -> List[Product]:
  """Every dense product of one adversarial iteration (see the module doc)."""
  layers = _layer_widths(dim, hidden, n_layers)
  b2 = 2 * batch  # Real + fake rows go through the critic in one pass.
  out: List[Product] = []
  for step in range(dis_steps):
    tag = f"critic{step}"
    out.append(Product(batch, dim, dim, f"{tag}/fake x@W.T"))
    out += [Product(b2, c, a, f"{tag}/forward {i}")
            for i, (a, c) in enumerate(layers)]
    for i, (a, c) in reversed(list(enumerate(layers))):
      out.append(Product(a, c, b2, f"{tag}/grad weight {i}"))
      if i > 0:
        out.append(Product(b2, a, c, f"{tag}/grad input {i}"))
  out.append(Product(batch, dim, dim, "map/fake x@W.T"))
  out += [Product(batch, c, a, f"map/forward {i}")
          for i, (a, c) in enumerate(layers)]
  out += [Product(batch, a, c, f"map/grad input {i}")
          for i, (a, c) in reversed(list(enumerate(layers)))]
  out.append(Product(dim, dim, batch, "map/grad W g.T@x"))
  out.append(Product(dim, dim, dim, "map/orthogonalise W@W.T"))
  out.append(Product(dim, dim, dim, "map/orthogonalise (WW.T)@W"))
  return out


def adversarial_flops(*, batch: int, dim: int, hidden: int, n_layers: int,
                      dis_steps: int) -> int:
  """FLOPs of the dense products of one adversarial iteration, one seed."""
  return flops(adversarial_products(batch=batch, dim=dim, hidden=hidden,
                                    n_layers=n_layers, dis_steps=dis_steps))


def _adversarial_arrays(batch: int, dim: int, hidden: int, n_layers: int,
                        dis_steps: int, seed: int = 0) -> Dict[str, object]:
  rng = np.random.default_rng(seed)

  def normal(*shape, scale=1.0):
    return jnp.asarray(scale * rng.standard_normal(shape, dtype=np.float32))

  # Scaled so that activations stay O(1) through the linear chain below.
  weights = [normal(a, c, scale=1.0 / np.sqrt(a))
             for a, c in _layer_widths(dim, hidden, n_layers)]
  return {
      "src": normal(dis_steps, batch, dim),
      "tgt": normal(dis_steps, batch, dim),
      "map_src": normal(batch, dim),
      "w": jnp.eye(dim, dtype=jnp.float32) + normal(dim, dim, scale=0.01),
      "weights": weights,
  }


def adversarial_matmul_iteration(s: jax.Array, arrays) -> jax.Array:
  """The products of one iteration, and nothing else worth counting.

  The critic is a chain of plain products (no bias, activation or loss); the
  output gradient is the logit itself. The carried scalar ``s`` is added to
  the batches and to every product that feeds another one: so every product
  depends on the loop's carry (XLA can neither hoist one out of the loop nor
  share one between iterations) and no two products are adjacent (XLA would
  otherwise re-associate ``(a @ b) @ c`` into a cheaper, loop-invariant
  ``b @ c``, as it does for a chain ending in the 1-logit layer). Every result
  ends in a sum that feeds the next ``s``, so none is dead code.

  Args:
    s: ``[]`` carried scalar.
    arrays: from ``_adversarial_arrays``: ``src, tgt [dis_steps, b, d]``,
      ``map_src [b, d]``, ``w [d, d]``, ``weights`` (the critic's layers).

  Returns:
    The next ``s``.
  """
  return _iteration(s, arrays["weights"], arrays, update=False)[0]


def adversarial_update_iteration(carry, arrays):
  """The same products, plus the parameter-sized work a real critic step does.

  Each critic step's weight gradients ``h.T @ g`` now update the carried
  critic weights by SGD (``w - lr * g``: read the weight and its gradient,
  write the weight) and enter a squared-norm sum (the step's
  ``critic_grad_norm``), and the next critic step's products use the updated
  weights. The products are exactly those of
  :func:`adversarial_matmul_iteration`; what this adds is element-wise work
  over every critic parameter, ``dis_steps`` times an iteration, which does
  not shrink with the batch. ``step rate / this rate`` is what remains of the
  step's cost once the products and the parameter updates are paid.

  Args:
    carry: ``(s [], weights)``.
    arrays: as for :func:`adversarial_matmul_iteration`.

  Returns:
    The next ``(s, weights)``.
  """
  s, weights = carry
  return _iteration(s, weights, arrays, update=True)


def _iteration(s, weights, arrays, *, update: bool):
  w = arrays["w"]
  sums = []
  for step in range(arrays["src"].shape[0]):  # Unrolled: cost_analysis counts it.
    fake = (arrays["src"][step] + s) @ w.T + s
    h = [jnp.concatenate([arrays["tgt"][step] + s, fake], axis=0)]
    for wl in weights:
      h.append(h[-1] @ wl + s)
    g = h[-1]  # d loss / d logit, standing in for the loss's gradient.
    grads = [None] * len(weights)
    for i in reversed(range(len(weights))):
      grads[i] = h[i].T @ g
      sums.append(jnp.sum(grads[i]))
      if i > 0:
        g = g @ weights[i].T + s
    if update:
      sums.append(sum(jnp.sum(gl * gl) for gl in grads))
      weights = [wl - 1e-6 * gl for wl, gl in zip(weights, grads)]
  x = arrays["map_src"] + s
  h = x @ w.T + s
  for wl in weights:
    h = h @ wl + s
  g = h
  for wl in reversed(weights):
    g = g @ wl.T + s
  grad_w = g.T @ x
  w_new = w - 1e-3 * grad_w  # An SGD step, so the next product is not hoisted.
  w_orth = (w_new @ w_new.T + s) @ w_new
  sums.append(jnp.sum(w_orth))
  # Bounded: s stays small and finite.
  return 1e-3 * jnp.tanh(sum(sums)), weights


def time_calls(call: Callable[[], object], *, min_calls: int,
               min_seconds: float, max_calls: int = 100) -> List[float]:
  """Seconds of successive ``call()``s, each ended by ``block_until_ready``.

  At least ``min_calls`` and ``min_seconds`` in all, at most ``max_calls``.
  """
  seconds: List[float] = []
  while len(seconds) < max_calls and (
      len(seconds) < min_calls or sum(seconds) < min_seconds):
    tic = time.perf_counter()
    jax.block_until_ready(call())
    seconds.append(time.perf_counter() - tic)
  return seconds


def measure_adversarial_matmuls(*, batch: int, dim: int, hidden: int,
                                n_layers: int, dis_steps: int,
                                chunk_steps: int, min_chunks: int = 3,
                                min_seconds: float = 10.0,
                                max_chunks: int = 100,
                                with_updates: bool = False) -> Dict[str, object]:
  """Times a ``lax.scan`` of ``chunk_steps`` matmul-only iterations.

  Timed like the real chunk (warm-up call, then chunk by chunk, median).
  With ``with_updates`` the iterations are
  :func:`adversarial_update_iteration` (products + the critic's parameter
  updates) and the keys start with ``matmul_update_`` instead of
  ``matmul_only_``.

  Returns:
    ``matmul_only_chunk_seconds``, ``matmul_only_warmup_seconds``,
    ``matmul_only_iterations_per_s`` and ``matmul_only_gflops`` (analytic
    FLOPs / median chunk time).
  """
  arrays = _adversarial_arrays(batch, dim, hidden, n_layers, dis_steps)
  weights = arrays["weights"]
  if with_updates:
    body = adversarial_update_iteration
    carry0 = (jnp.zeros((), jnp.float32), weights)
  else:
    body = adversarial_matmul_iteration
    carry0 = jnp.zeros((), jnp.float32)

  @jax.jit
  def chunk(carry, arrays):
    return jax.lax.scan(lambda c, _: (body(c, arrays), None), carry, None,
                        length=chunk_steps)[0]

  tic = time.perf_counter()
  carry = jax.block_until_ready(chunk(carry0, arrays))
  warmup_s = time.perf_counter() - tic
  state = {"carry": carry}

  def call():
    state["carry"] = chunk(state["carry"], arrays)
    return state["carry"]

  seconds = time_calls(call, min_calls=min_chunks, min_seconds=min_seconds,
                       max_calls=max_chunks)
  median = float(np.median(seconds))
  per_iteration = adversarial_flops(batch=batch, dim=dim, hidden=hidden,
                                    n_layers=n_layers, dis_steps=dis_steps)
  s = state["carry"][0] if with_updates else state["carry"]
  prefix = "matmul_update" if with_updates else "matmul_only"
  return {
      f"{prefix}_chunk_seconds": seconds,
      f"{prefix}_warmup_seconds": warmup_s,
      f"{prefix}_iterations_per_s": chunk_steps / median,
      f"{prefix}_gflops": per_iteration * chunk_steps / median / 1e9,
      f"{prefix}_finite": bool(np.isfinite(float(s))),
  }


class ContextBlocks(NamedTuple):
  """How ``retrieval._fused_r_terms`` splits the ``[n_src, n_tgt]`` pass.

  Attributes:
    n_blocks: source blocks (one compiled call each).
    batch: rows per source block.
    n_tiles: target tiles per block (a ``lax.scan``).
    tile: target rows per tile.
  """
  n_blocks: int
  batch: int
  n_tiles: int
  tile: int

  def products(self, dim: int) -> List[Product]:
    return [Product(self.batch, self.tile, dim, "context block x tile")
            ] * (self.n_blocks * self.n_tiles)


def context_blocks(n_src: int, n_tgt: int, dim: int,
                   batch_size=None) -> ContextBlocks:
  """The block shapes ``retrieval.csls_context`` uses (float32 inputs).

  Mirrors ``retrieval._fused_r_terms``; tests/test_benchmarks.py checks it
  against the shapes that function really passes to ``_csls_pair_block``.
  """
  batch = retrieval._resolve_batch(  # pylint: disable=protected-access
      batch_size, n_src, n_tgt, dim, 4)
  n_tiles = -(-n_tgt // retrieval._TGT_TILE)  # pylint: disable=protected-access
  tile = -(-n_tgt // n_tiles)
  tile += -tile % 8
  n_blocks = -(-n_src // batch)
  return ContextBlocks(n_blocks, -(-n_src // n_blocks), n_tiles, tile)


@jax.jit
def _matmul_block(src_blk, tgt_tiles):
  # The sum of each [batch, tile] block: the cheapest use of every entry.
  def tile(acc, tgt_tile):
    sims = jax.lax.dot_general(src_blk, tgt_tile, (((1,), (1,)), ((), ())))
    return acc + jnp.sum(sims), None
  return jax.lax.scan(tile, jnp.zeros((), src_blk.dtype), tgt_tiles)[0]


def padded_blocks(mapped_src: jax.Array, tgt: jax.Array,
                  blocks: ContextBlocks) -> Tuple[jax.Array, jax.Array]:
  """``(src [n_blocks * batch, d], tgt_tiles [n_tiles, tile, d])``, zero-padded
  to the context's block and tile shapes."""
  d = mapped_src.shape[1]
  tgt_tiles = jnp.pad(
      tgt, [(0, blocks.n_tiles * blocks.tile - tgt.shape[0]), (0, 0)]
  ).reshape(blocks.n_tiles, blocks.tile, d)
  src = jnp.pad(mapped_src, [(0, blocks.n_blocks * blocks.batch
                                  - mapped_src.shape[0]), (0, 0)])
  return src, tgt_tiles


def context_matmuls(mapped_src: jax.Array, tgt: jax.Array,
                    blocks: ContextBlocks) -> jax.Array:
  """The context's products alone: same padding, blocks, tiles and calls."""
  src, tgt_tiles = padded_blocks(mapped_src, tgt, blocks)
  total = []
  for i in range(blocks.n_blocks):
    total.append(_matmul_block(
        jax.lax.dynamic_slice_in_dim(src, i * blocks.batch, blocks.batch),
        tgt_tiles))
  return jnp.stack(total).sum()


def measure_context_matmuls(mapped_src: jax.Array, tgt: jax.Array,
                            batch_size=None) -> Dict[str, object]:
  """Warms (one block) and times one full matmul-only pass of the context.

  Returns:
    ``context_matmul_seconds``, ``context_matmul_gflops``, ``context_flops``
    and the block shapes.
  """
  n_src, d = mapped_src.shape
  blocks = context_blocks(n_src, tgt.shape[0], d, batch_size)
  one = blocks._replace(n_blocks=1)
  jax.block_until_ready(context_matmuls(mapped_src[:blocks.batch], tgt, one))
  tic = time.perf_counter()
  jax.block_until_ready(context_matmuls(mapped_src, tgt, blocks))
  seconds = time.perf_counter() - tic
  n_flops = flops(blocks.products(d))
  return {
      "context_matmul_seconds": seconds,
      "context_flops": n_flops,
      "context_matmul_gflops": n_flops / seconds / 1e9,
      "context_blocks": blocks._asdict(),
  }
