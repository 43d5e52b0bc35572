"""Issue 14's ingest items that benchmarks/hardening_audit.md found without a test (or
with only part of one), and what it found holding, in process with the hash embedder:
the document checks on ``ragtune ingest``, 31 hostile files in one folder, v1 -> v2
``--mirror`` counts against a diff of the folders, two ingests at once, searches during
an ingest, results that do not depend on ingest history, and bounded writes."""

from __future__ import annotations

import filecmp
import json
import os
import random
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ragtune.ingest as ingest_module
import ragtune.project as project_module
from ragtune.project import Project
from tests.corpus.conftest import write_docx, write_pdf
from tests.corpus.test_budget import paragraph_bomb
from tests.test_ingest import FAST, write_docs


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project.init(tmp_path / "proj", FAST)


def failures_by_name(report: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for failure in report.failures:
        found.setdefault(Path(failure["path"]).name, []).append(failure["reason"])
    return found


# -- 6 (and 5): ingest runs the checks the server runs ---------------------------------
BAD_RECORDS = [
    ({"id": "s1", "text": "bad \ud800 text"}, "text: a lone surrogate"),
    ({"id": "s2", "text": "fine", "title": "bad \udc00"}, "title: a lone surrogate"),
    ({"id": "s3", "text": "fine", "meta": {"k": "\ud800"}}, "meta.k: a lone surrogate"),
    ({"id": "../../../etc/passwd", "text": "x"}, "'.' or '..' path segments"),
    ({"id": "a\x00b", "text": "x"}, "control characters"),
    ({"id": "x" * 10_000, "text": "x"}, "longer than 512"),
]


def test_ingest_refuses_what_the_server_refuses_and_keeps_the_rest(
    project: Project, tmp_path: Path
) -> None:
    """A JSONL record the API could not store or list (its id, a lone surrogate) is
    reported with its file and line and skipped; it never crashes the ingest."""
    kb = tmp_path / "kb"
    kb.mkdir()
    records = [{"id": "ok", "text": "The F1 ships from Oslo."}] + [r for r, _ in BAD_RECORDS]
    # json.dumps escapes a lone surrogate as \\ud800, as any JSON writer would.
    (kb / "faq.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (kb / "fine.md").write_text("# Fine\n\nThe G2 ships from Bergen.")
    report = project.ingest([kb])
    assert sorted(project.store.document_hashes()) == ["faq.jsonl#ok", "fine.md"]
    reasons = failures_by_name(report)["faq.jsonl"]
    assert len(reasons) == len(BAD_RECORDS) == report.failed
    for number, ((_, words), reason) in enumerate(zip(BAD_RECORDS, reasons, strict=True), 2):
        assert reason.startswith(f"line {number}: ") and words in reason, reason
    # What was stored lists as UTF-8 JSON, as GET /v1/documents sends it.
    listing = [r.__dict__ for r in project.store.list_documents()]
    json.dumps(listing, ensure_ascii=False, default=str).encode("utf-8")
    assert project.check().ok


def test_a_file_whose_every_document_is_refused_keeps_its_previous_version(
    project: Project, tmp_path: Path
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "one.jsonl").write_text(json.dumps({"id": "r", "text": "The R1 ships from Riga."}))
    project.ingest([kb])
    (kb / "one.jsonl").write_text(json.dumps({"id": "r", "text": "The R1 \ud800 ships."}))
    report = project.ingest([kb], mirror=True)
    assert report.deleted == 0 and report.failed == 1
    stored = project.store.get_document("one.jsonl#r")
    assert stored is not None and "Riga" in stored.text


@pytest.mark.skipif(os.sep != "/", reason="needs a file system that takes any bytes")
def test_a_file_name_that_is_not_utf8_is_skipped_not_a_crash(
    project: Project, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 2)
    with open(os.path.join(os.fsencode(docs), b"caf\xe9.md"), "wb") as handle:
        handle.write(b"# Cafe\n\nThe C1 ships from Lyon.")
    report = project.ingest([docs])
    assert sorted(project.store.document_hashes()) == ["p0.md", "p1.md"]
    (failure,) = report.failures
    assert os.fsencode(failure["path"]).endswith(b"caf\xe9.md")
    assert "lone surrogate" in failure["reason"]


# -- held: 31 hostile files in one folder ----------------------------------------------
def hostile_folder(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Write hostile files; return (name -> text an indexed one must hold, name -> a
    word the reason of a skipped one must hold). A name in both may go either way."""
    folder.mkdir()
    indexed: dict[str, str] = {}
    skipped: dict[str, str] = {}

    def write(name: str, data: bytes | str) -> Path:
        path = folder / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return path

    write("empty.md", b"")
    skipped["empty.md"] = "empty file"
    write("blank.txt", " \n\t\n\n")
    skipped["blank.txt"] = "no text"
    write("nul.txt", b"text \x00\x00 more")
    skipped["nul.txt"] = "binary content"
    write("controls.md", bytes(range(1, 32)) * 10)
    skipped["controls.md"] = "binary content"
    write("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    skipped["image.md"] = "binary content"
    rng = random.Random(0)
    write("garbage.txt", b"header " + bytes(rng.randrange(0x80, 0x100) for _ in range(400)))
    skipped["garbage.txt"] = "not valid UTF-8"
    write("junk.pdf", bytes(rng.randrange(256) for _ in range(2000)))
    skipped["junk.pdf"] = "PDF"
    write("text.pdf", "just some text, not a PDF at all")
    skipped["text.pdf"] = "PDF"
    good_pdf = write_pdf(folder / "whole.pdf", ["The W1 pump ships from Oslo."])
    indexed["whole.pdf"] = "W1 pump ships from Oslo"
    write("truncated.pdf", good_pdf.read_bytes()[: good_pdf.stat().st_size // 3])
    indexed["truncated.pdf"] = skipped["truncated.pdf"] = ""  # pypdf may recover some
    write_pdf(folder / "locked.pdf", ["Secret plans."], user_password="pw")
    skipped["locked.pdf"] = "encrypted PDF"
    write_pdf(folder / "scan.pdf", ["", ""])
    skipped["scan.pdf"] = "no extractable text"
    good_docx = write_docx(folder / "whole.docx", [("p", "The W2 valve ships from Pisa.")])
    indexed["whole.docx"] = "W2 valve ships from Pisa"
    write("truncated.docx", good_docx.read_bytes()[: good_docx.stat().st_size // 2])
    skipped["truncated.docx"] = "DOCX"
    write("random.docx", bytes(rng.randrange(256) for _ in range(3000)))
    skipped["random.docx"] = "DOCX"
    with zipfile.ZipFile(folder / "zip.docx", "w") as archive:
        archive.writestr("hello.txt", "hi")
    skipped["zip.docx"] = "DOCX"
    paragraph_bomb(folder / "bomb.docx", 100_001)  # the 93 KB, 15-minute .docx, in kind
    skipped["bomb.docx"] = "corpus.max_elements"
    os.mkfifo(folder / "pipe.txt")
    skipped["pipe.txt"] = "not a regular file"
    (folder / "dangling.md").symlink_to(folder / "nowhere.md")
    skipped["dangling.md"] = "broken symlink"
    (folder / "loop-a.md").symlink_to("loop-b.md")
    (folder / "loop-b.md").symlink_to("loop-a.md")
    skipped["loop-a.md"] = skipped["loop-b.md"] = "symlink loop"
    write("nested.html", "<div>" * 100_000 + "deep <b>text</b>" + "</div>" * 100_000)
    indexed["nested.html"] = "deep text"
    skipped["nested.html"] = "corpus.max_elements"
    write("deep.html", "<div>" * 5000 + "The D5 dial is <b>deep</b>." + "</div>" * 5000)
    indexed["deep.html"] = "The D5 dial is deep."
    write("script.html", "<html><script>only()</script><style>p{}</style></html>")
    skipped["script.html"] = "no text"
    write("bad.jsonl", "{not json\n[1, 2]\n")
    skipped["bad.jsonl"] = "invalid JSON"
    write("latin1.txt", "The café crème costs 4 €.".encode("cp1252"))
    indexed["latin1.txt"] = "The café crème costs 4 €."
    text = "# Ångström guide\n\nThe X200 ships from Tromsø."
    write("bom16.md", b"\xff\xfe" + text.encode("utf-16-le"))
    indexed["bom16.md"] = text.split("\n")[-1]
    write("nobom16.md", text.encode("utf-16-be"))
    indexed["nobom16.md"] = text.split("\n")[-1]
    write("bom8.md", b"\xef\xbb\xbf" + text.encode())
    indexed["bom8.md"] = "# Ångström guide"
    write("crlf.md", "# CRLF\r\n\r\nThe C3 ships\r\nfrom Cork.\r\n")
    indexed["crlf.md"] = "ships\nfrom Cork."
    write("one-bad-byte.txt", "The B7 café ".encode() + b"\xff ships from Bari.")
    indexed["one-bad-byte.txt"] = "café \ufffd ships from Bari."
    write("long-word.txt", "x" * 200_000)
    indexed["long-word.txt"] = "x" * 1000
    write("vertical-tab.md", "# Odd\n\nA file\x0bwith a vertical tab.")
    indexed["vertical-tab.md"] = "with a vertical tab"
    with open(os.path.join(os.fsencode(folder), b"latin-\xe9.md"), "wb") as handle:
        handle.write(b"# Named in Latin-1\n\nThe name is not UTF-8.")
    skipped[os.fsdecode(b"latin-\xe9.md")] = "lone surrogate"
    return indexed, skipped


def test_31_hostile_files_are_skipped_with_reasons_or_indexed_correctly(
    project: Project, tmp_path: Path
) -> None:
    folder = tmp_path / "hostile"
    indexed, skipped = hostile_folder(folder)
    names = {name for name in os.listdir(folder) if not name.startswith(".")}
    assert len(names) >= 31 and names == set(indexed) | set(skipped)
    started = time.monotonic()
    report = project.ingest([folder])
    assert time.monotonic() - started < 120  # nothing stalls the ingest
    documents = {doc.id: doc for doc in project.store.iter_documents()}
    failed = failures_by_name(report)
    for name in sorted(names):
        if name in documents and name in indexed:
            assert indexed[name] in documents[name].text, (name, documents[name].text[:200])
        else:
            assert name in failed and name in skipped, (name, sorted(documents), failed)
            assert all(reason.strip() for reason in failed[name])
            assert any(skipped[name] in reason for reason in failed[name]), (name, failed[name])
    assert failed["one-bad-byte.txt"] == [
        "1 invalid UTF-8 byte sequence(s), first at byte 13, replaced by U+FFFD;"
        " the rest is indexed"
    ]
    assert documents["latin1.txt"].meta["encoding"] == "cp1252"
    chunks = [c for c in project.store.iter_chunks() if c.doc_id == "long-word.txt"]
    assert len(chunks) > 100 and max(len(c.text) for c in chunks) <= 16 * 64
    assert report.failed == len(report.failures) and project.check().ok
    again = project.ingest([folder])
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)
    assert again.failures == report.failures


# -- held: v1 -> v2 with --mirror counts what diff -r shows ------------------------------
def test_v1_to_v2_mirror_counts_match_a_diff_of_the_folders(
    project: Project, tmp_path: Path
) -> None:
    from ragtune.demo import write_demo_corpus

    write_demo_corpus(tmp_path / "v1", version=1, seed=0)
    write_demo_corpus(tmp_path / "v2", version=2, seed=0)
    old, new = tmp_path / "v1" / "docs", tmp_path / "v2" / "docs"

    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    both = files(old) & files(new)
    differ = {f for f in both if not filecmp.cmp(old / f, new / f, shallow=False)}
    first = project.ingest([old])
    assert (first.added, first.failed) == (len(files(old)), 0)
    report = project.ingest([new], mirror=True)
    counts = (report.added, report.updated, report.deleted, report.unchanged, report.failed)
    expected = (len(files(new) - both), len(differ), len(files(old) - both), len(both - differ), 0)
    assert counts == expected
    assert sorted(project.store.document_hashes()) == sorted(files(new))
    assert project.check().ok


# -- held: two ingests at once run one after the other ---------------------------------
def test_two_concurrent_ingests_are_serialised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Project.init(tmp_path / "proj", FAST).close()
    for name in ("a", "b"):
        write_docs(tmp_path / name, 3)
    spans: list[tuple[float, float]] = []
    real_sync = project_module.sync_paths

    def slow_sync(*args: Any, **kwargs: Any) -> Any:
        entered = time.monotonic()
        time.sleep(0.3)  # a window the other ingest would run in, if it could
        try:
            return real_sync(*args, **kwargs)
        finally:
            spans.append((entered, time.monotonic()))

    monkeypatch.setattr(project_module, "sync_paths", slow_sync)
    start = threading.Barrier(2)
    reports: dict[str, Any] = {}

    def ingest(name: str) -> None:
        project = Project.open(tmp_path / "proj")
        start.wait()
        reports[name] = project.ingest([tmp_path / name])
        project.close()

    threads = [threading.Thread(target=ingest, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(reports) == ["a", "b"] and len(spans) == 2
    (_, first_out), (second_in, _) = sorted(spans)
    assert second_in >= first_out, spans  # the second started after the first ended
    final = Project.open(tmp_path / "proj")
    assert len(final.store.document_hashes()) == 3  # the same relative names: one kept
    assert sum(r.added for r in reports.values()) == 3
    assert sum(r.failed for r in reports.values()) == 3  # the other folder's, reported
    assert final.check().ok


# -- held: searches during an ingest -------------------------------------------------
def test_105_searches_during_an_ingest_all_succeed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 10)
    writer = Project.init(tmp_path / "proj", FAST)
    writer.ingest([docs])
    write_docs(docs, 130)  # 120 new documents, each its own write
    monkeypatch.setattr(ingest_module, "WRITE_GROUP_CHUNKS", 2)  # a write per document
    reader = Project.open(tmp_path / "proj")
    searches: list[int] = []
    errors: list[BaseException] = []
    embed = writer.embedder.embed
    done = threading.Event()

    def paced_embed(texts: Any) -> np.ndarray:
        # Each write waits for one more search: the searches run inside the ingest.
        wait_until = len(searches) + 1
        deadline = time.monotonic() + 30
        while len(searches) < wait_until and time.monotonic() < deadline:
            time.sleep(0.001)
        return embed(texts)

    monkeypatch.setattr(writer.embedder, "embed", paced_embed)

    def ingest() -> None:
        try:
            writer.ingest([docs])
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=ingest)
    thread.start()
    during = 0
    while not done.is_set():
        try:
            hits = reader.search("P3 model weighs kilograms", k=5)
            assert hits and all(h.chunk.doc_id.endswith(".md") for h in hits)
        except BaseException as exc:  # any error is the failure this test looks for
            errors.append(exc)
        searches.append(1)
        during += not done.is_set()
    thread.join(60)
    assert errors == []
    assert during >= 105, during
    assert len(reader.store.document_hashes()) == 130 and reader.check().ok


# -- 17: results do not depend on ingest history ---------------------------------------
SHARED = "Shipping is free on every order over forty crowns, whatever the product."


def test_search_results_do_not_depend_on_ingest_history(tmp_path: Path) -> None:
    """The same documents, ingested at once or through adds, edits, deletes and
    re-adds in another order, rank alike: exact ties are broken by a stable key."""
    docs = tmp_path / "docs"
    docs.mkdir()

    def write(i: int, body: str = SHARED) -> None:
        (docs / f"d{i:02d}.md").write_text(f"# Item {i}\n\n{body}\n")

    for i in range(12):
        write(i)
    clean = Project.init(tmp_path / "clean", FAST)
    clean.ingest([docs])
    history = Project.init(tmp_path / "history", FAST)
    held = tmp_path / "held"
    held.mkdir()
    for i in (9, 3, 7, 1):
        shutil.move(docs / f"d{i:02d}.md", held / f"d{i:02d}.md")
    history.ingest([docs])
    for path in sorted(held.iterdir(), reverse=True):
        shutil.move(path, docs / path.name)
        history.ingest([docs])
    for edit in (lambda: write(5, "changed"), lambda: write(5), lambda: (docs / "d02.md").unlink()):
        edit()
        history.ingest([docs])
    write(2)
    history.ingest([docs])
    assert clean.store.document_hashes() == history.store.document_hashes()
    for mode in ("dense", "bm25", "hybrid"):
        for query in ("free shipping over forty crowns", "whatever the product", "Item"):
            ranked = [
                [(h.chunk.id, round(h.score, 9)) for h in project.search(query, k=8, mode=mode)]
                for project in (clean, history)
            ]
            assert ranked[0] == ranked[1], (mode, query)


# -- 18: a huge file is written after the small ones, in bounded groups -----------------
def test_small_files_are_committed_before_a_huge_one_in_bounded_groups(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "WRITE_GROUP_CHUNKS", 8)
    monkeypatch.setattr(ingest_module, "CHUNKING_WINDOW_CHARS", 20_000)
    docs = tmp_path / "docs"
    write_docs(docs, 5)
    sentence = "The huge log line {} says the pump ran at {} bar for a while. "
    (docs / "huge.txt").write_text("".join(sentence.format(i, i % 97) for i in range(3000)))
    writes: list[tuple[list[str], int]] = []
    embeds: list[int] = []
    store_write: Callable[..., Any] = project.store.write
    embed = project.embedder.embed

    def recording_write(items: Any) -> Any:
        writes.append(([item.document.id for item in items], sum(len(i.chunks) for i in items)))
        return store_write(items)

    def recording_embed(texts: Any) -> np.ndarray:
        embeds.append(len(texts))
        return embed(texts)

    monkeypatch.setattr(project.store, "write", recording_write)
    monkeypatch.setattr(project.embedder, "embed", recording_embed)
    report = project.ingest([docs])
    assert report.added == 6
    assert writes[-1][0] == ["huge.txt"]  # last, and alone
    assert all("huge.txt" not in ids for ids, _ in writes[:-1])
    assert all(n <= 8 for ids, n in writes if len(ids) > 1)  # groups stay bounded
    assert max(embeds) <= 8  # so do the embedder's batches, the huge file's included
    chunks = [c for c in project.store.iter_chunks() if c.doc_id == "huge.txt"]
    stored = project.store.get_document("huge.txt")
    assert stored is not None
    text = stored.text
    assert len(chunks) == writes[-1][1] > 50
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(text[c.start_char : c.end_char] == c.text for c in chunks)
    assert chunks[-1].end_char == len(text) and project.check().ok


# -- 19: 5 MB without whitespace, through ingest ----------------------------------------
def test_5_mb_without_whitespace_becomes_capped_chunks(project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "blob.txt").write_text("ab" * (5 * 2**20 // 2))
    report = project.ingest([docs])
    assert report.added == 1 and report.failed == 0
    chunks = list(project.store.iter_chunks())
    assert len(chunks) >= 5 * 2**20 // (16 * 64)
    assert all(len(c.text) == c.end_char - c.start_char <= 16 * 64 for c in chunks)
    assert chunks[0].start_char == 0 and chunks[-1].end_char == 5 * 2**20
