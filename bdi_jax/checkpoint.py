"""Saving and restoring a run's complete state in one atomic ``.npz`` file.

A checkpoint is a flat dict of arrays (the training state's leaves, learning
rates, best mappings...) plus a JSON-able dict of everything else. It is written
to a temporary name and renamed, so a kill at any moment leaves either the old
checkpoint or the new one.
"""

import io
import json
import pathlib
from typing import Any, Dict, Tuple

import jax
import numpy as np

from bdi_jax import errors, outputs

__all__ = ["save", "load", "tree_to_arrays", "arrays_to_tree"]

_META = "__meta__"


def save(path, arrays: Dict[str, np.ndarray], meta: Dict[str, Any]) -> None:
  buf = io.BytesIO()
  payload = {k: np.asarray(v) for k, v in arrays.items()}
  payload[_META] = np.frombuffer(
      json.dumps(outputs.jsonable(meta)).encode("utf-8"), np.uint8)
  np.savez(buf, **payload)
  outputs.atomic_write_bytes(pathlib.Path(path), buf.getvalue())


def load(path) -> Tuple[Dict[str, np.ndarray], Dict[str, Any]]:
  try:
    with np.load(path, allow_pickle=False) as f:
      arrays = {k: f[k] for k in f.files}
  except (OSError, ValueError) as e:
    raise errors.WorkdirError(
        f"{path}: unreadable checkpoint ({e}); delete it to start over") from e
  meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
  return arrays, meta


def tree_to_arrays(prefix: str, tree) -> Dict[str, np.ndarray]:
  leaves = jax.device_get(jax.tree.leaves(tree))
  return {f"{prefix}/{i}": np.asarray(x) for i, x in enumerate(leaves)}


def arrays_to_tree(prefix: str, arrays: Dict[str, np.ndarray], like):
  """Rebuilds a pytree shaped like ``like`` from :func:`tree_to_arrays`."""
  leaves, treedef = jax.tree.flatten(like)
  restored = []
  for i, ref in enumerate(leaves):
    x = arrays[f"{prefix}/{i}"]
    if x.shape != ref.shape:
      raise errors.WorkdirError(
          f"checkpoint leaf {prefix}/{i} has shape {x.shape}, the run needs "
          f"{ref.shape}: the checkpoint belongs to another config")
    restored.append(x.astype(ref.dtype))
  return jax.tree.unflatten(treedef, restored)
