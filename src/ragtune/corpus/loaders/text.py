"""Plain text and Markdown: decoded, cleaned, titled by their first heading."""

from __future__ import annotations

from ragtune.corpus.loaders.base import (
    LoadResult,
    SourceFile,
    decode_text,
    make_document,
    register_loader,
)

__all__ = ["load_markdown", "load_text"]


def _meta(encoding: str) -> dict[str, str]:
    # Only unusual encodings are worth recording; UTF-8 is the norm.
    return {} if encoding == "utf-8" else {"encoding": encoding}


@register_loader(".txt", ".text")
def load_text(data: bytes, source: SourceFile) -> LoadResult:
    """A ``.txt`` file. Hard-wrapped hyphenation (``infor-\\nmation``) is joined."""
    text, encoding = decode_text(data, source.display, source.notes)
    doc = make_document(
        source, text, fmt="text", heading_title=True, meta=_meta(encoding), dehyphenate=True
    )
    return LoadResult([doc], path=source.display)


@register_loader(".md", ".markdown")
def load_markdown(data: bytes, source: SourceFile) -> LoadResult:
    """A Markdown file, kept as Markdown (the chunker reads its headings)."""
    text, encoding = decode_text(data, source.display, source.notes)
    doc = make_document(source, text, fmt="markdown", heading_title=True, meta=_meta(encoding))
    return LoadResult([doc], path=source.display)
