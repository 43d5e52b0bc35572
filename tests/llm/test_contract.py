"""The generator contract ships in the library, and every built-in backend runs it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from ragtune.registry import generators

HERE = Path(__file__).parent
CONTRACTED = {
    "transformers": "TestTransformersContract",
    "openai": "TestOpenAIContract",
    "scripted": "TestScriptedContract",
}


def _contract_subclasses() -> set[str]:
    """Classes in tests/llm that subclass GeneratorContract (read, not imported: the
    transformers tests skip at import where the default model is missing)."""
    found = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id == "GeneratorContract" for base in node.bases
            ):
                found.add(node.name)
    return found


def test_every_built_in_generator_has_a_contract_test() -> None:
    built_in = {
        name
        for name in generators.names()
        if getattr(generators.get(name), "__module__", "").startswith("ragtune.")
    }
    assert built_in == set(CONTRACTED)
    assert set(CONTRACTED.values()) <= _contract_subclasses()


def test_importing_ragtune_does_not_import_pytest() -> None:
    code = (
        "import sys, ragtune, ragtune.llm, ragtune.testing, ragtune.testing.scripted_generator\n"
        "assert 'pytest' not in sys.modules, 'pytest imported'\n"
        "import ragtune.testing.generator_contract as contract\n"
        "assert 'pytest' in sys.modules and contract.GeneratorContract\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
