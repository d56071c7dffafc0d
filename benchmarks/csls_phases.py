"""Where the CSLS context's time goes: its phases timed one by one.

``retrieval.csls_context`` makes one pass over the ``[n_src, n_tgt]``
similarities, block by block, and reduces each block two ways: the top-k of
every source row (``lax.top_k`` on the running top-k and the block) and the
top-k of every target column (``retrieval._insert_sorted``, row by row). This
script times, on generated unit vectors of the given size and with the
context's own block and tile shapes, a pass that does only the products, the
products and the row top-k, the products and the column top-k, and all three
(the context itself), so that the context's gap to its products is split into
its two reductions. Prints a table; nothing is written.

  python -m benchmarks.csls_phases --n 40000 --dim 300
"""

import argparse
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import matmuls
from bdi_jax import retrieval


@functools.partial(jax.jit, static_argnames=("k", "rows", "cols"))
def _block(src_blk, tgt_tiles, row_topk0, col_topk, *, k, rows, cols):
  # One source block against every target tile, with the chosen reductions.
  def tile(row_topk, xs):
    tgt_tile, col = xs
    sims = jax.lax.dot_general(src_blk, tgt_tile, (((1,), (1,)), ((), ())))
    if rows:
      row_topk = jax.lax.top_k(jnp.concatenate([row_topk, sims], axis=1), k)[0]
    else:  # Keep the product alive at the cost of one sum.
      row_topk = row_topk + jnp.sum(sims)
    if cols:
      col = jnp.stack(jax.lax.fori_loop(
          0, sims.shape[0],
          lambda i, c: retrieval._insert_sorted(  # pylint: disable=protected-access
              c, jax.lax.dynamic_index_in_dim(sims, i, keepdims=False)),
          tuple(col)))
    return row_topk, col

  return jax.lax.scan(tile, row_topk0, (tgt_tiles, col_topk))


def time_phase(src, tgt, blocks: matmuls.ContextBlocks, k: int, *,
               rows: bool, cols: bool) -> float:
  """Seconds of one pass over every block (after one warm-up block).

  Padding rows are zeros without the context's -inf bias: they cost the same
  and the figures are times, not r-vectors.
  """
  src, tgt_tiles = matmuls.padded_blocks(src, tgt, blocks)
  row0 = jnp.full((blocks.batch, k), -jnp.inf, src.dtype)
  col = jnp.full((blocks.n_tiles, k, blocks.tile), -jnp.inf, src.dtype)
  run = functools.partial(_block, k=k, rows=rows, cols=cols)
  jax.block_until_ready(run(src[:blocks.batch], tgt_tiles, row0, col))
  tic = time.perf_counter()
  for i in range(blocks.n_blocks):
    out = run(src[i * blocks.batch:(i + 1) * blocks.batch], tgt_tiles, row0,
              col)
    col = out[1]
  jax.block_until_ready(out)
  return time.perf_counter() - tic


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--n", type=int, default=40000, help="words per side")
  p.add_argument("--dim", type=int, default=300)
  p.add_argument("--k", type=int, default=10)
  args = p.parse_args(argv)
  rng = np.random.default_rng(0)

  def unit(n):
    x = rng.standard_normal((n, args.dim), dtype=np.float32)
    return jnp.asarray(x / np.linalg.norm(x, axis=1, keepdims=True))

  src, tgt = unit(args.n), unit(args.n)
  blocks = matmuls.context_blocks(args.n, args.n, args.dim)
  phases = [("products only", False, False), ("+ row top-k", True, False),
            ("+ column top-k", False, True), ("both (the context)", True, True)]
  seconds = {name: time_phase(src, tgt, blocks, args.k, rows=r, cols=c)
             for name, r, c in phases}
  gflop = matmuls.flops(blocks.products(args.dim)) / 1e9
  base = seconds["products only"]
  print(f"CSLS context phases, {args.n:,} x {args.n:,} x {args.dim}, k "
        f"{args.k}, blocks {blocks._asdict()}, {jax.devices()[0].platform}")
  print("| phase | seconds | GFLOP/s of the products | products / phase |")
  print("|---|---:|---:|---:|")
  for name, _, _ in phases:
    s = seconds[name]
    print(f"| {name} | {s:.2f} | {gflop / s:.1f} | {base / s:.2f} |")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
