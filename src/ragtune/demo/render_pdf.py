"""PDF writer (fpdf2): real text PDFs that pypdf extracts the fact strings from.

Only the core Helvetica font and ASCII text are used, so no ligatures, no font
subsetting and no odd glyph mapping stand between the PDF and its text. Paragraphs
are left-aligned (justified text would stretch word spacing). The creation date is
the document's date, which makes the bytes depend on the content only.

>>> from datetime import date
>>> from ragtune.demo.document import DemoDoc, Paragraph
>>> doc = DemoDoc("a.pdf", "Title", date(2025, 1, 15), "note", [Paragraph("Hello.")])
>>> render_pdf(doc, "Veltrona Systems")[:5]
b'%PDF-'
"""

from __future__ import annotations

from datetime import datetime, timezone

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ragtune.demo.document import BulletList, DemoDoc, Heading, Paragraph, Table

_FONT = "Helvetica"


class _CompanyPDF(FPDF):
    def __init__(self, company: str) -> None:
        super().__init__(format="A4")
        self.company = company

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, "", 8)
        self.cell(0, 6, f"{self.company} - page {self.page_no()}", align="C")


def _check_ascii(doc: DemoDoc) -> None:
    try:
        doc.plain_text().encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{doc.doc_id}: PDF text must be ASCII ({exc})") from exc


def render_pdf(doc: DemoDoc, company: str) -> bytes:
    """One A4 text PDF: title, byline, then the blocks in order."""
    _check_ascii(doc)
    pdf = _CompanyPDF(company)
    stamp = datetime(doc.date.year, doc.date.month, doc.date.day, 9, 0, tzinfo=timezone.utc)
    pdf.set_creation_date(stamp)
    pdf.set_title(doc.title)
    pdf.set_author(doc.author or company)
    pdf.set_creator("ragtune demo-corpus")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, height: float, indent: float = 0.0) -> None:
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_font(_FONT, "B", 17)
    line(doc.title, 8)
    pdf.set_font(_FONT, "I", 9)
    line(doc.byline(company), 6)
    pdf.ln(3)
    for block in doc.blocks:
        if isinstance(block, Heading):
            pdf.ln(2)
            pdf.set_font(_FONT, "B", 14 if block.level <= 2 else 12)
            line(block.text, 7)
        elif isinstance(block, Paragraph):
            pdf.set_font(_FONT, "", 10.5)
            line(block.text, 5.5)
            pdf.ln(2)
        elif isinstance(block, BulletList):
            pdf.set_font(_FONT, "", 10.5)
            for item in block.items:
                line(f"- {item}", 5.5, indent=4)
            pdf.ln(2)
        elif isinstance(block, Table):
            pdf.set_font(_FONT, "", 9.5)
            with pdf.table(text_align="LEFT", line_height=5.5, first_row_as_headings=True) as t:
                for row in (block.header, *block.rows):
                    cells = t.row()
                    for cell in row:
                        cells.cell(cell)
            pdf.ln(3)
    return bytes(pdf.output())
