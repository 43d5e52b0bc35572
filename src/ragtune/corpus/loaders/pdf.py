"""PDF files through pypdf: text per page, pages separated by a blank line."""

from __future__ import annotations

import io
import logging

from ragtune.corpus.loaders.base import LoadResult, SourceFile, make_document, register_loader
from ragtune.errors import LoadError

__all__ = ["load_pdf"]

_JUNK_TITLES = frozenset({"untitled", "untitled document", "title", "document", "microsoft word"})


@register_loader(".pdf")
def load_pdf(data: bytes, source: SourceFile) -> LoadResult:
    """A PDF's text layer. Encrypted PDFs open only if the empty password works;
    PDFs without a text layer (scans) are reported, not loaded empty."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    path = source.display
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
    try:
        pages = list(reader.pages)
    except Exception as exc:
        raise LoadError(path, f"corrupt PDF: {type(exc).__name__}: {exc}") from None
    texts: list[str] = []
    failed = 0
    for page in pages:
        try:
            texts.append((page.extract_text() or "").strip("\n"))
        except Exception:
            failed += 1
            texts.append("")
    if not any(t.strip() for t in texts):
        if pages and failed == len(pages):
            raise LoadError(path, "corrupt PDF: text extraction failed on every page")
        raise LoadError(path, "no extractable text (scanned?)")
    meta: dict[str, int] = {"pages": len(pages)}
    if failed:
        meta["pages_failed"] = failed
    doc = make_document(
        source, "\n\n".join(texts), fmt="pdf", title=_title(reader), meta=meta, dehyphenate=True
    )
    return LoadResult([doc], path=path)


def _title(reader: object) -> str:
    try:
        title = str(reader.metadata.title or "")  # type: ignore[attr-defined]
    except Exception:
        return ""
    title = title.removeprefix("Microsoft Word - ").strip()
    return "" if title.lower() in _JUNK_TITLES else title
