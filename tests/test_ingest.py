"""Incremental ingestion through the Project API, with the hash embedder (no model)."""

from __future__ import annotations

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
