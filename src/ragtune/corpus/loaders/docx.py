"""Word .docx files through python-docx: paragraphs and tables in document order,
``Heading N`` styles as ``#``-lines, list paragraphs as ``-`` lines.

Within the file's load budget: the archive's unzipped size and the number of paragraphs
and tables in ``word/document.xml`` are checked before python-docx parses anything (a
93 KB file can hold 446k paragraphs), and the clock as paragraphs are read. Paragraph
styles are looked up once per style id: python-docx's ``paragraph.style`` scans every
style each time, which made a large document take minutes.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from ragtune.corpus.loaders.base import LoadResult, SourceFile, make_document, register_loader
from ragtune.corpus.loaders.budget import FileBudget
from ragtune.errors import LoadError

__all__ = ["load_docx"]

_HEADING_STYLE = re.compile(r"heading\s*(\d)")
# Paragraph and table start tags (not <w:pPr>, <w:pStyle>, <w:tblPr>...).
_ELEMENT = re.compile(rb"<w:(?:p|tbl)[\s>/]")


class _Styles:
    """Heading level and list-ness of each paragraph style id, computed once per id."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.cache: dict[str | None, tuple[int, bool]] = {}

    def of(self, paragraph: Any) -> tuple[int, bool]:
        style_id = paragraph._p.style  # the pStyle value, or None for the default
        if style_id not in self.cache:
            self.cache[style_id] = _style_facts(paragraph.style)
        return self.cache[style_id]


def _style_facts(style: Any) -> tuple[int, bool]:
    """``(heading level or 0, whether it is a list style)`` of a paragraph style."""
    if style is None:
        return 0, False
    level = 0
    for name in (style.name or "", style.style_id or ""):
        name = name.lower()
        if name == "title":
            level = level or 1
        match = _HEADING_STYLE.match(name)
        if match:
            level = level or min(max(int(match.group(1)), 1), 6)
    return level, (style.name or "").lower().startswith("list")


def _has_numbering(paragraph: Any) -> bool:
    p_pr = paragraph._p.pPr
    return p_pr is not None and p_pr.numPr is not None


def _table_rows(table: Any) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats once per grid column
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


@register_loader(".docx")
def load_docx(data: bytes, source: SourceFile) -> LoadResult:
    """A .docx document. Title: its first heading, else the core title, else the stem."""
    import docx
    from docx.table import Table

    path = source.display
    _check_archive(data, path, source.budget)
    try:
        document = docx.Document(io.BytesIO(data))
        items = list(document.iter_inner_content())
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors...
        raise LoadError(path, f"corrupt or not a DOCX file ({type(exc).__name__}: {exc})") from None
    source.budget.elements(len(items), "paragraphs and tables")
    styles = _Styles(document)
    blocks: list[str] = []
    first_heading = ""
    for number, item in enumerate(items):
        if number % 500 == 0:
            source.budget.tick(f"paragraph {number}")
        if isinstance(item, Table):
            rows = _table_rows(item)
            if rows:
                blocks.append("\n".join(rows))
            continue
        text = item.text.strip()
        if not text:
            continue
        level, list_style = styles.of(item)
        if level:
            text = " ".join(text.split())
            first_heading = first_heading or text
            blocks.append("#" * level + " " + text)
        elif list_style or _has_numbering(item):
            blocks.append("- " + text)
        else:
            blocks.append(text)
    try:
        core_title = document.core_properties.title or ""
    except Exception:
        core_title = ""
    doc = make_document(source, _join(blocks), fmt="docx", title=first_heading or core_title)
    return LoadResult([doc], path=path)


def _check_archive(data: bytes, path: str, budget: FileBudget) -> None:
    """Refuse archives that are not zips, that unzip to more than the budget's
    ``max_unzipped_mb``, or whose body holds more paragraphs and tables than its
    ``max_elements`` (counted in the XML text, before any parsing).

    zipfile never inflates a member past its declared size, so the declared sizes
    bound the memory python-docx can use (a zip bomb stops here).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            budget.unzipped(sum(member.file_size for member in archive.infolist()))
            try:
                body = archive.read("word/document.xml")
            except KeyError:
                return  # python-docx reports the missing part
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise LoadError(path, f"corrupt or not a DOCX file ({type(exc).__name__}: {exc})") from None
    budget.elements(len(_ELEMENT.findall(body)), "paragraphs and tables")


def _join(blocks: list[str]) -> str:
    """Blank lines between blocks, single newlines between consecutive list items."""
    out: list[str] = []
    for index, block in enumerate(blocks):
        if index:
            both_items = block.startswith("- ") and blocks[index - 1].startswith("- ")
            out.append("\n" if both_items else "\n\n")
        out.append(block)
    return "".join(out)
