"""The package's shape: its import graph and the size of its files.

The graph is read from the source with ``ast`` (nothing is imported), so a
late import inside a function counts as much as one at the top: a cycle
hidden that way is still a cycle.
"""

import ast
import pathlib
from typing import Dict, List, Optional, Set

PACKAGE = "bdi_jax"
ROOT = pathlib.Path(__file__).resolve().parents[1]
DRIVER = "bdi_jax.pipeline"
MAX_LINES = 400


def _module_name(path: pathlib.Path) -> str:
  parts = list(path.relative_to(ROOT).with_suffix("").parts)
  if parts[-1] == "__init__":
    parts.pop()
  return ".".join(parts)


def _modules() -> Dict[str, pathlib.Path]:
  """Dotted name -> file, for every module of the package."""
  return {_module_name(p): p
          for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _resolve_relative(module: str, is_package: bool, level: int,
                      target: Optional[str]) -> str:
  """The absolute name of ``from {'.' * level}{target} import ...``."""
  base = module.split(".")
  if not is_package:
    base = base[:-1]  # A module's siblings live in its parent package.
  base = base[:len(base) - (level - 1)]
  return ".".join(base + ([target] if target else []))


def _imports(module: str, source: str, is_package: bool,
             modules: Set[str]) -> Set[str]:
  """The package modules that ``module`` imports, wherever in its source.

  Args:
    module: dotted name of the module whose ``source`` this is.
    source: its Python text.
    is_package: whether it is a package's ``__init__.py``.
    modules: the dotted names of all the package's modules.
  """
  tree = ast.parse(source)
  found = set()

  def add(name: str) -> None:
    # ``import a.b.c`` also runs a and a.b; the edge that matters is to the
    # deepest module named, the one whose names are used.
    while name and name not in modules:
      name = name.rpartition(".")[0]
    if name and name != module:
      found.add(name)

  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      for alias in node.names:
        add(alias.name)
    elif isinstance(node, ast.ImportFrom):
      if node.level:
        origin = _resolve_relative(module, is_package, node.level,
                                   node.module)
      else:
        origin = node.module or ""
      if origin != PACKAGE and not origin.startswith(PACKAGE + "."):
        continue
      for alias in node.names:
        # ``from bdi_jax import x`` imports the module bdi_jax.x when there
        # is one, else a name defined in bdi_jax itself.
        submodule = f"{origin}.{alias.name}"
        add(submodule if submodule in modules else origin)
  return found


def _graph() -> Dict[str, Set[str]]:
  modules = _modules()
  names = set(modules)
  return {m: _imports(m, p.read_text(encoding="utf-8"),
                      p.name == "__init__.py", names)
          for m, p in modules.items()}


def _find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
  """One cycle as ``[a, b, ..., a]``, or None (depth-first search)."""
  state: Dict[str, str] = {}  # "open" while on the stack, then "done".
  stack: List[str] = []

  def visit(node: str) -> Optional[List[str]]:
    state[node] = "open"
    stack.append(node)
    for nxt in sorted(graph[node]):
      if state.get(nxt) == "open":
        return stack[stack.index(nxt):] + [nxt]
      if nxt not in state:
        cycle = visit(nxt)
        if cycle:
          return cycle
    stack.pop()
    state[node] = "done"
    return None

  for node in sorted(graph):
    if node not in state:
      cycle = visit(node)
      if cycle:
        return cycle
  return None


def test_graph_reader_sees_every_import_form():
  # A test of the reader itself, on a made-up package, so that an empty
  # graph cannot pass the checks below by accident.
  modules = {"bdi_jax", "bdi_jax.a", "bdi_jax.data", "bdi_jax.data.b",
             "bdi_jax.data.c"}
  source = ("import bdi_jax.a\n"
            "from bdi_jax.data import b\n"
            "from . import c\n"
            "from bdi_jax import errors_is_not_a_module\n"
            "import numpy\n"
            "def late():\n"
            "  from ..a import thing\n")
  # Read as if it were bdi_jax/data/x.py.
  found = _imports("bdi_jax.data.x", source, False,
                   modules | {"bdi_jax.data.x"})
  assert found == {"bdi_jax.a", "bdi_jax.data.b", "bdi_jax.data.c", "bdi_jax"}
  assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [
      "a", "b", "c", "a"]
  assert _find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
  graph = _graph()
  assert len(graph) > 10 and any(graph.values())  # The package was read.
  cycle = _find_cycle(graph)
  assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_only_the_driver_imports_the_driver():
  graph = _graph()
  assert DRIVER in graph
  importers = sorted(m for m, deps in graph.items() if DRIVER in deps)
  assert not importers, (
      f"{DRIVER} is the driver, imported by nothing of the package; "
      f"imported by: {', '.join(importers)}")


def test_no_library_file_over_the_line_limit():
  too_long = {}
  for path in sorted((ROOT / PACKAGE).rglob("*.py")):
    with open(path, encoding="utf-8") as f:
      lines = sum(1 for _ in f)
    if lines > MAX_LINES:
      too_long[str(path.relative_to(ROOT))] = lines
  assert not too_long, (
      f"files over {MAX_LINES} lines (split them by purpose): "
      + ", ".join(f"{p} ({n})" for p, n in too_long.items()))
