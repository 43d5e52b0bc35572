"""PDF files through pypdf: text per page, pages separated by a blank line.

Structure the text layer does not carry is recovered where it is cheap and safe:
lines set in a clearly larger font than the body become ``#`` headings (so chunks
get a ``heading_path``), and running headers/footers repeated on most pages
(``ACME - page 3``) are dropped.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from typing import Any

from ragtune.corpus.loaders.base import LoadResult, SourceFile, make_document, register_loader
from ragtune.errors import LoadError

__all__ = ["load_pdf"]

_JUNK_TITLES = frozenset({"untitled", "untitled document", "title", "document", "microsoft word"})
_PAGE_NUMBER = re.compile(r"(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?", re.I)
_DIGITS = re.compile(r"\d+")
#: A line is a heading if its font is this much larger than the body text's.
HEADING_SIZE_RATIO = 1.2
_MAX_HEADING_CHARS = 120


@register_loader(".pdf")
def load_pdf(data: bytes, source: SourceFile) -> LoadResult:
    """A PDF's text layer. Encrypted PDFs open only if the empty password works;
    PDFs without a text layer (scans) are reported, not loaded empty."""
    path = source.display
    reader = _open(data, path)
    try:
        pages = list(reader.pages)
    except Exception as exc:
        raise LoadError(path, f"corrupt PDF: {type(exc).__name__}: {exc}") from None
    source.budget.elements(len(pages), "pages")
    texts: list[str] = []
    fragments: list[tuple[str, float]] = []
    failed = 0
    for number, page in enumerate(pages, 1):
        source.budget.tick(f"page {number}")
        try:
            texts.append(_page_text(page, fragments))
        except Exception:
            failed += 1
            texts.append("")
    if not any(t.strip() for t in texts):
        if pages and failed == len(pages):
            raise LoadError(path, "corrupt PDF: text extraction failed on every page")
        raise LoadError(path, "no extractable text (scanned?)")
    texts = _drop_running_lines(texts)
    levels = _heading_levels(fragments)
    body = "\n\n".join(_mark_headings(t, levels) for t in texts)
    meta: dict[str, int] = {"pages": len(pages)}
    if failed:
        meta["pages_failed"] = failed
    doc = make_document(
        source,
        body,
        fmt="pdf",
        title=_title(reader),
        meta=meta,
        dehyphenate=True,
        heading_title=True,
    )
    return LoadResult([doc], path=path)


def _open(data: bytes, path: str) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise LoadError(path, "corrupt PDF: no %PDF header")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable noise
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise LoadError(path, f"corrupt PDF: {type(exc).__name__}: {exc}") from None
    if encrypted:
        try:
            opened = reader.decrypt("")
        except (DependencyError, NotImplementedError) as exc:
            raise LoadError(path, f"encrypted PDF (cannot decrypt: {exc})") from None
        except Exception as exc:
            raise LoadError(path, f"encrypted PDF ({type(exc).__name__}: {exc})") from None
        if not opened:
            raise LoadError(path, "encrypted PDF (a password is needed to open it)")
    return reader


def _page_text(page: Any, fragments: list[tuple[str, float]]) -> str:
    """The page's text; appends (text, font size) of each run of same-size text."""
    run: list[str] = []
    run_size = 0.0

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        nonlocal run_size
        if not text.strip():
            return
        scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
        effective = round(float(size) * (scale or 1.0), 1)
        if run and effective != run_size:
            fragments.append(("".join(run), run_size))
            run.clear()
        run.append(text)
        run_size = effective
        fragments.append((text, effective))

    text = page.extract_text(visitor_text=visit) or ""
    if run:
        fragments.append(("".join(run), run_size))
    return text.strip("\n")


def _heading_levels(fragments: list[tuple[str, float]]) -> dict[str, int]:
    """Normalized line text -> heading level, for text clearly larger than the body."""
    chars: Counter[float] = Counter()
    for text, size in fragments:
        chars[size] += len(text.strip())
    if len(chars) < 2:
        return {}
    body = chars.most_common(1)[0][0]
    large = sorted({s for s in chars if s >= body * HEADING_SIZE_RATIO}, reverse=True)
    rank = {size: min(index + 1, 6) for index, size in enumerate(large)}
    levels: dict[str, int] = {}
    for text, size in fragments:
        key = " ".join(text.split())
        if size in rank and 0 < len(key) <= _MAX_HEADING_CHARS:
            levels.setdefault(key, rank[size])
    return levels


def _mark_headings(text: str, levels: dict[str, int]) -> str:
    if not levels:
        return text
    out: list[str] = []
    previous_level = 0
    for line in text.split("\n"):
        level = levels.get(" ".join(line.split()), 0)
        if level and previous_level == level:  # a heading wrapped over two lines
            out[-1] += " " + line.strip()
        elif level:
            out.extend(["", "#" * level + " " + line.strip(), ""])
        else:
            out.append(line)
        previous_level = level
    return "\n".join(out)


def _drop_running_lines(pages: list[str]) -> list[str]:
    """Remove page numbers and header/footer lines that repeat on most pages."""

    def key(line: str) -> str:
        return _DIGITS.sub("#", " ".join(line.split()).lower())

    split = [page.split("\n") for page in pages]
    counts: Counter[str] = Counter()
    for lines in split:
        counts.update({key(line) for line in lines[:2] + lines[-2:] if line.strip()})
    threshold = max(3, math.ceil(0.6 * len(pages)))
    running = {k for k, n in counts.items() if n >= threshold} if len(pages) >= 3 else set()
    cleaned = []
    for lines in split:
        edges = set(range(min(2, len(lines)))) | set(range(max(0, len(lines) - 2), len(lines)))
        kept = [
            line
            for index, line in enumerate(lines)
            if index not in edges
            or not (key(line) in running or _PAGE_NUMBER.fullmatch(line.strip()))
        ]
        cleaned.append("\n".join(kept))
    return cleaned


def _title(reader: Any) -> str:
    try:
        title = str(reader.metadata.title or "")
    except Exception:
        return ""
    title = title.removeprefix("Microsoft Word - ").strip()
    return "" if title.lower() in _JUNK_TITLES else title
