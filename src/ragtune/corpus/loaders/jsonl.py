"""JSON Lines: one document per line, ``{"id", "text", "title"?, "meta"?, ...}``.

A bad line is reported with its line number and skipped; the good lines still load,
and the file counts as loaded: ingest drops stored records no longer in it::

    {"id": "faq-1", "text": "Returns within 30 days.", "title": "Returns", "lang": "en"}

gives ``Document(id="faqs.jsonl#faq-1", ..., meta={"lang": "en", "line": 1, ...})``.
A line without ``id`` gets a stable id from its text's hash.
"""

from __future__ import annotations

import json
from typing import Any

from ragtune.corpus.loaders.base import (
    LoadResult,
    SourceFile,
    decode_text,
    make_document,
    register_loader,
)
from ragtune.errors import LoadError
from ragtune.types import Document, content_hash

__all__ = ["load_jsonl"]

_RESERVED = frozenset({"id", "text", "title", "meta"})


@register_loader(".jsonl", ".ndjson")
def load_jsonl(data: bytes, source: SourceFile) -> LoadResult:
    """Every good line of a JSONL file as a document; every bad line as an error."""
    path = source.display
    text, encoding = decode_text(data, path, source.notes)
    result = LoadResult(path=path)
    first_line_of: dict[str, int] = {}
    lines = text.split("\n")
    source.budget.elements(len(lines), "lines")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if number % 1000 == 0:
            source.budget.tick(f"line {number}")
        try:
            doc = _record(line, number, source, encoding)
        except LoadError as exc:
            result.errors.append(LoadError(path, f"line {number}: {exc.reason}"))
            continue
        if doc.id in first_line_of:
            result.errors.append(
                LoadError(
                    path, f"line {number}: duplicate id (first on line {first_line_of[doc.id]})"
                )
            )
            continue
        first_line_of[doc.id] = number
        result.documents.append(doc)
    if not result.documents and not result.errors:
        raise LoadError(path, "no records (only blank lines)")
    return result


def _record(line: str, number: int, source: SourceFile, encoding: str) -> Document:
    path = source.display
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise LoadError(path, f"expected a JSON object, got {type(record).__name__}")
    body = record.get("text")
    if not isinstance(body, str):
        raise LoadError(path, "missing 'text' (a string)")
    record_id = record.get("id")
    if record_id is None:
        record_id = "sha256-" + content_hash(body)[:16]
    elif isinstance(record_id, bool) or not isinstance(record_id, (str, int)):
        raise LoadError(path, f"'id' must be a string or integer, got {type(record_id).__name__}")
    record_id = str(record_id)
    if not record_id.strip():
        raise LoadError(path, "'id' is empty")
    title = record.get("title")
    extra_meta = record.get("meta", {})
    if not isinstance(extra_meta, dict):
        raise LoadError(path, "'meta' must be an object")
    meta: dict[str, Any] = {k: v for k, v in record.items() if k not in _RESERVED}
    meta.update(extra_meta)
    meta["line"] = number
    if encoding != "utf-8":
        meta["encoding"] = encoding
    return make_document(
        source,
        body,
        fmt="jsonl",
        doc_id=f"{source.doc_id}#{record_id}",
        title=title if isinstance(title, str) else "",
        heading_title=True,
        fallback_title=record_id,
        meta=meta,
    )
