"""Functions in ``src/ragtune`` stay short enough to read as one idea.

A function over 80 lines usually mixes jobs (parse, decide, write); split it into named
phases. The demo's world generation is exempt: it is a long, flat list of the fictional
domain's facts, read as data.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ragtune

PACKAGE = Path(ragtune.__file__).parent
LIMIT = 80
EXEMPT = {("demo/world.py", "build_world")}


def _long_functions() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > LIMIT and (relative, node.name) not in EXEMPT:
                found.append(f"{relative}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_over_the_limit() -> None:
    assert _long_functions() == []


def test_the_check_sees_functions() -> None:
    # The walk reads the real package: the exempt world builder is long and is found.
    world = (PACKAGE / "demo" / "world.py").read_text(encoding="utf-8")
    builder = next(
        n
        for n in ast.walk(ast.parse(world))
        if isinstance(n, ast.FunctionDef) and n.name == "build_world"
    )
    assert builder.end_lineno is not None and builder.end_lineno - builder.lineno + 1 > LIMIT
