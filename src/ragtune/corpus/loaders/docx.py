"""Word .docx files through python-docx: paragraphs and tables in document order,
``Heading N`` styles as ``#``-lines, list paragraphs as ``-`` lines."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from ragtune.corpus.loaders.base import LoadResult, SourceFile, make_document, register_loader
from ragtune.errors import LoadError

__all__ = ["load_docx"]

_HEADING_STYLE = re.compile(r"heading\s*(\d)")
MAX_UNZIPPED_MB = 512


def _heading_level(paragraph: Any) -> int:
    style = paragraph.style
    if style is None:
        return 0
    for name in (style.name or "", style.style_id or ""):
        name = name.lower()
        if name == "title":
            return 1
        match = _HEADING_STYLE.match(name)
        if match:
            return min(max(int(match.group(1)), 1), 6)
    return 0


def _is_list_item(paragraph: Any) -> bool:
    p_pr = paragraph._p.pPr
    if p_pr is not None and p_pr.numPr is not None:
        return True
    style = paragraph.style
    return style is not None and (style.name or "").lower().startswith("list")


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
    _check_archive(data, path)
    try:
        document = docx.Document(io.BytesIO(data))
        items = list(document.iter_inner_content())
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors...
        raise LoadError(path, f"corrupt or not a DOCX file ({type(exc).__name__}: {exc})") from None
    blocks: list[str] = []
    first_heading = ""
    for item in items:
        if isinstance(item, Table):
            rows = _table_rows(item)
            if rows:
                blocks.append("\n".join(rows))
            continue
        text = item.text.strip()
        if not text:
            continue
        level = _heading_level(item)
        if level:
            text = " ".join(text.split())
            first_heading = first_heading or text
            blocks.append("#" * level + " " + text)
        elif _is_list_item(item):
            blocks.append("- " + text)
        else:
            blocks.append(text)
    try:
        core_title = document.core_properties.title or ""
    except Exception:
        core_title = ""
    doc = make_document(source, _join(blocks), fmt="docx", title=first_heading or core_title)
    return LoadResult([doc], path=path)


def _check_archive(data: bytes, path: str) -> None:
    """Refuse archives that are not zips, or that unzip to more than ``MAX_UNZIPPED_MB``.

    zipfile never inflates a member past its declared size, so the declared sizes
    bound the memory python-docx can use (a zip bomb stops here).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoadError(path, f"corrupt or not a DOCX file ({type(exc).__name__}: {exc})") from None
    if total > MAX_UNZIPPED_MB * 2**20:
        raise LoadError(
            path, f"too large when unzipped: {total / 2**20:.0f} MB > {MAX_UNZIPPED_MB} MB"
        )


def _join(blocks: list[str]) -> str:
    """Blank lines between blocks, single newlines between consecutive list items."""
    out: list[str] = []
    for index, block in enumerate(blocks):
        if index:
            both_items = block.startswith("- ") and blocks[index - 1].startswith("- ")
            out.append("\n" if both_items else "\n\n")
        out.append(block)
    return "".join(out)
