"""One check for every document, whichever way it enters: ``ragtune ingest``, the
server's JSON upserts, file uploads and JSONL records.

A document that passes can be stored, listed as JSON, fetched and deleted through the
API. The rules (each failure is a ``ValueError`` naming the field)::

    check_document_id("guides/x200.md")      # ids are names: no '..' or '.' segment,
                                              # no leading '/', no backslash, no control
                                              # characters (NUL included), <= 512 chars
    check_document(Document(id="a", text="x", meta={"lang": "de"}))
    check_text("\\ud800", "text")             # ValueError: text: a lone surrogate ...

It sits with the loaders, below ingest and the server, so both call the same code
(``ragtune.serve.validation`` re-exports it).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ragtune.types import Document

__all__ = [
    "LONE_SURROGATE",
    "MAX_ID_CHARS",
    "MAX_META_DEPTH",
    "MAX_META_KEYS",
    "MAX_META_STRING_CHARS",
    "MAX_TITLE_CHARS",
    "check_document",
    "check_document_id",
    "check_meta",
    "check_text",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: A lone UTF-16 surrogate: a str may hold one (JSON's "\\ud800"), UTF-8 cannot.
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
MAX_ID_CHARS = 512
MAX_TITLE_CHARS = 2000
MAX_META_KEYS = 256
MAX_META_DEPTH = 8
MAX_META_STRING_CHARS = 10_000


def check_text(value: str, field: str) -> str:
    """``value`` if it can be written as UTF-8 (no lone surrogate such as ``\\ud800``).

    >>> check_text("café", "text")
    'café'
    """
    match = LONE_SURROGATE.search(value)
    if match:
        raise ValueError(
            f"{field}: a lone surrogate (U+{ord(match.group()):04X}) at character {match.start()} "
            "is not valid Unicode text"
        )
    return value


def check_document_id(doc_id: str) -> str:
    """A document id is a name, never a path out of anywhere: no ``..`` or ``.`` segment,
    no leading ``/``, no backslash, no control characters, at most 512 characters.

    >>> check_document_id("guides/x200.md")
    'guides/x200.md'
    >>> check_document_id("../etc/passwd")
    Traceback (most recent call last):
    ValueError: document id '../etc/passwd' may not contain '.' or '..' path segments
    """
    if not doc_id or not doc_id.strip():
        raise ValueError("document id is empty")
    if len(doc_id) > MAX_ID_CHARS:
        raise ValueError(f"document id is longer than {MAX_ID_CHARS} characters")
    if _CONTROL.search(doc_id):
        raise ValueError("document id contains control characters")
    check_text(doc_id, "document id")
    if "\\" in doc_id:
        raise ValueError(f"document id {doc_id!r} may not contain a backslash")
    if doc_id.startswith("/"):
        raise ValueError(f"document id {doc_id!r} may not start with '/'")
    if any(part in (".", "..") for part in re.split(r"[/#]", doc_id)):
        raise ValueError(f"document id {doc_id!r} may not contain '.' or '..' path segments")
    return doc_id


def check_meta(meta: Any, field: str = "meta", depth: int = 0) -> Any:
    """``meta`` if it is JSON that any client can read back: string keys, finite
    numbers, UTF-8-safe strings, bounded size and nesting.

    >>> check_meta({"lang": "de", "tags": ["a", 1, True, None]})
    {'lang': 'de', 'tags': ['a', 1, True, None]}
    """
    if depth > MAX_META_DEPTH:
        raise ValueError(f"{field}: nested deeper than {MAX_META_DEPTH} levels")
    if meta is None or isinstance(meta, bool | int):
        return meta
    if isinstance(meta, float):
        if not math.isfinite(meta):
            raise ValueError(f"{field}: {meta} is not a JSON number")
        return meta
    if isinstance(meta, str):
        if len(meta) > MAX_META_STRING_CHARS:
            raise ValueError(f"{field}: longer than {MAX_META_STRING_CHARS} characters")
        return check_text(meta, field)
    if isinstance(meta, list | tuple):
        if len(meta) > MAX_META_KEYS:
            raise ValueError(f"{field}: more than {MAX_META_KEYS} items")
        for i, item in enumerate(meta):
            check_meta(item, f"{field}[{i}]", depth + 1)
        return meta
    if isinstance(meta, dict):
        if len(meta) > MAX_META_KEYS:
            raise ValueError(f"{field}: more than {MAX_META_KEYS} keys")
        for key, value in meta.items():
            if not isinstance(key, str):
                raise ValueError(f"{field}: key {key!r} is not a string")
            check_text(key, f"{field} key")
            check_meta(value, f"{field}.{key}", depth + 1)
        return meta
    raise ValueError(f"{field}: a {type(meta).__name__} is not JSON")


def check_document(document: Document) -> Document:
    """``document`` if it may be stored (see the module docstring), else a ``ValueError``
    naming the document and the field."""
    check_document_id(document.id)
    where = f"document {document.id!r}"
    if not document.text.strip():
        raise ValueError(f"{where}: text is blank")
    check_text(document.text, f"{where}: text")
    if len(document.title) > MAX_TITLE_CHARS:
        raise ValueError(f"{where}: title is longer than {MAX_TITLE_CHARS} characters")
    check_text(document.title, f"{where}: title")
    check_text(document.source, f"{where}: source")
    if not isinstance(document.meta, dict):
        raise ValueError(f"{where}: meta must be an object")
    check_meta(document.meta, f"{where}: meta")
    return document
