"""Driver of one flow experiment (a table row) over several seeds.

``run(config, workdir, seeds)`` trains every seed at once (``jax.vmap``), in
``lax.scan`` chunks, into a staged workdir (:mod:`bdi_jax.outputs`):
``config.json``, ``metrics.jsonl`` (one line per chunk and seed),
``curves.npz`` (per-epoch batch NLL, critic loss and the reference NLL on the
same batches), ``params.msgpack`` (final states) and ``summary.json`` (the
row: figures averaged over the last ``average_last`` of the epochs, as the
thesis averages its last 500 of 5,000, with mean and std over seeds).
"""

import datetime
import platform
import time
from typing import Dict, List

import flax
import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import outputs
from bdi_jax.flows import datasets
from bdi_jax.flows import mixflow
from bdi_jax.flows import nice
from bdi_jax.flows import toy_data
from bdi_jax.flows import train

__all__ = ["make_spec", "init_states", "run", "test_nll", "cpu_name"]


def make_spec(config, data: datasets.Dataset) -> train.TrainSpec:
  flow = nice.FlowSpec(dim=data.dim, n_couplings=config.n_couplings,
                       depth=config.depth, width=config.width,
                       base=config.base)
  return train.TrainSpec(
      flow=flow, sampler=data.sampler, n_components=config.n_components,
      objective=config.objective, weights=config.weights,
      batch_size=config.batch_size, flow_lr=config.flow_lr,
      critic_lr=config.critic_lr, weight_lr=config.weight_lr,
      lambda_ml=config.lambda_ml, lambda_gp=config.lambda_gp,
      lambda_ent=config.lambda_ent, critic_steps=config.critic_steps,
      critic=config.critic, critic_depth=config.critic_depth,
      critic_width=config.critic_width, share_critic=config.share_critic,
      posterior_in_gp=config.posterior_in_gp,
      c_start=config.c_start, lambda_c=config.lambda_c,
      m_out_scale=config.m_out_scale, reference=data.reference)


def init_states(spec: train.TrainSpec, seeds: List[int]):
  keys = jnp.stack([jax.random.key_data(jax.random.key(s)) for s in seeds])
  keys = jax.vmap(jax.random.wrap_key_data)(keys)
  init_keys, run_keys = jax.vmap(jax.random.split, out_axes=1)(keys)
  states = jax.vmap(lambda k: train.init_state(k, spec))(init_keys)
  return states, run_keys


INIT_CENTRES = ("random", "data", "kmeans++")


def _centre_on_data(spec, data, states, run_keys, how: str):
  """Puts each component's density peak on a seed point drawn from one batch
  of data: a random row (``data``) or the k-means++ seeds (``kmeans++``)."""

  def one(state, key):
    batch_key, seed_key = jax.random.split(jax.random.fold_in(key, 2**31 - 1))
    if how == "data":
      points = spec.sampler(batch_key, spec.n_components, data.train)
    else:
      batch = spec.sampler(batch_key, max(spec.batch_size, spec.n_components),
                           data.train)
      points = mixflow.kmeans_pp(seed_key, batch, spec.n_components)
    return state.replace(flow=mixflow.centre_at(state.flow, points))

  return jax.vmap(one)(states, run_keys)


def _pretrain(config, spec, data, states, run_keys):
  """ML pre-training of the flows (thesis Sec. 5.2): a single flow on all
  data; a Mixflow's component i on digit i only (same number of rows per
  digit, drawn once)."""
  epochs = config.pretrain_epochs
  ml = spec._replace(objective="ml", weights="fixed", n_components=1,
                     reference=None)
  if spec.n_components == 1:
    ml_states = states.replace(critic=None, critic_opt=None)
    ml_states, _ = train.train_chunk_seeds(ml, ml_states, run_keys,
                                           data.train, epochs)
    return states.replace(flow=ml_states.flow)
  labels = data.train_labels
  per = min(int(np.sum(labels == i)) for i in range(spec.n_components))
  subsets = jnp.stack([data.train[np.flatnonzero(labels == i)[:per]]
                       for i in range(spec.n_components)])  # [T, per, D]

  def one_component(params, key, subset):
    s = train.FlowState(
        step=jnp.zeros((), jnp.int32),
        flow=jax.tree.map(lambda p: p[None], params),
        flow_opt=train.make_adam(ml, ml.flow_lr).init(
            jax.tree.map(lambda p: p[None], params)),
        logits=jnp.zeros((1,)), logits_opt=None, critic=None, critic_opt=None)
    s, _ = train.train_chunk.__wrapped__(ml, s, key, subset, epochs)
    return jax.tree.map(lambda p: p[0], s.flow)

  def one_seed(state, key):
    keys = jax.random.split(key, spec.n_components)
    flow = jax.vmap(one_component)(state.flow, keys, subsets)
    return state.replace(flow=flow)

  return jax.jit(jax.vmap(one_seed))(states, run_keys)


def test_nll(spec, flow, logits, x: np.ndarray, key, draws: int = 5):
  """Mean per-row NLL of rows ``x`` (levels) under fresh dequantisation noise
  (``draws`` draws averaged), for the digits' test set."""
  total = 0.0
  for k in jax.random.split(key, draws):
    batch = ((jnp.asarray(x) + jax.random.uniform(k, x.shape))
             / toy_data.DIGIT_LEVELS)
    total += -jnp.mean(mixflow.log_prob(flow, logits, batch, spec.flow.base))
  return float(total / draws)


def cpu_name() -> str:
  try:
    for line in open("/proc/cpuinfo", encoding="utf-8"):
      if line.startswith("model name"):
        return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown"


def _window_mean(a: np.ndarray, fraction: float) -> np.ndarray:
  n = max(1, int(round(a.shape[-1] * fraction)))
  return np.nanmean(a[..., -n:], axis=-1)


def _stats(values) -> Dict[str, float]:
  v = np.asarray(values, dtype=np.float64)
  return {"mean": float(np.mean(v)), "std": float(np.std(v)),
          "values": [float(x) for x in v]}


def run(config, workdir, seeds: List[int], *, overwrite: bool = False,
        command: str = "") -> Dict:
  """Trains ``config`` for every seed; returns the summary it writes."""
  data = datasets.load(config.dataset)
  spec = make_spec(config, data)
  config_json = {"config": config.to_dict(), "seeds": list(seeds)}
  rundir = outputs.open_run(workdir, config_json, overwrite=overwrite)
  start = time.time()
  states, run_keys = init_states(spec, seeds)
  if config.init_centres not in INIT_CENTRES:
    raise ValueError(f"unknown init_centres {config.init_centres!r}; known: "
                     f"{list(INIT_CENTRES)}")
  if config.init_centres != "random" and spec.n_components > 1:
    states = _centre_on_data(spec, data, states, run_keys, config.init_centres)
  if config.pretrain_epochs and train.OBJECTIVES[spec.objective][1]:
    states = _pretrain(config, spec, data, states, run_keys)
  curves = {"nll_sum": [], "critic_loss": [], "reference_nll_sum": []}
  epoch = 0
  while epoch < config.epochs:
    n = min(config.chunk, config.epochs - epoch)
    states, metrics = train.train_chunk_seeds(spec, states, run_keys,
                                              data.train, n)
    metrics = jax.device_get(metrics)
    epoch += n
    for name in curves:
      if name in metrics:
        curves[name].append(np.asarray(metrics[name]))
    for i, seed in enumerate(seeds):
      record = {"epoch": epoch, "seed": seed,
                "weights": metrics["weights"][i, -1].tolist()}
      for name in ("nll_sum", "critic_loss", "w_estimate", "gp",
                   "generator_loss", "reference_nll_sum"):
        if name in metrics:
          record[name] = float(np.mean(metrics[name][i]))
      rundir.append_jsonl("metrics.jsonl", record)
  wall = time.time() - start
  arrays = {k: np.concatenate(v, axis=1) for k, v in curves.items() if v}
  rundir.save_array("nll_curve.npy", arrays["nll_sum"])
  with outputs.atomic_file(rundir.path("curves.npz")) as f:
    np.savez(f, seeds=np.asarray(seeds), **arrays)
  with outputs.atomic_file(rundir.path("params.msgpack")) as f:
    f.write(flax.serialization.to_bytes(
        {"flow": states.flow, "logits": states.logits,
         "critic": states.critic}))
  weights = np.asarray(jax.nn.softmax(states.logits, axis=-1))
  nll = _window_mean(arrays["nll_sum"], config.average_last)
  per_row = nll / config.batch_size
  summary = {
      "name": config.name, "description": config.description,
      "dataset": data.note, "seeds": list(seeds), "epochs": config.epochs,
      "pretrain_epochs": config.pretrain_epochs,
      "epoch": "one fresh batch and one flow update, after critic_steps "
               "critic updates when adversarial (Algorithms 5-6)",
      "average_last": config.average_last,
      "nll_batch_sum": _stats(nll), "nll_per_row": _stats(per_row),
      "dominant_components": _stats(
          [mixflow.dominant_components(w) for w in weights]),
      "final_weights": weights.tolist(),
      "thesis": config.thesis.to_dict(), "command": command,
      "date": datetime.datetime.now(datetime.timezone.utc).strftime(
          "%Y-%m-%d"),
      "device": f"{jax.devices()[0].platform}: {cpu_name()}",
      "wall_seconds": wall,
  }
  if "critic_loss" in arrays:
    summary["critic_loss"] = _stats(
        _window_mean(arrays["critic_loss"], config.average_last))
  if "reference_nll_sum" in arrays:
    summary["reference_nll_batch_sum"] = _stats(
        _window_mean(arrays["reference_nll_sum"], config.average_last))
  if data.test is not None:
    keys = jax.random.split(jax.random.key(12345), len(seeds))
    summary["test_nll_per_row"] = _stats([
        test_nll(spec, jax.tree.map(lambda p, i=i: p[i], states.flow),
                 states.logits[i], data.test, keys[i])
        for i in range(len(seeds))])
  rundir.write_json("summary.json", summary)
  rundir.finish()
  return summary
