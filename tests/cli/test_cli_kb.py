"""The knowledge-base commands as a user runs them: a real `ragtune` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_ingest import write_docs

FAST_ENV = {
    "RAGTUNE_EMBED__BACKEND": "hash",
    "RAGTUNE_CORPUS__TOKENIZER": "words",
    "RAGTUNE_LLM__BACKEND": "scripted",
}


def ragtune(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragtune.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **FAST_ENV},
        timeout=300,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = ragtune("--help", cwd=tmp_path)
    assert out.returncode == 0
    for command in ("init", "ingest", "search", "ask", "index", "demo-corpus", "demo"):
        assert command in out.stdout


def test_init_ingest_twice_search_check(tmp_path: Path) -> None:
    write_docs(tmp_path / "docs", 4)
    assert ragtune("init", "kb", cwd=tmp_path).returncode == 0
    assert (tmp_path / "kb" / "ragtune.toml").is_file() and (
        tmp_path / "kb" / ".ragtune" / "store"
    ).is_dir()
    kb = tmp_path / "kb"
    first = json.loads(ragtune("ingest", "../docs", "--json", cwd=kb).stdout)
    assert (first["added"], first["unchanged"], first["failed"]) == (4, 0, 0)
    second = json.loads(ragtune("ingest", "../docs", "--json", cwd=kb).stdout)
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 4)
    table = ragtune("ingest", "../docs", cwd=kb)
    assert "unchanged" in table.stdout and table.returncode == 0

    found = json.loads(ragtune("search", "P2 kilograms", "-k", "2", "--json", cwd=kb).stdout)
    assert found["mode"] == "hybrid" and len(found["hits"]) == 2
    assert found["hits"][0]["chunk"]["doc_id"] == "p2.md"
    assert {"doc_id", "source", "start_char", "end_char", "text"} <= set(found["hits"][0]["chunk"])
    filtered = json.loads(
        ragtune(
            "search", "kilograms", "--filter", "doc_id=p3.md", "--mode", "bm25", "--json", cwd=kb
        ).stdout
    )
    assert {h["chunk"]["doc_id"] for h in filtered["hits"]} == {"p3.md"}
    # from another folder, with --project
    elsewhere = json.loads(
        ragtune("index", "check", "--project", str(kb), "--json", cwd=tmp_path).stdout
    )
    assert elsewhere["ok"] and elsewhere["documents"] == 4


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    ragtune("init", "kb", cwd=tmp_path)
    kb = tmp_path / "kb"
    missing = ragtune("search", "anything", cwd=kb)
    assert (
        missing.returncode == 1
        and "ragtune ingest" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    asked = ragtune("ask", "anything", cwd=kb)
    assert asked.returncode == 1 and "ragtune ingest" in asked.stderr
    typo = ragtune("search", "x", "--set", "retrieve.topk=3", cwd=kb)
    assert (
        typo.returncode == 1 and "retrieve.topk" in typo.stderr and "Traceback" not in typo.stderr
    )
    (kb / "ragtune.toml").write_text("[retrieve]\nmode = 'fuzzy'\n")
    bad = ragtune("search", "x", cwd=kb)
    assert bad.returncode == 1 and "ragtune.toml" in bad.stderr and "retrieve.mode" in bad.stderr
    nothing = ragtune("ingest", "no-such-folder", cwd=tmp_path)
    assert nothing.returncode == 1 and "no-such-folder" in nothing.stderr


@pytest.mark.parametrize("arm", ["base", "rag"])
def test_ask_json(tmp_path: Path, arm: str) -> None:
    write_docs(tmp_path / "docs", 3)
    ragtune("init", "kb", cwd=tmp_path)
    kb = tmp_path / "kb"
    ragtune("ingest", "../docs", cwd=kb)
    answer = json.loads(
        ragtune("ask", "How much does the P1 weigh?", "--arm", arm, "--json", cwd=kb).stdout
    )
    assert answer["arm"] == arm and answer["text"]
    if arm == "rag":
        assert answer["citations"] and answer["hits"]
