"""``docs/config-fields.md``: the config fields as one markdown table.

Regenerate: ``python -m bdi_jax.config_doc > docs/config-fields.md`` (a test
checks that the committed file is what this writes).
"""

from typing import Any

from bdi_jax import config_schema
from bdi_jax import tables

__all__ = ["markdown"]


def _cell(value: Any) -> str:
  # repr: a string default shows its quotes, a float its exact value.
  return "{}" if isinstance(value, dict) else repr(value)


def markdown() -> str:
  """``docs/config-fields.md``: one row per field, in declaration order."""
  rows = [(f"`{f.path}`", _cell(f.default),
           ("free text" if f.kind is None else f.kind.text)
           + ("; may be absent" if f.optional else ""),
           "yes" if f.compiled else "no", f.doc) for f in config_schema.FIELDS]
  table = tables.markdown_table(
      ("field", "default", "allowed", "compiled", "meaning"), rows,
      align="lllll")
  return "\n".join([
      "# Config fields",
      "",
      "Generated from `bdi_jax/config_schema.py`, where each field is declared "
      "once; do not edit by hand. Regenerate with "
      "`python -m bdi_jax.config_doc > docs/config-fields.md`.",
      "",
      "*compiled*: the adversarial step is compiled with the field's value; "
      "two configs that differ only in fields that are not share one "
      "compiled step. *may be absent*: config files saved before the field "
      "existed lack it; it is checked when present, and readers use the "
      "default.",
      "",
      table,
      ""])


if __name__ == "__main__":
  print(markdown(), end="")
