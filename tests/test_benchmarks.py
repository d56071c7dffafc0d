"""Tests for the benchmark suite: FLOP counts, matmul-only kernels, options,
and the end_to_end row format (one tiny synthetic run)."""

import collections
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bdi_jax import retrieval
from benchmarks import end_to_end
from benchmarks import matmuls
from benchmarks import run as bench_run


def _shape(batch, dim, hidden, n_layers, dis_steps):
  return dict(batch=batch, dim=dim, hidden=hidden, n_layers=n_layers,
              dis_steps=dis_steps)


def test_adversarial_flops_hand_count():
  # b=2, d=3, h=4, 2 hidden layers + the 1-logit layer; 2 FLOPs per mul-add.
  # Critic update (2b = 4 rows): fake 2*2*3*3 = 36; forward 2*4*(3*4 + 4*4 +
  # 4*1) = 256; backward: weight grads 2*4*(4*1 + 4*4 + 3*4) = 256, input
  # grads of the two upper layers 2*4*(1*4 + 4*4) = 160; total 708.
  # Mapping update (b = 2 rows): fake 36; forward 2*2*(12 + 16 + 4) = 128;
  # input grads of all three layers 128; dW 2*3*2*3 = 36; (W W^T) W 2*27*2 =
  # 108; total 436.
  assert matmuls.adversarial_flops(**_shape(2, 3, 4, 2, 1)) == 708 + 436
  assert matmuls.adversarial_flops(**_shape(2, 3, 4, 2, 2)) == 2 * 708 + 436


def _dot_shapes(jaxpr):
  """(m, n, k) of every dot_general in a jaxpr (2-D operands)."""
  out = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name != "dot_general":
      continue
    lhs, rhs = (v.aval.shape for v in eqn.invars)
    ((lc,), (rc,)), _ = eqn.params["dimension_numbers"]
    out.append((lhs[1 - lc], rhs[1 - rc], lhs[lc]))
  return out


@pytest.mark.parametrize("shape", [_shape(5, 7, 11, 2, 3),
                                   _shape(17, 9, 29, 1, 2),
                                   _shape(3, 13, 6, 3, 1)])
@pytest.mark.parametrize("updates", [False, True])
def test_matmul_iteration_does_exactly_the_counted_products(shape, updates):
  arrays = matmuls._adversarial_arrays(**shape)  # pylint: disable=protected-access
  if updates:  # The same products; the updates are element-wise only.
    jaxpr = jax.make_jaxpr(matmuls.adversarial_update_iteration)(
        (jnp.zeros(()), arrays["weights"]), arrays).jaxpr
  else:
    jaxpr = jax.make_jaxpr(matmuls.adversarial_matmul_iteration)(
        jnp.zeros(()), arrays).jaxpr
  counted = [(p.m, p.n, p.k) for p in matmuls.adversarial_products(**shape)]
  assert collections.Counter(_dot_shapes(jaxpr)) == collections.Counter(
      counted)


def _compiled_flops(fn, *args):
  try:
    cost = jax.jit(fn).lower(*args).compile().cost_analysis()
  except Exception as e:  # pylint: disable=broad-except
    pytest.skip(f"cost_analysis unavailable: {type(e).__name__}: {e}")
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else None
  if not cost or "flops" not in cost:
    pytest.skip(f"cost_analysis reports no flops on "
                f"{jax.devices()[0].platform}: {cost!r}")
  return float(cost["flops"])


def test_matmul_iteration_survives_compilation():
  # XLA must neither drop, hoist nor re-associate a product: its FLOPs after
  # optimisation match the analytic count, up to the few elementwise ops
  # (adds, sums) that cost_analysis counts too (~2% at these sizes).
  shape = _shape(17, 9, 29, 3, 2)
  arrays = matmuls._adversarial_arrays(**shape)  # pylint: disable=protected-access
  compiled = _compiled_flops(matmuls.adversarial_matmul_iteration,
                             jnp.zeros(()), arrays)
  analytic = matmuls.adversarial_flops(**shape)
  assert analytic <= compiled <= 1.05 * analytic


def test_update_iteration_applies_sgd_to_each_critic_weight():
  # One critic step, against numpy: each weight moves by -1e-6 times its
  # gradient h_i.T @ g, with g back-propagated through the chain.
  shape = _shape(5, 4, 6, 2, 1)
  arrays = matmuls._adversarial_arrays(**shape)  # pylint: disable=protected-access
  s = 0.1
  _, new = matmuls.adversarial_update_iteration(
      (jnp.asarray(s, jnp.float32), arrays["weights"]), arrays)
  w = np.asarray(arrays["w"], np.float64)
  ws = [np.asarray(wl, np.float64) for wl in arrays["weights"]]
  fake = (np.asarray(arrays["src"][0]) + s) @ w.T + s
  h = [np.concatenate([np.asarray(arrays["tgt"][0]) + s, fake])]
  for wl in ws:
    h.append(h[-1] @ wl + s)
  g, expected = h[-1], [None] * len(ws)
  for i in reversed(range(len(ws))):
    expected[i] = ws[i] - 1e-6 * (h[i].T @ g)
    g = g @ ws[i].T + s
  for got, want, old in zip(new, expected, ws):
    np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-7)
    assert np.max(np.abs(np.asarray(got) - old)) > 1e-6  # It did move.


def test_matmul_only_chunk_runs():
  r = matmuls.measure_adversarial_matmuls(
      **_shape(4, 6, 8, 2, 2), chunk_steps=3, min_chunks=2, min_seconds=0.0)
  assert len(r["matmul_only_chunk_seconds"]) == 2
  assert r["matmul_only_gflops"] > 0 and r["matmul_only_finite"]
  r = matmuls.measure_adversarial_matmuls(
      **_shape(4, 6, 8, 2, 2), chunk_steps=3, min_chunks=2, min_seconds=0.0,
      with_updates=True)
  assert len(r["matmul_update_chunk_seconds"]) == 2
  assert r["matmul_update_gflops"] > 0 and r["matmul_update_finite"]


def test_context_blocks_are_those_of_csls_context(monkeypatch):
  # Small tiles, so that 29 targets span several tiles with padding.
  monkeypatch.setattr(retrieval, "_TGT_TILE", 8)
  seen = []
  original = retrieval._csls_pair_block  # pylint: disable=protected-access

  def recording(src_blk, src_bias, tgt_tiles, tgt_bias, col_topk, k):
    seen.append((src_blk.shape, tgt_tiles.shape))
    return original(src_blk, src_bias, tgt_tiles, tgt_bias, col_topk, k=k)

  monkeypatch.setattr(retrieval, "_csls_pair_block", recording)
  rng = np.random.default_rng(0)
  src = retrieval.normalize_rows(jnp.asarray(rng.standard_normal((37, 5)),
                                             jnp.float32))
  tgt = retrieval.normalize_rows(jnp.asarray(rng.standard_normal((29, 5)),
                                             jnp.float32))
  # The blocks are a lax.scan inside a jitted function: its body is traced
  # once (the tile size is read then, so no earlier trace may be reused).
  retrieval._fused_r_terms.clear_cache()  # pylint: disable=protected-access
  retrieval.csls_context(src, tgt, k=3, batch_size=10)
  retrieval._fused_r_terms.clear_cache()  # pylint: disable=protected-access
  blocks = matmuls.context_blocks(37, 29, 5, batch_size=10)
  assert seen == [((blocks.batch, 5), (blocks.n_tiles, blocks.tile, 5))]
  assert blocks.n_blocks * blocks.batch >= 37 > (blocks.n_blocks - 1) * (
      blocks.batch)
  assert blocks.n_tiles > 1 and blocks.n_tiles * blocks.tile > 29
  # Every entry of the similarity matrix is computed once (padding is 0).
  np.testing.assert_allclose(float(matmuls.context_matmuls(src, tgt, blocks)),
                             float(jnp.sum(src @ tgt.T)), rtol=1e-4,
                             atol=1e-4)
  assert matmuls.flops(blocks.products(5)) == (
      2 * blocks.n_blocks * blocks.batch * blocks.n_tiles * blocks.tile * 5)


@pytest.mark.parametrize("bad", ["", "x", "1,x", "0", "1,-2", "1,1", "1.5"])
def test_e2e_seeds_rejects_bad_input(bad, capsys):
  with pytest.raises(SystemExit):
    bench_run.parse_args([f"--e2e-seeds={bad}"])
  assert "--e2e-seeds" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--e2e-config=gan_es_en,no_such_config"],
    ["--e2e-config=gan_es_en,gan_es_en"],
    ["--e2e-config=,"],
    ["--e2e-flag=--config.n_seeds=4"],
])
def test_e2e_options_reject_bad_input(argv):
  with pytest.raises(SystemExit):
    bench_run.parse_args(argv)


def test_e2e_option_defaults_and_lists():
  args = bench_run.parse_args([])
  assert args.e2e_config == ["gan_es_en", "wgangp_es_en"]
  assert args.e2e_seeds == [1, 10]
  args = bench_run.parse_args(["--e2e-config=gan_zh_en, wgangp_zh_en",
                               "--e2e-seeds=10,1,4"])
  assert args.e2e_config == ["gan_zh_en", "wgangp_zh_en"]
  assert args.e2e_seeds == [10, 1, 4]


def test_vs_one_seed_compares_within_a_config():
  rows = [{"status": "ok", "config": "a", "seeds": 10, "seconds": 30.0},
          {"status": "ok", "config": "a", "seeds": 1, "seconds": 10.0},
          {"status": "ok", "config": "b", "seeds": 10, "seconds": 50.0},
          {"status": "failed", "config": "a", "seeds": 4}]
  out = end_to_end.add_vs_one_seed(rows)
  assert [r["vs_1_seed"] for r in out] == [3.0, 1.0, None, None]
  assert "vs_1_seed" not in rows[0]  # A new list; the input is unchanged.


# A run of seconds: 1 epoch of 2 iterations, a tiny critic and vocabulary.
_TINY_FLAGS = ["--config.train.n_epochs=1", "--config.train.epoch_size=64",
               "--config.train.chunk_steps=2", "--config.model.hidden=8",
               "--config.refine.n_rounds=1", "--config.progress=False",
               "--config.data.synthetic.n_concepts=300",
               "--config.data.synthetic.dim=6",
               "--config.data.synthetic.n_train=100",
               "--config.data.synthetic.n_test=50"]


def test_end_to_end_rows(tmp_path, capsys):
  report_path = tmp_path / "bench.json"
  status = bench_run.main(
      ["--only", "end_to_end", "--e2e-config=gan_synthetic", "--e2e-seeds=1",
       *[f"--e2e-flag={f}" for f in _TINY_FLAGS], "--e2e-timeout=120",
       "--json", str(report_path)])
  out = capsys.readouterr().out
  report = json.loads(report_path.read_text())
  assert status == 0, report["errors"]
  (row,) = report["end_to_end"]
  assert row["status"] == "ok"
  assert (row["config"], row["seeds"]) == ("gan_synthetic", 1)
  assert row["seconds"] >= row["run_wall_seconds"] > 0
  assert 0.0 <= row["refined_csls_p1"] <= 1.0
  assert row["refined_csls_p1"] == row["p_at_1_refined"]["csls"]
  assert row["seed_refined_csls_p1"] == [row["refined_csls_p1"]]
  assert row["selected_seed"] == 0 and row["seed_ids"] == [0]
  assert row["n_seeds_finished"] == 1 and row["vs_1_seed"] == 1.0
  assert "--config.n_seeds=1" in row["command"]
  assert "| vs 1 seed |" in out and "gan_synthetic" in out


def test_csls_phases_block_reduces_both_ways_like_numpy():
  # The profile's "both" pass is the context's reduction: the top-k of every
  # row and of every column of the similarities, against numpy's sort.
  from benchmarks import csls_phases  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  src = rng.standard_normal((24, 5)).astype(np.float32)
  tgt = rng.standard_normal((16, 5)).astype(np.float32)
  k = 3
  row_topk, col_topk = csls_phases._block(  # pylint: disable=protected-access
      jnp.asarray(src), jnp.asarray(tgt).reshape(2, 8, 5),
      jnp.full((24, k), -jnp.inf), jnp.full((2, k, 8), -jnp.inf), k=k,
      rows=True, cols=True)
  sims = src.astype(np.float64) @ tgt.T.astype(np.float64)
  np.testing.assert_allclose(np.asarray(row_topk),
                             -np.sort(-sims, axis=1)[:, :k], rtol=1e-5)
  want_cols = -np.sort(-sims, axis=0)[:k]  # [k, 16]
  got_cols = np.asarray(col_topk).transpose(1, 0, 2).reshape(k, 16)
  np.testing.assert_allclose(got_cols, want_cols, rtol=1e-5)
