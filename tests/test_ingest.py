"""Incremental ingestion through the Project API, with the hash embedder (no model)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.project import Project

FAST = {
    "embed": {"backend": "hash"},
    "corpus": {"tokenizer": "words", "chunk_size_tokens": 64, "chunk_overlap_tokens": 8},
}


def write_docs(folder: Path, n: int = 6) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = "\n\n".join(
            f"Paragraph {p} of product P{i}: the P{i} model weighs {i * 10 + p} kilograms and ships from Oslo."
            for p in range(6)
        )
        (folder / f"p{i}.md").write_text(f"# Product P{i}\n\n{body}\n")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project.init(tmp_path / "proj", FAST)


def test_second_ingest_is_all_unchanged(project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs)
    first = project.ingest([docs])
    assert (first.added, first.updated, first.deleted, first.unchanged, first.failed) == (
        6,
        0,
        0,
        0,
        0,
    )
    assert first.chunks_embedded > 6
    second = project.ingest([docs])
    assert (second.added, second.updated, second.deleted, second.unchanged) == (0, 0, 0, 6)
    assert second.chunks_embedded == 0
    assert project.check().ok


def test_changed_added_and_removed_files(project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs)
    project.ingest([docs])
    embedder = project.embedder
    before = embedder.texts_embedded  # type: ignore[attr-defined]
    (docs / "p1.md").write_text("# Product P1\n\nThe P1 now weighs 999 kilograms.\n")
    (docs / "p2.md").unlink()
    (docs / "new.md").write_text("# New\n\nA brand new product, the Q7, ships from Bergen.\n")
    report = project.ingest([docs])
    assert (report.added, report.updated, report.deleted, report.unchanged) == (1, 1, 1, 4)
    # Only the two touched documents were embedded: one chunk each.
    assert embedder.texts_embedded - before == report.chunks_embedded == 2  # type: ignore[attr-defined]
    assert project.search("P1 weighs 999", k=1, mode="bm25")[0].chunk.doc_id == "p1.md"
    assert all(h.chunk.doc_id != "p2.md" for h in project.search("P2 kilograms", k=10))
    assert project.check().ok


def test_documents_from_other_folders_are_kept(project: Project, tmp_path: Path) -> None:
    write_docs(tmp_path / "a", 2)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "other.txt").write_text("Support hours are nine to five in Tromso.")
    project.ingest([tmp_path / "a"])
    project.ingest([tmp_path / "b"])
    assert len(project.store.document_hashes()) == 3
    mirrored = project.ingest([tmp_path / "b"], mirror=True)
    assert mirrored.deleted == 2 and list(project.store.document_hashes()) == ["other.txt"]


def test_bad_files_are_reported_and_the_rest_indexed(project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 3)
    (docs / "empty.txt").write_text("")
    (docs / "binary.pdf").write_bytes(b"\x00\x01\x02 not a pdf \xff" * 50)
    (docs / "latin.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1") + b"\x00\x9f" * 3)
    report = project.ingest([docs])
    assert report.added == 3
    failed = {Path(f["path"]).name: f["reason"] for f in report.failures}
    assert {"empty.txt", "binary.pdf", "latin.txt"} <= set(failed)
    assert all(reason for reason in failed.values())
    assert report.failed == len(report.failures)


def test_a_file_that_breaks_keeps_its_previous_version(project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 2)
    project.ingest([docs])
    (docs / "p0.md").write_bytes(b"\x00" * 100)
    report = project.ingest([docs])
    assert report.failed == 1 and report.deleted == 0
    assert "p0.md" in project.store.document_hashes()


def test_changing_chunk_settings_reindexes_everything(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 3)
    project = Project.init(tmp_path / "proj", FAST)
    project.ingest([docs])
    chunks_before = project.store.stats()["chunks"]
    project.close()
    bigger = Project.open(tmp_path / "proj", {"corpus": {"chunk_size_tokens": 256}})
    with pytest.raises(Exception, match="other embedding or chunking settings"):
        bigger.search("P1", k=1)
    report = bigger.ingest([docs])
    assert report.reindexed and report.unchanged == 3
    assert bigger.store.stats()["chunks"] < chunks_before
    assert bigger.check().ok
    assert bigger.search("P1 kilograms", k=1)[0].chunk.doc_id == "p1.md"


def test_changing_the_embedder_never_mixes_vectors(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 2)
    project = Project.init(tmp_path / "proj", FAST)
    project.ingest([docs])
    project.close()
    other = Project.open(tmp_path / "proj", {"embed": {"backend": "hash", "dim": 32}})
    report = other.ingest([docs])
    assert report.reindexed
    assert other.store.stats()["dim"] == 32
    assert other.check().ok


def test_search_without_index_says_to_ingest(project: Project) -> None:
    with pytest.raises(Exception, match="ragtune ingest"):
        project.search("anything")


def test_jsonl_documents(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text(
        '{"id": "faq-1", "text": "Returns are accepted within 45 days.", "team": "support"}\n'
        '{"id": "faq-2", "text": "The Oslo office opens at 8.", "team": "ops"}\n'
    )
    report = project.ingest([path])
    assert report.added == 2
    hits = project.search("returns accepted", k=1, filters={"team": "support"})
    assert hits and hits[0].chunk.text.startswith("Returns")


def test_upsert_and_delete_documents_by_api(project: Project) -> None:
    from ragtune.types import Document

    report = project.upsert_documents(
        [Document(id="note-1", text="The Q9 drone flies for 41 minutes.")]
    )
    assert report.added == 1
    assert project.search("Q9 drone flies", k=1)[0].chunk.doc_id == "note-1"
    again = project.upsert_documents(
        [Document(id="note-1", text="The Q9 drone flies for 41 minutes.")]
    )
    assert again.unchanged == 1 and again.chunks_embedded == 0
    changed = project.upsert_documents(
        [Document(id="note-1", text="The Q9 drone now flies for 55 minutes.")]
    )
    assert changed.updated == 1
    assert "55" in project.search("Q9 drone flies", k=1)[0].chunk.text
    assert project.delete_documents(["note-1", "nope"]) == 1
    assert project.store.document_hashes() == {}


# -- hardening (issue 14, items 11-19) ------------------------------------------------
REPO = Path(__file__).resolve().parents[1]


def run_killed(
    project_dir: Path, docs: Path, kill_at: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``ragtune ingest docs`` in a subprocess that SIGKILLs itself at ``kill_at``."""
    full_env = {
        **os.environ,
        "RAGTUNE_EMBED__BACKEND": "hash",
        "RAGTUNE_CORPUS__TOKENIZER": "words",
        "RAGTUNE_TEST_KILL_AT": kill_at,
        "RAGTUNE_TEST_WRITE_GROUP": "4",
        **(env or {}),
    }
    command = [sys.executable, "-m", "tests.index.killer", "ingest", str(docs)]
    command += ["--project", str(project_dir), "--json", *args]
    return subprocess.run(
        command, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=600
    )


def test_a_symlink_loop_is_reported_for_its_paths_and_the_rest_indexed(
    project: Project, tmp_path: Path
) -> None:
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.md").write_text("hi there, a real file")
    (docs / "c.md").symlink_to("b.md")
    (docs / "b.md").symlink_to("c.md")
    report = project.ingest([docs])
    assert report.added == 1 and list(project.store.document_hashes()) == ["a.md"]
    reasons = {Path(f["path"]).name: f["reason"] for f in report.failures}
    assert set(reasons) == {"b.md", "c.md"}
    assert all("symlink loop" in reason for reason in reasons.values())
    again = project.ingest([docs / "c.md"])  # named directly, too
    assert again.failed == 1 and again.deleted == 0


def test_a_folder_that_becomes_unreadable_keeps_its_documents(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ragtune.corpus.loaders.walk as walk

    docs = tmp_path / "d"
    write_docs(docs, 2)
    write_docs(docs / "sub", 2)
    first = project.ingest([docs])
    assert first.added == 4
    real_scandir = walk.os.scandir

    def scandir(path: object) -> object:
        if str(path) == str(docs / "sub"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(walk.os, "scandir", scandir)
    report = project.ingest([docs], mirror=True)
    assert (report.deleted, report.unchanged, report.failed) == (0, 2, 1)
    assert report.failures == [
        {"path": str(docs / "sub"), "reason": "unreadable folder: permission denied"}
    ]
    assert sorted(project.store.document_hashes()) == ["p0.md", "p1.md", "sub/p0.md", "sub/p1.md"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list a chmod 000 folder")
def test_a_chmod_000_folder_keeps_its_documents(project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "d"
    write_docs(docs / "sub", 2)
    project.ingest([docs])
    (docs / "sub").chmod(0)
    try:
        report = project.ingest([docs])
    finally:
        (docs / "sub").chmod(0o755)
    assert report.deleted == 0 and len(project.store.document_hashes()) == 2


@pytest.mark.integration
def test_a_killed_reindex_then_deletions_does_not_bring_documents_back(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 12)
    project_dir = tmp_path / "proj"
    Project.init(project_dir, FAST).ingest([docs])
    # Change the chunking; the rebuild is killed once store.next holds documents.
    killed = run_killed(
        project_dir, docs, "write:3:store.next", env={"RAGTUNE_CORPUS__CHUNK_SIZE_TOKENS": "48"}
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    sibling = project_dir / ".ragtune" / "store.next" / "store.sqlite"
    with sqlite3.connect(sibling) as db:
        in_sibling = {r[0] for r in db.execute("SELECT id FROM documents")}
    assert 3 <= len(in_sibling) < 12, "the kill must land while the sibling fills"
    deleted = sorted(in_sibling)[:3]
    for doc_id in deleted:
        (docs / doc_id).unlink()
    bigger = Project.open(project_dir, {"corpus": {"chunk_size_tokens": 48}})
    report = bigger.ingest([docs])
    assert report.reindexed and report.deleted == 3
    assert sorted(bigger.store.document_hashes()) == sorted(p.name for p in docs.iterdir())
    assert len(bigger.store.document_hashes()) == 9 and bigger.check().ok


def test_moving_the_folder_keeps_ids_and_deletions_still_work(
    project: Project, tmp_path: Path
) -> None:
    (tmp_path / "m").mkdir()
    write_docs(tmp_path / "m" / "A", 4)
    project.ingest([tmp_path / "m" / "A"])
    embedded = project.embedder.texts_embedded  # type: ignore[attr-defined]
    os.rename(tmp_path / "m" / "A", tmp_path / "m" / "B")
    (tmp_path / "m" / "B" / "p3.md").unlink()  # deleted in the same move
    moved = project.ingest([tmp_path / "m" / "B"])
    assert (moved.added, moved.updated, moved.unchanged, moved.deleted) == (0, 0, 3, 1)
    assert project.embedder.texts_embedded == embedded  # type: ignore[attr-defined]  # no re-embedding
    sources = {r.id: r.source for r in project.store.list_documents()}
    assert sources == {f"p{i}.md": str(tmp_path / "m" / "B" / f"p{i}.md") for i in range(3)}
    assert project.search("P1 kilograms", k=1)[0].chunk.source == sources["p1.md"]
    (tmp_path / "m" / "B" / "p0.md").unlink()
    after = project.ingest([tmp_path / "m" / "B"])
    assert after.deleted == 1 and sorted(project.store.document_hashes()) == ["p1.md", "p2.md"]


def test_the_same_relative_path_from_two_folders_is_reported_not_overwritten(
    project: Project, tmp_path: Path
) -> None:
    for name, weight in (("c1", 10), ("c2", 20)):
        (tmp_path / name / "docs").mkdir(parents=True)
        (tmp_path / name / "docs" / "spec.md").write_text(f"# Spec\n\nThe unit weighs {weight} kg.")
        (tmp_path / name / "docs" / f"only-{name}.md").write_text(f"# Only in {name}\n\nYes.")
    project.ingest([tmp_path / "c1" / "docs"])
    report = project.ingest([tmp_path / "c2" / "docs"])
    assert (report.added, report.updated, report.failed) == (1, 0, 1)
    assert report.failures[0]["path"] == str(tmp_path / "c2" / "docs" / "spec.md")
    assert (
        "already indexed from " + str(tmp_path / "c1" / "docs" / "spec.md")
        in (report.failures[0]["reason"])
    )
    spec = project.store.get_document("spec.md")
    assert spec is not None and "10 kg" in spec.text
    assert sorted(project.store.document_hashes()) == ["only-c1.md", "only-c2.md", "spec.md"]


@pytest.mark.parametrize("mirror", [False, True])
def test_a_jsonl_file_with_a_bad_line_keeps_good_records_and_drops_removed_ones(
    project: Project, tmp_path: Path, mirror: bool
) -> None:
    path = tmp_path / "kb" / "faq.jsonl"
    path.parent.mkdir()
    records = [{"id": f"q{i}", "text": f"Answer number {i} is {i * 7}."} for i in range(4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert project.ingest([path.parent]).added == 4
    lines = [json.dumps(records[0]), "{not json", json.dumps(records[2]), json.dumps(records[3])]
    path.write_text("\n".join(lines) + "\n")  # q1 removed, a bad line in its place
    report = project.ingest([path.parent], mirror=mirror)
    assert report.failures == [
        {
            "path": str(path),
            "reason": "line 2: invalid JSON (Expecting property name enclosed"
            " in double quotes at column 2)",
        }
    ]
    assert report.deleted == 1 and report.unchanged == 3
    assert sorted(project.store.document_hashes()) == [
        "faq.jsonl#q0",
        "faq.jsonl#q2",
        "faq.jsonl#q3",
    ]


def test_title_and_metadata_only_edits_are_reindexed(project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    page = "<html><head><title>{}</title></head><body><p>The X9 fan spins at 900 rpm.</p></body></html>"
    (docs / "fan.html").write_text(page.format("Fan manual"))
    (docs / "kb.jsonl").write_text(json.dumps({"id": "k1", "text": "Hallo Welt.", "lang": "en"}))
    assert project.ingest([docs]).added == 2
    (docs / "fan.html").write_text(page.format("X9 fan manual, 2nd edition"))
    (docs / "kb.jsonl").write_text(json.dumps({"id": "k1", "text": "Hallo Welt.", "lang": "de"}))
    report = project.ingest([docs])
    assert (report.updated, report.unchanged) == (2, 0)
    assert project.search("fan rpm", k=1)[0].chunk.title == "X9 fan manual, 2nd edition"
    hits = project.search("Hallo Welt", k=3, filters={"lang": "de"})
    assert [h.chunk.doc_id for h in hits] == ["kb.jsonl#k1"]
    assert project.search("Hallo Welt", k=3, filters={"lang": "en"}) == []


@pytest.mark.integration
def test_good_files_are_committed_before_a_huge_one_and_a_rerun_resumes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 5)
    # 3 MB of text: three chunking windows and thousands of chunks.
    sentence = "The huge log line {} says the pump ran at {} bar for a while. "
    (docs / "huge.txt").write_text("".join(sentence.format(i, i % 97) for i in range(50_000)))
    project_dir = tmp_path / "proj"
    Project.init(project_dir, FAST)
    # Killed as the huge file's chunks are about to be written.
    killed = run_killed(project_dir, docs, "before:huge.txt")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    project = Project.open(project_dir)
    assert len(project.store.document_hashes()) == 5  # the five small files, committed first
    assert project.check().ok
    project.close()
    resumed = Project.open(project_dir)
    report = resumed.ingest([docs])
    assert (report.added, report.unchanged) == (1, 5)
    chunks = [c for c in resumed.store.iter_chunks() if c.doc_id == "huge.txt"]
    text = (docs / "huge.txt").read_text().strip()
    assert len(chunks) > 1000 and max(len(c.text) for c in chunks) < 2_000
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(text[c.start_char : c.end_char] == c.text for c in chunks[:: len(chunks) // 50])
    assert chunks[-1].end_char == len(text) and resumed.check().ok


def test_a_documents_hash_is_what_the_store_records(project: Project, tmp_path: Path) -> None:
    from ragtune.corpus import iter_load

    docs = tmp_path / "docs"
    write_docs(docs, 2)
    project.ingest([docs])
    loaded = {d.id: d.hash for result in iter_load([docs]) for d in result.documents}
    assert loaded == project.store.document_hashes()
