"""Seeds sharded over several devices give the same numbers as one device.

CI has one CPU; XLA can split it into several host "devices"
(``--xla_force_host_platform_device_count``), which must be set before JAX
starts, hence the subprocess.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
import jax, jax.numpy as jnp, numpy as np
from bdi_jax import multi_seed
from bdi_jax import step as step_lib
from bdi_jax.data import tasks
from tests.test_pipeline import small_synthetic_config

config = small_synthetic_config("gan")
config.model.hidden = 16
# Few steps: GAN dynamics amplify float rounding (which differs with the
# partitioning) exponentially over long runs.
config.train.chunk_steps = 5
task = tasks.load_task(config.data)
seeds = [0, 1, 2, 3]
trainer = multi_seed.build_trainer(config, 12)
init_fn, chunk_fn = trainer.init_fn, trainer.chunk_fn(trainer.chunk_steps)
state, run_keys = multi_seed.init_seeds(init_fn, seeds)
sharding = multi_seed.seed_sharding(len(seeds))
data = step_lib.EmbeddingData(jnp.asarray(task.src_vectors),
                           jnp.asarray(task.tgt_vectors))
state, _ = chunk_fn(state, run_keys, data)
print(json.dumps({"devices": jax.device_count(),
                  "sharded": sharding is not None,
                  "spread": len(state.mapping.sharding.device_set),
                  "w": np.asarray(state.mapping).tolist()}))
"""


def _run(n_devices):
  env = dict(os.environ)
  env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                      f" --xla_force_host_platform_device_count={n_devices}")
  env["JAX_PLATFORMS"] = "cpu"
  env["PYTHONPATH"] = str(REPO)
  proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


def test_seed_axis_sharded_over_devices_matches_one_device():
  one = _run(1)
  two = _run(2)
  assert one["devices"] == 1 and not one["sharded"]
  assert two["devices"] == 2 and two["sharded"] and two["spread"] == 2
  np.testing.assert_allclose(np.asarray(two["w"]), np.asarray(one["w"]),
                             atol=1e-5)
