"""Loaders: files to cleaned ``Document``s, one module per format, found by extension.

    >>> from ragtune.corpus.loaders import LOADERS
    >>> sorted(LOADERS)[:3]
    ['.docx', '.htm', '.html']

Add a format with ``@register_loader(".ext")`` (see ``base``).
"""

from __future__ import annotations

from ragtune.corpus.loaders import docx, html, jsonl, pdf, text  # noqa: F401  (register)
from ragtune.corpus.loaders.base import (
    LOADERS,
    Loader,
    LoadResult,
    SourceFile,
    decode_text,
    make_document,
    register_loader,
    supported_extensions,
)
from ragtune.corpus.loaders.core import document_id, load_file, read_bytes
from ragtune.corpus.loaders.walk import DEFAULT_INCLUDE, iter_load, iter_paths

__all__ = [
    "DEFAULT_INCLUDE",
    "LOADERS",
    "LoadResult",
    "Loader",
    "SourceFile",
    "decode_text",
    "document_id",
    "iter_load",
    "iter_paths",
    "load_file",
    "make_document",
    "read_bytes",
    "register_loader",
    "supported_extensions",
]
