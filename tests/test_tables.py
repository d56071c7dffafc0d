"""Tests for bdi_jax/tables.py, the one markdown-table writer."""

import math

import numpy as np
import pytest

from bdi_jax import tables


def _parse(text):
  """Reads a markdown table back: (header, alignments, rows of cell text)."""
  lines = text.split("\n")
  split = lambda line: [c.strip() for c in line.strip()[1:-1].split(" | ")]
  rule = [c for c in lines[1].strip("|").split("|")]
  align = "".join("r" if c.endswith(":") and not c.startswith(":") else "l"
                  for c in rule)
  return split(lines[0]), align, [split(line) for line in lines[2:]]


def test_round_trips_cells_and_aligns_by_kind():
  rows = [["gan_es_en", 0.75712, 12345, None],
          ["wgan", float("nan"), 7, True]]
  text = tables.markdown_table(["config", "p@1", "n", "ok"], rows)
  header, align, body = _parse(text)
  assert header == ["config", "p@1", "n", "ok"]
  # Text and bool columns left, number columns (None = missing) right.
  assert align == "lrrl"
  assert body == [["gan_es_en", "0.757", "12,345", "-"],
                  ["wgan", "nan", "7", "yes"]]
  # Every line has the same width: the columns are padded.
  assert len({len(line) for line in text.split("\n")}) == 1


def test_cells_formatted_like_python_format():
  rng = np.random.default_rng(3)
  for value in rng.uniform(-999, 999, size=20):
    for digits in (0, 2, 4):
      assert tables.format_cell(value, digits) == f"{value:.{digits}f}"
      # numpy scalars are numbers too.
      assert tables.format_cell(np.float32(value), digits) == (
          f"{float(np.float32(value)):.{digits}f}")
  assert tables.format_cell(1234.56) == "1,235"
  assert tables.format_cell(np.int64(10 ** 6)) == "1,000,000"
  assert tables.format_cell(-math.inf) == "-inf"
  assert tables.format_cell(False) == "no"


def test_pipe_in_a_cell_does_not_add_a_column():
  text = tables.markdown_table(["a", "b"], [["x|y", "z"]])
  # An escaped pipe is not a column separator.
  assert text.split("\n")[2].replace("\\|", "").count("|") == 3


def test_explicit_alignment_and_digits():
  text = tables.markdown_table(["a", "b"], [[1.23456, "x"]], digits=1,
                               align="lr")
  header, align, body = _parse(text)
  assert align == "lr" and body == [["1.2", "x"]]


@pytest.mark.parametrize("rows, align", [([[1, 2, 3]], None), ([[1, 2]], "l"),
                                         ([[1, 2]], "lx")])
def test_shape_mistakes_raise(rows, align):
  with pytest.raises(ValueError, match="markdown_table"):
    tables.markdown_table(["a", "b"], rows, align=align)
