"""Reader for the IDX files MNIST is distributed in (LeCun et al.).

Layout: two zero bytes, a type byte, the number of dimensions, then one
big-endian uint32 per dimension and the values, big-endian. ``.gz`` files
(gzip magic) are read transparently. Every problem is a one-line
:class:`bdi_jax.errors.DataError` naming the file.
"""

import gzip
import pathlib
import struct

import numpy as np

from bdi_jax import errors

__all__ = ["IDX_TYPES", "read_idx", "write_idx", "load_mnist", "MNIST_FILES"]

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4",
             0x0D: ">f4", 0x0E: ">f8"}

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _read_bytes(path: pathlib.Path) -> bytes:
  raw = path.read_bytes()
  if raw[:2] == b"\x1f\x8b":
    try:
      return gzip.decompress(raw)
    except (OSError, EOFError) as e:
      raise errors.DataError(f"{path}: not a readable gzip file ({e}); "
                             "download it again") from None
  return raw


def read_idx(path) -> np.ndarray:
  """The array stored in one IDX file (native byte order)."""
  path = pathlib.Path(path)
  raw = _read_bytes(path)
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
    raise errors.DataError(
        f"{path}: not an IDX file (its first bytes are not 00 00 TYPE NDIM); "
        "pass the MNIST files as downloaded (optionally .gz)")
  dtype = IDX_TYPES.get(raw[2])
  if dtype is None:
    raise errors.DataError(
        f"{path}: unknown IDX type byte 0x{raw[2]:02x} (known: "
        f"{', '.join(f'0x{t:02x}' for t in IDX_TYPES)})")
  ndim = raw[3]
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise errors.DataError(f"{path}: header cut short ({len(raw)} bytes for "
                           f"{ndim} dimensions); download it again")
  shape = struct.unpack(f">{ndim}I", raw[4:header])
  count = int(np.prod(shape, dtype=np.int64))
  need = header + count * np.dtype(dtype).itemsize
  if len(raw) != need:
    raise errors.DataError(
        f"{path}: {len(raw)} bytes, but its header {tuple(shape)} of "
        f"{np.dtype(dtype).name} needs {need}; the file is truncated or "
        "not IDX")
  data = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
  return data.reshape(shape).astype(np.dtype(dtype).newbyteorder("="))


def write_idx(path, array: np.ndarray) -> None:
  """Writes ``array`` as IDX (for tests and small exports)."""
  array = np.asarray(array)
  codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
  code = codes.get(array.dtype)
  if code is None:
    raise ValueError(f"IDX cannot store dtype {array.dtype}")
  header = bytes([0, 0, code, array.ndim]) + struct.pack(
      f">{array.ndim}I", *array.shape)
  body = array.astype(IDX_TYPES[code]).tobytes()
  pathlib.Path(path).write_bytes(header + body)


def load_mnist(folder):
  """``{name: array}`` for the four MNIST files in ``folder`` (plain or
  ``.gz``), named as distributed (see :data:`MNIST_FILES`)."""
  folder = pathlib.Path(folder)
  out = {}
  for key, name in MNIST_FILES.items():
    candidates = [folder / name, folder / (name + ".gz")]
    found = next((p for p in candidates if p.exists()), None)
    if found is None:
      raise errors.DataError(
          f"{folder}: no {name} (or {name}.gz); put the four MNIST IDX files "
          "there")
    out[key] = read_idx(found)
  return out
