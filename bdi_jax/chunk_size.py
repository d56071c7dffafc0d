"""How many query rows one retrieval chunk holds: sized by a memory budget.

A chunk's ``[batch, n_keys]`` similarity block is the peak allocation of every
retrieval function, so its row count follows from a budget in bytes
(``$BDI_RETRIEVAL_MEMORY_MB``, else :data:`DEFAULT_MEMORY_MB`) rather than
from a fixed number that fits one vocabulary size and not another.
"""

import os
from typing import Optional

__all__ = ["DEFAULT_MEMORY_MB", "MEMORY_ENV_VAR", "auto_batch_size",
           "resolve_batch"]

# Budget for one ``[batch, n_keys]`` similarity block. XLA's top-k keeps a few
# temporaries of the same size, so peak use is a small multiple of this.
DEFAULT_MEMORY_MB = 256
MEMORY_ENV_VAR = "BDI_RETRIEVAL_MEMORY_MB"


def _memory_budget_bytes(memory_bytes: Optional[int]) -> int:
  if memory_bytes is not None:
    budget = int(memory_bytes)
  else:
    raw = os.environ.get(MEMORY_ENV_VAR)
    try:
      mb = float(raw) if raw else DEFAULT_MEMORY_MB
    except ValueError:
      raise ValueError(
          f"{MEMORY_ENV_VAR} must be a number of megabytes, got {raw!r}"
      ) from None
    budget = int(mb * 2**20)
  if budget <= 0:
    raise ValueError(f"memory budget must be positive, got {budget} bytes")
  return budget


def auto_batch_size(n_keys: int, dim: int, *,
                    memory_bytes: Optional[int] = None,
                    itemsize: int = 4) -> int:
  """Largest query chunk whose similarity block fits in the memory budget.

  The block is ``[batch, n_keys]`` plus the ``[batch, dim]`` query chunk, both
  of ``itemsize`` bytes per entry.

  Args:
    n_keys: number of rows searched (``n``).
    dim: embedding dimension (``d``).
    memory_bytes: budget in bytes; default ``$BDI_RETRIEVAL_MEMORY_MB``
      megabytes, else :data:`DEFAULT_MEMORY_MB`.
    itemsize: bytes per entry (4 for float32).

  Returns:
    A batch size >= 1; a multiple of 8 when it is at least 8 (friendlier tiles).
    It is 1 when even one row exceeds the budget.
  """
  budget = _memory_budget_bytes(memory_bytes)
  per_row = (int(n_keys) + int(dim)) * int(itemsize)
  batch = max(1, budget // max(per_row, 1))
  if batch >= 8:
    batch -= batch % 8
  return int(batch)


def resolve_batch(batch_size: Optional[int], n_queries: int, n_keys: int,
                  dim: int, itemsize: int) -> int:
  """The chunk size to use: ``batch_size`` or :func:`auto_batch_size`, at
  most the number of queries (one chunk when all fit)."""
  if batch_size is None:
    batch_size = auto_batch_size(n_keys, dim, itemsize=itemsize)
  if batch_size < 1:
    raise ValueError(f"batch_size must be >= 1, got {batch_size}")
  return int(min(batch_size, max(n_queries, 1)))
