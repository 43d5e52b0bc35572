"""Counts, formats, determinism, the manifest, folder safety, the loaders and the CLI command."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ragtune.cli.demo_corpus import demo_corpus
from ragtune.demo import DemoCorpusError, DemoCorpusInfo, load_qa, write_demo_corpus
from ragtune.errors import DataError, RagtuneError


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("which", ["corpus_v1", "corpus_v2"])
def test_counts_and_formats_within_spec(which: str, request: pytest.FixtureRequest) -> None:
    info: DemoCorpusInfo = request.getfixturevalue(which)
    assert 150 <= info.n_documents <= 300
    assert 120 <= info.n_facts <= 200
    assert info.n_questions >= 3 * info.n_facts
    assert set(info.by_format) == {"md", "txt", "html", "pdf", "docx"}
    assert min(info.by_format.values()) >= 10
    manifest = json.loads((info.out / "manifest.json").read_text(encoding="utf-8"))
    on_disk = set(_files(info.docs_dir))
    assert on_disk == set(manifest["documents"])
    assert {p for p in _files(info.out) if not p.startswith("docs/")} == set(
        manifest["metadata_files"]
    )
    assert Counter(p.rsplit(".", 1)[1] for p in on_disk) == info.by_format
    assert manifest["n_facts"] == info.n_facts and manifest["n_questions"] == info.n_questions
    assert (manifest["version"], manifest["seed"]) == (info.version, 0)


@pytest.mark.parametrize("version", [1, 2])
def test_same_seed_same_bytes_and_fast(
    version: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    reference: DemoCorpusInfo = request.getfixturevalue(f"corpus_v{version}")
    # CPU time, not wall time: other processes on a busy machine must not fail this.
    start = time.process_time()
    write_demo_corpus(tmp_path / "again", version=version, seed=0)
    assert time.process_time() - start < 10
    assert _files(tmp_path / "again") == _files(reference.out)


def test_other_seed_other_world_in_an_empty_existing_folder(
    tmp_path: Path, corpus_v1: DemoCorpusInfo
) -> None:
    info = write_demo_corpus(tmp_path, version=1, seed=7)
    assert info.out == tmp_path
    ours = {q.id: q.answers for q in load_qa(info.out)}
    reference = {q.id: q.answers for q in load_qa(corpus_v1.out)}
    assert info.company != corpus_v1.company
    assert ours != reference
    assert (tmp_path / "qa.jsonl").read_bytes() != (corpus_v1.out / "qa.jsonl").read_bytes()


def test_refuses_a_folder_that_is_not_a_demo_corpus(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DemoCorpusError, match="not a ragtune demo corpus") as caught:
        write_demo_corpus(tmp_path)
    assert isinstance(caught.value, RagtuneError)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    (tmp_path / "manifest.json").write_text('{"generator": "someone else"}', encoding="utf-8")
    with pytest.raises(DemoCorpusError):
        write_demo_corpus(tmp_path)


def test_load_qa_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        '{"id": "a", "question": "q?", "answers": ["x"]}\n{"id": "b"}\n', encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"qa.jsonl:2: missing field\(s\) question, answers"):
        load_qa(path)


def test_cli_command_json_and_table(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(demo_corpus)
    runner = CliRunner()
    result = runner.invoke(app, [str(tmp_path / "v2"), "--version", "2", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["version"] == 2 and info["seed"] == 1 and info["n_changed_facts"] > 0
    result = runner.invoke(app, [str(tmp_path / "v1")])
    assert result.exit_code == 0, result.output
    assert "questions" in result.output
    result = runner.invoke(app, [str(tmp_path / "v3"), "--version", "3"])
    assert result.exit_code != 0
