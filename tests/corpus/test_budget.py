"""Load budgets: a file over its size, element or time budget is skipped with the reason,
before the expensive parse where the format allows; the other files still load."""

from __future__ import annotations

import itertools
import json
import zipfile
from pathlib import Path

import pytest

from ragtune.corpus import LoadBudget, iter_load, load_file
from ragtune.corpus.chunking import RecursiveChunker
from ragtune.types import Document

from .conftest import write_docx, write_pdf


class TickingClock:
    """A clock that moves ``step`` seconds each time it is read (no wall time involved)."""

    def __init__(self, step: float) -> None:
        self.now = itertools.count(0.0, step)

    def __call__(self) -> float:
        return next(self.now)


def only_reason(path: Path, budget: LoadBudget) -> str:
    result = load_file(path, budget=budget)
    assert result.documents == [], result.documents
    assert len(result.errors) == 1 and result.errors[0].path == str(path)
    return result.errors[0].reason


def paragraph_bomb(path: Path, paragraphs: int) -> Path:
    """A small .docx whose document.xml holds ``paragraphs`` paragraphs (the 93 KB /
    446k-paragraph case, smaller): written as XML, so python-docx never builds it."""
    template = write_docx(path.with_name(".template.docx"), [("p", "seed")])  # hidden
    with zipfile.ZipFile(template) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    body = parts["word/document.xml"].decode()
    one = "<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    start = body.index("<w:body>") + len("<w:body>")
    parts["word/document.xml"] = (body[:start] + one * paragraphs + body[start:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_a_docx_with_too_many_paragraphs_is_skipped_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docx

    path = paragraph_bomb(tmp_path / "bomb.docx", 50_000)
    assert path.stat().st_size < 200_000  # small on disk, huge inside
    parsed: list[object] = []
    monkeypatch.setattr(docx, "Document", lambda *a: parsed.append(a))
    reason = only_reason(path, LoadBudget(max_elements=10_000))
    assert reason == "too many paragraphs and tables: 50,001 > corpus.max_elements=10,000"
    assert parsed == []  # refused from the XML text, python-docx never ran


def test_a_docx_under_the_budget_loads_quickly_enough_to_test(tmp_path: Path) -> None:
    path = paragraph_bomb(tmp_path / "many.docx", 5_000)
    (doc,) = load_file(path, budget=LoadBudget(max_elements=10_000)).documents
    assert doc.text.count("x") == 5_000


def test_a_file_over_the_time_budget_is_skipped_with_where_it_was(tmp_path: Path) -> None:
    path = paragraph_bomb(tmp_path / "slow.docx", 2_000)
    # Each read of the clock is one "second": the loader checks it every 500 paragraphs.
    reason = only_reason(path, LoadBudget(max_seconds=2.5, clock=TickingClock(1.0)))
    assert reason.startswith("took too long: 3.0 s > corpus.max_seconds_per_file=2.5 (at paragraph")


def test_html_pdf_and_jsonl_count_their_elements(tmp_path: Path) -> None:
    budget = LoadBudget(max_elements=100)
    (tmp_path / "tags.html").write_text("<p>x</p>" * 150)
    assert only_reason(tmp_path / "tags.html", budget) == (
        "too many HTML tags: 150 > corpus.max_elements=100"
    )
    pdf = write_pdf(tmp_path / "pages.pdf", [f"Page {i} text." for i in range(101)])
    assert only_reason(pdf, budget) == "too many pages: 101 > corpus.max_elements=100"
    lines = "".join(json.dumps({"id": i, "text": f"t{i}"}) + "\n" for i in range(100))
    (tmp_path / "rows.jsonl").write_text(lines)  # 100 lines and the empty one after them
    assert only_reason(tmp_path / "rows.jsonl", budget) == (
        "too many lines: 101 > corpus.max_elements=100"
    )


def test_text_over_the_text_budget_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("word " * 300_000)
    assert only_reason(tmp_path / "long.txt", LoadBudget(max_text_mb=1.0)) == (
        "too much text: 1.4 M characters > corpus.max_text_mb=1"
    )


def test_a_file_over_budget_does_not_stop_the_others(tmp_path: Path) -> None:
    paragraph_bomb(tmp_path / "bomb.docx", 3_000)
    (tmp_path / "good.md").write_text("# Good\n\nA fine file.")
    results = list(iter_load([tmp_path], ["*.md", "*.docx"], budget=LoadBudget(max_elements=500)))
    loaded = {Path(r.path).name: (len(r.documents), [e.reason for e in r.errors]) for r in results}
    assert loaded["good.md"] == (1, [])
    assert loaded["bomb.docx"][0] == 0 and "corpus.max_elements=500" in loaded["bomb.docx"][1][0]


def test_the_budget_comes_from_the_corpus_config(tmp_path: Path) -> None:
    from ragtune.project import Project

    project = Project.init(
        tmp_path / "proj",
        {"embed": {"backend": "hash"}, "corpus": {"tokenizer": "words", "max_elements": 200}},
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    paragraph_bomb(docs / "bomb.docx", 1_000)
    (docs / "ok.md").write_text("# OK\n\nIndexed.")
    report = project.ingest([docs])
    assert report.added == 1 and report.failures == [
        {
            "path": str(docs / "bomb.docx"),
            "reason": "too many paragraphs and tables: 1,001 > corpus.max_elements=200",
        }
    ]


@pytest.mark.parametrize("method", ["AES_128", "AES_256"])
def test_an_aes_encrypted_pdf_with_an_empty_password_opens(tmp_path: Path, method: str) -> None:
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_encryption(
        owner_password="owner", user_password="", encryption_method=EncryptionMethod[method]
    )
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "The S10 switch ships from Tallinn.")
    pdf.output(str(tmp_path / "aes.pdf"))
    result = load_file(tmp_path / "aes.pdf")
    assert result.errors == []
    assert "S10 switch ships from Tallinn" in result.documents[0].text


def test_windowed_chunking_bounds_memory_and_keeps_offsets() -> None:
    text = "\n\n".join(f"Paragraph {i} says the pump ran at {i % 7} bar." for i in range(3000))
    doc = Document(id="big.txt", text=text)
    chunker = RecursiveChunker(32, 4)
    chunks = list(chunker.split_windowed(doc, window_chars=10_000))
    assert len(text) > 10 * 10_000
    assert [c.id for c in chunks] == [f"big.txt::{i}" for i in range(len(chunks))]
    assert all(text[c.start_char : c.end_char] == c.text for c in chunks)
    assert chunks[0].start_char == 0 and chunks[-1].end_char == len(text)
    for before, after in itertools.pairwise(chunks):  # nothing falls between
        gap = text[before.end_char : after.start_char]
        assert after.start_char <= before.end_char or not gap.strip()
    small = Document(id="s.txt", text="Short text.")
    assert list(chunker.split_windowed(small, 10_000)) == chunker.split(small)
