"""Loaders: files to cleaned ``Document``s, one module per format, found by extension.

    >>> from ragtune.corpus.loaders import LOADERS
    >>> sorted(LOADERS)[:3]
    ['.docx', '.htm', '.html']

Add a format with ``@register_loader(".ext")`` (see ``base``); folders are then walked for
it too, since the default include globs come from this registry (:func:`default_include`).
"""

from __future__ import annotations

from ragtune.corpus.loaders import docx, html, jsonl, pdf, text  # noqa: F401  (register)
from ragtune.corpus.loaders.base import (
    LOADERS,
    Loader,
    LoadResult,
    SourceFile,
    decode_text,
    loader_for,
    make_document,
    register_loader,
    supported_extensions,
    unregister_loader,
)
from ragtune.corpus.loaders.budget import FileBudget, LoadBudget
from ragtune.corpus.loaders.core import document_id, load_file, read_bytes
from ragtune.corpus.loaders.walk import default_include, iter_load, iter_paths

__all__ = [
    "LOADERS",
    "FileBudget",
    "LoadBudget",
    "LoadResult",
    "Loader",
    "SourceFile",
    "decode_text",
    "default_include",
    "document_id",
    "iter_load",
    "iter_paths",
    "load_file",
    "loader_for",
    "make_document",
    "read_bytes",
    "register_loader",
    "supported_extensions",
    "unregister_loader",
]
