"""The house's layers, read from the imports: no cycle, and the pure rules import nothing above."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

GEO = Path(__file__).parent.parent / "geo"

#: Modules of pure rules and types: they read no store, no file of records, no command.
PURE = {
    "geo.errors",
    "geo.model",
    "geo.schema",
    "geo.status",
    "geo.query",
    "geo.fields",
    "geo.validate",
    "geo.columns",
}
#: What a pure module may import of the package.
PURE_MAY_IMPORT = PURE


def node(module: str) -> str:
    """The unit of the graph: a module, or a package (the store, the command line) as a whole."""
    for package in ("geo.store", "geo.cli"):
        if module.startswith(package):
            return package
    return module


def imports() -> dict[str, set[str]]:
    """Every module of geo and the geo modules it imports (at the top or in a function)."""
    graph: dict[str, set[str]] = {}
    for path in GEO.rglob("*.py"):
        name = ".".join(path.relative_to(GEO.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        found = graph.setdefault(node(name), set())
        for item in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(item, ast.ImportFrom)
                and item.module
                and item.module.split(".")[0] == "geo"
            ):
                found.add(node(item.module))
            elif isinstance(item, ast.Import):
                found |= {node(a.name) for a in item.names if a.name.startswith("geo.")}
        found.discard(node(name))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the import cycles of a graph (each as the path that closes it)."""
    found, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                found.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_no_module_imports_another_that_imports_it_back():
    graph = imports()
    # The package's face (geo/__init__) and the entry point hand names on; they are not layers.
    graph = {m: {i for i in d if i != "geo"} for m, d in graph.items() if m != "geo"}
    assert cycles(graph) == []


def test_the_cycle_check_can_fail():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


@pytest.mark.parametrize("module", sorted(PURE))
def test_the_pure_rules_import_only_pure_rules(module: str):
    assert imports()[module] <= PURE_MAY_IMPORT, imports()[module] - PURE_MAY_IMPORT


def test_no_library_module_imports_the_command_line():
    for module, imported in imports().items():
        if module not in ("geo.cli", "geo.__main__"):
            assert not any(i.startswith("geo.cli") for i in imported), module


#: The floors of the house, bottom first: a module imports only from its own floor or below.
FLOORS = [
    # Pure rules and types, and the files the package ships (the base layer, the styles).
    PURE | {"geo.leftovers", "geo.qgis", "geo.assets", "geo.basemap"},
    # The store, what reads or writes files beside it, and work run in a process of its own.
    {"geo.store", "geo.outputs", "geo.inventory", "geo.apart"},
    # Questions (and their frames), exchange formats, building and recording.
    {
        "geo.exchange",
        "geo.browse",
        "geo.questions",
        "geo.frames",
        "geo.audit",
        "geo.record",
        "geo.build",
        "geo.answers",
        "geo.team",
        "geo.timelines",
    },
    # Publishing: maps, figures, reports, feeds.
    {"geo.chart", "geo.render", "geo.figure", "geo.report", "geo.publish", "geo.feeds"},
    # The faces: the command line, the read API and the package's names.
    {"geo.cli", "geo.web", "geo.web.api", "geo.__main__", "geo"}
    # The web application of `crossings serve`, beside the command line.
    | {"geo.web.app", "geo.web.pages", "geo.web.session", "geo.web.views"},
]


def floor(module: str) -> int:
    return next(n for n, modules in enumerate(FLOORS) if module in modules)


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Return each import of a module on a higher floor than the importer."""
    return [(m, i) for m, found in graph.items() for i in found if floor(i) > floor(m)]


def test_every_module_has_a_floor():
    assert set(imports()) - set().union(*FLOORS) == set()


def test_no_module_imports_one_above_it():
    assert upward(imports()) == []


def test_the_floor_check_can_fail():
    assert upward({"geo.model": {"geo.store"}}) == [("geo.model", "geo.store")]


def long_functions(root: Path, limit: int = 80) -> list[str]:
    """Return each function of the package longer than ``limit`` lines (its docstring counts)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for item in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                length = item.end_lineno - item.lineno + 1
                if length > limit:
                    found.append(
                        f"{path.relative_to(root.parent)}:{item.lineno} {item.name} {length}"
                    )
    return found


def test_no_function_runs_over_80_lines():
    assert long_functions(GEO) == []


def test_the_length_check_can_fail(tmp_path):
    (tmp_path / "long.py").write_text("def f():\n" + "    x = 1\n" * 80, encoding="utf-8")
    assert long_functions(tmp_path) == [f"{tmp_path.name}/long.py:1 f 81"]


def test_the_code_passes_the_linter_with_its_rules_on():
    """Branches, statements, arguments and imports inside functions: the rules are on and met."""
    root = GEO.parent
    config = (root / "pyproject.toml").read_text(encoding="utf-8")
    ignored = re.search(r"^ignore = \[(.*)\]", config, re.MULTILINE).group(1)
    for rule in ("PLR0912", "PLR0913", "PLR0915", "PLC0415"):
        assert rule not in ignored
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "check", "geo", "tests", "bench", "docs"],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout
