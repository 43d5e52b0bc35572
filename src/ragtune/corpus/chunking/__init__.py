"""Chunkers: split a cleaned ``Document`` into ``Chunk`` spans, by name.

>>> from ragtune.corpus.chunking import chunkers
>>> chunker = chunkers.create("recursive", chunk_size_tokens=128, chunk_overlap_tokens=16)
"""

from __future__ import annotations

from ragtune.corpus.chunking.base import Chunker
from ragtune.corpus.chunking.headings import Heading, find_headings
from ragtune.corpus.chunking.recursive import RecursiveChunker
from ragtune.corpus.tokens import (
    HFTokenCounter,
    TokenCounter,
    WordTokenCounter,
    make_token_counter,
)
from ragtune.registry import Registry

__all__ = [
    "Chunker",
    "HFTokenCounter",
    "Heading",
    "RecursiveChunker",
    "TokenCounter",
    "WordTokenCounter",
    "chunkers",
    "find_headings",
    "make_token_counter",
]

chunkers: Registry[Chunker] = Registry("chunker")
chunkers.register("recursive", RecursiveChunker)
