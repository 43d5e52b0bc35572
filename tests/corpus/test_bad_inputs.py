"""Bad input never raises out of loading: each problem is a LoadError with path and reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ragtune.corpus import iter_load, load_file
from ragtune.errors import LoadError


def only_error(path: Path, **kwargs: object) -> LoadError:
    result = load_file(path, **kwargs)  # type: ignore[arg-type]
    assert result.documents == []
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    assert error.path == str(path)
    assert str(error).startswith(str(path) + ": ")
    return error


def test_empty_file(tmp_path):
    (tmp_path / "empty.md").write_bytes(b"")
    assert only_error(tmp_path / "empty.md").reason == "empty file"


def test_whitespace_only_file(tmp_path):
    (tmp_path / "blank.txt").write_text(" \n\t\n\n")
    assert "no text" in only_error(tmp_path / "blank.txt").reason


def test_html_with_no_text(tmp_path):
    (tmp_path / "x.html").write_text("<html><script>only()</script></html>")
    assert "no text" in only_error(tmp_path / "x.html").reason


def test_binary_with_nul_bytes(tmp_path):
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert only_error(tmp_path / "image.txt").reason.startswith("binary content")


def test_binary_without_nul_bytes(tmp_path):
    (tmp_path / "blob.md").write_bytes(bytes(range(1, 32)) * 10)
    assert only_error(tmp_path / "blob.md").reason.startswith("binary content")


def test_random_high_bytes_are_not_guessed_as_latin1(tmp_path):
    import random

    rng = random.Random(0)
    data = b"header " + bytes(rng.randrange(0x80, 0x100) for _ in range(400))
    (tmp_path / "garbage.txt").write_bytes(data)
    reason = only_error(tmp_path / "garbage.txt").reason
    assert reason.startswith("not valid UTF-8 text at byte ")
    assert reason.endswith(" 7") or "byte 7" in reason


def test_one_bad_utf8_byte_is_replaced_and_reported_not_rejected(tmp_path):
    # Valid UTF-8 'é' then a stray byte: decoding as cp1252 would garble the 'é', and
    # one bad byte must not cost the whole file.
    (tmp_path / "mixed.txt").write_bytes("café ".encode() + b"\xff rest")
    result = load_file(tmp_path / "mixed.txt")
    assert [d.text for d in result.documents] == ["café \ufffd rest"]
    assert [e.reason for e in result.errors] == [
        "1 invalid UTF-8 byte sequence(s), first at byte 6, replaced by U+FFFD; the rest is indexed"
    ]


def test_many_bad_utf8_bytes_still_reject_the_file(tmp_path):
    # UTF-8 (the é), so not cp1252; ten bad bytes in 545 is more than one per 200.
    data = ("word " * 100 + "café ").encode() + b"\xff " * 10
    (tmp_path / "damaged.txt").write_bytes(data)
    assert only_error(tmp_path / "damaged.txt").reason == "not valid UTF-8 text at byte 506"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text_not_binary(tmp_path, codec):
    text = "# Ångström guide\n\nThe X200 ships from Tromsø in 3 days.\n"
    (tmp_path / "u16.md").write_bytes(text.encode(codec))
    (doc,) = load_file(tmp_path / "u16.md").documents
    assert doc.text == text.strip() and doc.meta["encoding"] == codec
    assert doc.title == "Ångström guide"


def test_too_large(tmp_path):
    (tmp_path / "big.txt").write_text("word " * 1000)
    reason = only_error(tmp_path / "big.txt", max_file_mb=0.001).reason
    assert reason.startswith("too large: ") and "max_file_mb=0.001" in reason


def test_unsupported_extension_named_explicitly(tmp_path):
    (tmp_path / "data.xyz").write_text("hello")
    reason = only_error(tmp_path / "data.xyz").reason
    assert reason.startswith("unsupported file type .xyz (supported: ")


def test_missing_file_and_directory_named_like_a_file(tmp_path):
    assert only_error(tmp_path / "nope.md").reason == "no such file or directory"
    (tmp_path / "folder.txt").mkdir()
    assert only_error(tmp_path / "folder.txt").reason == "is a directory"


def test_broken_symlink(tmp_path):
    (tmp_path / "dangling.md").symlink_to(tmp_path / "gone.md")
    assert only_error(tmp_path / "dangling.md").reason == "broken symlink"


def test_fifo_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    assert only_error(tmp_path / "pipe.txt").reason == "not a regular file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_by_permissions(tmp_path):
    path = tmp_path / "secret.md"
    path.write_text("# no")
    path.chmod(0)
    try:
        assert only_error(path).reason == "unreadable: permission denied"
    finally:
        path.chmod(0o644)


def test_unreadable_simulated(tmp_path, monkeypatch):
    path = tmp_path / "secret.md"
    path.write_text("# no")
    real_open = open

    def deny(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    assert only_error(path).reason == "unreadable: permission denied"


def test_encrypted_pdf(pdf_factory):
    path = pdf_factory("locked.pdf", ["Top secret router plans."], user_password="pw")
    assert only_error(path).reason.startswith("encrypted PDF")


def test_scanned_pdf_without_text(pdf_factory):
    path = pdf_factory("scan.pdf", ["", ""])
    assert only_error(path).reason == "no extractable text (scanned?)"


def test_corrupt_pdf(tmp_path, pdf_factory):
    (tmp_path / "junk.pdf").write_bytes(os.urandom(2000))
    assert only_error(tmp_path / "junk.pdf").reason.startswith("corrupt PDF")
    good = pdf_factory("cut.pdf", ["Some text here."])
    data = good.read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(data[: len(data) // 3])
    result = load_file(tmp_path / "truncated.pdf")
    assert result.errors or result.documents  # never raises; pypdf may recover


def test_corrupt_docx(tmp_path):
    (tmp_path / "broken.docx").write_bytes(os.urandom(3000))
    assert only_error(tmp_path / "broken.docx").reason.startswith("corrupt or not a DOCX file")


def test_zip_that_is_not_a_docx(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "archive.docx", "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert only_error(tmp_path / "archive.docx").reason.startswith("corrupt or not a DOCX file")


def test_jsonl_bad_lines_keep_good_ones(tmp_path):
    lines = [
        json.dumps({"id": "a", "text": "First."}),
        '{"id": "b", "text": "unterminated',
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "c"}),
        json.dumps({"id": "a", "text": "Duplicate id."}),
        json.dumps({"id": "d", "text": "   "}),
        json.dumps({"id": {"x": 1}, "text": "bad id"}),
        json.dumps({"id": "e", "text": "Last.", "meta": "oops"}),
        json.dumps({"id": "f", "text": "Fine."}),
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(lines))
    result = load_file(path)
    assert [d.id for d in result.documents] == ["docs.jsonl#a", "docs.jsonl#f"]
    reasons = [e.reason for e in result.errors]
    assert all(e.path == str(path) for e in result.errors)
    assert reasons[0].startswith("line 2: invalid JSON")
    assert reasons[1] == "line 3: expected a JSON object, got list"
    assert reasons[2] == "line 4: missing 'text' (a string)"
    assert reasons[3] == "line 5: duplicate id (first on line 1)"
    assert reasons[4].startswith("line 6: no text")
    assert reasons[5].startswith("line 7: 'id' must be a string or integer")
    assert reasons[6] == "line 8: 'meta' must be an object"
    assert str(result.errors[0]).startswith(f"{path}: line 2: ")


def test_mixed_folder_loads_good_and_reports_bad(tmp_path, pdf_factory, docx_factory):
    docs = tmp_path
    (docs / "a.md").write_text("# A\n\nalpha")
    (docs / "b.txt").write_text("beta")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "binary.md").write_bytes(b"\x00\x01\x02")
    (docs / "garbled.txt").write_bytes(bytes(range(0x80, 0x100)) * 3)
    (docs / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (docs / "ignored.xyz").write_text("not included")
    (docs / "folder.txt").mkdir()  # a directory named like a file is walked, not read
    (docs / "folder.txt" / "inner.md").write_text("inner")
    (docs / "dangling.md").symlink_to(docs / "nowhere.md")
    (docs / ".git").mkdir()
    (docs / ".git" / "config.md").write_text("hidden")
    (docs / ".hidden.md").write_text("hidden")
    nested = docs / "nested"
    nested.mkdir()
    pdf_factory("nested/good.pdf", ["PDF text."])
    pdf_factory("nested/locked.pdf", ["x"], user_password="pw")
    docx_factory("nested/good.docx", [("p", "Docx text.")])
    (nested / "rows.jsonl").write_text('{"id": 1, "text": "one"}\n{bad\n')

    results = list(iter_load([docs], ["*.md", "*.txt", "*.pdf", "*.docx", "*.jsonl"], 50))
    loaded = [d.id for r in results for d in r.documents]
    assert loaded == [
        "a.md",
        "b.txt",
        "folder.txt/inner.md",
        "nested/good.docx",
        "nested/good.pdf",
        "nested/rows.jsonl#1",
    ]
    failures = {Path(e.path).name: e.reason for r in results for e in r.errors}
    assert set(failures) == {
        "binary.md",
        "broken.docx",
        "dangling.md",
        "empty.txt",
        "garbled.txt",
        "locked.pdf",
        "rows.jsonl",
    }
    assert failures["empty.txt"] == "empty file"
    assert failures["dangling.md"] == "broken symlink"
    assert failures["rows.jsonl"].startswith("line 2: invalid JSON")
    assert failures["locked.pdf"].startswith("encrypted PDF")
    # deterministic
    again = [(r.path, [d.id for d in r.documents]) for r in iter_load([docs], None, 50)]
    assert again == [(r.path, [d.id for d in r.documents]) for r in results]


def test_walk_follows_symlinked_folders_once_and_dedupes(tmp_path):
    docs = tmp_path / "docs"
    (docs / "a").mkdir(parents=True)
    (docs / "a" / "x.md").write_text("# X\n\nx")
    (docs / "a" / "loop").symlink_to(docs, target_is_directory=True)  # a cycle
    results = list(iter_load([docs, docs / "a" / "x.md"], ["*.md"], 50))
    assert [d.id for r in results for d in r.documents] == ["a/x.md"]
    assert all(r.ok for r in results)


def test_root_sets_ids_and_duplicate_ids_are_reported(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.md").write_text(f"# {folder}")
    rooted = list(iter_load([tmp_path / "one", tmp_path / "two"], ["*.md"], 50, root=tmp_path))
    assert [d.id for r in rooted for d in r.documents] == ["one/same.md", "two/same.md"]
    clashing = list(iter_load([tmp_path / "one", tmp_path / "two"], ["*.md"], 50))
    assert [d.id for r in clashing for d in r.documents] == ["same.md"]
    (error,) = [e for r in clashing for e in r.errors]
    assert error.path == str(tmp_path / "two" / "same.md")
    assert error.reason.startswith("duplicate document id 'same.md' (also from ")


def test_explicit_unsupported_file_and_missing_path_in_iter_load(tmp_path):
    (tmp_path / "notes.rtf").write_text("{\\rtf1}")
    results = list(iter_load([tmp_path / "notes.rtf", tmp_path / "missing"], None, 50))
    reasons = [e.reason for r in results for e in r.errors]
    assert reasons[0].startswith("unsupported file type .rtf")
    assert reasons[1] == "no such file or directory"


def test_unlistable_folder_is_reported(tmp_path, monkeypatch):
    import ragtune.corpus.loaders.walk as walk

    (tmp_path / "locked").mkdir()
    (tmp_path / "ok.md").write_text("fine")
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(walk.os, "scandir", scandir)
    results = list(iter_load([tmp_path], ["*.md"], 50))
    assert [e.reason for r in results for e in r.errors] == ["unreadable folder: permission denied"]
    assert [d.id for r in results for d in r.documents] == ["ok.md"]


def test_docx_zip_bomb_is_refused(tmp_path):
    from ragtune.corpus.loaders.budget import LoadBudget

    from .conftest import write_docx

    path = write_docx(tmp_path / "bomb.docx", [("p", "x" * 5000)])
    reason = only_error(path, budget=LoadBudget(max_unzipped_mb=0.001)).reason
    assert reason.startswith("too large when unzipped") and "corpus.max_unzipped_mb=0.001" in reason


def test_deeply_nested_html_loads(tmp_path):
    (tmp_path / "deep.html").write_text("<div>" * 5000 + "deep <b>text</b>" + "</div>" * 5000)
    assert load_file(tmp_path / "deep.html").documents[0].text == "deep text"
