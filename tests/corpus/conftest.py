"""Builders for real fixture files (PDF via fpdf2, DOCX via python-docx) in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest


def write_pdf(
    path: Path,
    pages: list[str],
    *,
    title: str | None = None,
    user_password: str | None = None,
    owner_password: str | None = None,
) -> Path:
    """A real PDF with one text page per item of ``pages`` (empty string: blank page)."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if user_password is not None or owner_password is not None:
        pdf.set_encryption(
            owner_password=owner_password or "owner", user_password=user_password or ""
        )
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def write_docx(path: Path, blocks: list[tuple[str, str]], *, core_title: str = "") -> Path:
    """A DOCX from ``(kind, text)`` blocks: kind is ``h1``..``h6``, ``p``, ``li``, or
    ``table`` (rows separated by ``;``, cells by ``,``)."""
    import docx

    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1]))
        elif kind == "li":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "table":
            rows = [r.split(",") for r in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


@pytest.fixture
def pdf_factory(tmp_path: Path):
    def make(name: str, pages: list[str], **kwargs: object) -> Path:
        return write_pdf(tmp_path / name, pages, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def docx_factory(tmp_path: Path):
    def make(name: str, blocks: list[tuple[str, str]], **kwargs: str) -> Path:
        return write_docx(tmp_path / name, blocks, **kwargs)

    return make
