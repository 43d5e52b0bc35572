"""Imports point down: each part of ``src/ragtune`` imports only from lower layers.

The layers, bottom first, follow ``ARCHITECTURE.md``: the shared vocabulary (types,
arms, registry, config), then the parts that touch documents and models, the project
that wires a folder to them, the stages, evaluation, then the experiment and the report
(siblings: the report reads run files and never imports the experiment), and the
entry points on top. Imports under ``if TYPE_CHECKING:`` are type hints, not
dependencies, and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ragtune

PACKAGE = Path(ragtune.__file__).parent

LAYERS: list[set[str]] = [
    {"errors"},
    {"_lazy", "_compat", "types", "jsonl", "machine", "progress", "plugins", "sampling", "kvcache"},
    {"arms"},
    {"registry"},
    {"config"},
    {"corpus", "llm", "index", "demo"},
    {"embed", "prompts"},
    {"retrieve", "ingest"},
    {"testing", "project"},
    {"ragtune"},  # the package root: Project and the shared types
    {"synth", "systems"},
    {"tune"},
    {"evaluate"},
    {"experiment", "report"},
    {"pipeline", "serve"},
    {"demo.runner"},
    {"cli"},
]
LAYER_OF = {unit: level for level, units in enumerate(LAYERS) for unit in units}
# Modules that sit above the rest of their package (the demo's world is data at the
# bottom; its end-to-end runner is the compare pipeline on that world).
SPLIT_UNITS = {"ragtune.demo.runner": "demo.runner"}


def unit_of(module: str) -> str:
    for prefix, unit in SPLIT_UNITS.items():
        if module == prefix or module.startswith(prefix + "."):
            return unit
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ragtune"


class _Imports(ast.NodeVisitor):
    """Every ``ragtune`` import in a module, outside ``if TYPE_CHECKING:`` blocks."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.found: list[tuple[str, int]] = []

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative: resolve against this module's package
            base = self.module.split(".")[: -node.level]
            name = ".".join([*base, node.module] if node.module else base)
        else:
            name = node.module or ""
        if name == "ragtune" or name.startswith("ragtune."):
            self.found.append((name, node.lineno))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("ragtune"):
                self.found.append((alias.name, node.lineno))


def module_name(path: Path) -> str:
    parts = ("ragtune", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def upward_imports() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        here = unit_of(module)
        visitor = _Imports(module)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        for target, line in visitor.found:
            there = unit_of(target)
            if there == here:
                continue
            if here not in LAYER_OF or there not in LAYER_OF:
                problems.append(
                    f"{path.relative_to(PACKAGE)}:{line}: {here} or {there} has no layer"
                )
            elif LAYER_OF[there] >= LAYER_OF[here]:
                problems.append(
                    f"{path.relative_to(PACKAGE)}:{line}: {here} (layer {LAYER_OF[here]}) "
                    f"imports {target} (layer {LAYER_OF[there]})"
                )
    return problems


def test_every_part_of_the_package_has_a_layer() -> None:
    units = {unit_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert units - set(LAYER_OF) == set()


def test_no_import_points_up_or_sideways() -> None:
    assert upward_imports() == []


def test_the_check_catches_an_upward_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checker itself: a report module importing the experiment is flagged."""
    fake = tmp_path / "ragtune"
    (fake / "report").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "report" / "__init__.py").write_text("from ragtune.experiment.recommend import x\n")
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    assert upward_imports() == [
        "report/__init__.py:1: report (layer 13) imports ragtune.experiment.recommend (layer 13)"
    ]
