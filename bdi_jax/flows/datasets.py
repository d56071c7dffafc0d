"""The data of each experiment, chosen by name through :data:`DATASETS`."""

from typing import Callable, NamedTuple, Optional

import jax.numpy as jnp
import numpy as np

from bdi_jax.flows import toy_data

__all__ = ["Dataset", "DATASETS", "load"]


class Dataset(NamedTuple):
  dim: int
  sampler: Callable  # (key, n, data) -> [n, D]
  reference: Optional[Callable] = None  # true log p(x), where known
  train: Optional[jnp.ndarray] = None  # device array the sampler draws from
  test: Optional[np.ndarray] = None
  train_labels: Optional[np.ndarray] = None
  note: str = ""


def _gmm() -> Dataset:
  return Dataset(2, toy_data.gmm, toy_data.gmm_log_prob,
                 note="6 Gaussians, radius 5, variance 0.1, generated")


def _swiss_roll() -> Dataset:
  return Dataset(2, toy_data.swiss_roll,
                 note=f"swiss roll, {toy_data.SWISS_TURNS:g} turns, generated")


def _digits() -> Dataset:
  train, test, y_train, _ = toy_data.load_digits()
  return Dataset(64, toy_data.digits_sampler, train=jnp.asarray(train),
                 test=test, train_labels=y_train,
                 note="scikit-learn 8x8 digits (not MNIST), dequantised "
                      "(v + u) / 17")


DATASETS = {"gmm": _gmm, "swiss_roll": _swiss_roll, "digits": _digits}


def load(name: str) -> Dataset:
  try:
    return DATASETS[name]()
  except KeyError:
    raise ValueError(
        f"unknown dataset {name!r}; known: {sorted(DATASETS)}") from None
