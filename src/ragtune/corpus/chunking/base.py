"""The chunker interface: one verb, ``split(doc) -> list[Chunk]``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

from ragtune.types import Chunk, Document

__all__ = ["Chunker"]


class Chunker(ABC):
    """Splits a document into chunks whose text is an exact slice of ``doc.text``.

    Every implementation guarantees, for each chunk ``c`` of ``doc``:
    ``c.text == doc.text[c.start_char:c.end_char]``, ``c.id == f"{doc.id}::{c.index}"``,
    indexes 0, 1, 2... in document order.

    >>> from ragtune.corpus import RecursiveChunker
    >>> chunker = RecursiveChunker(chunk_size_tokens=64, chunk_overlap_tokens=8)
    >>> [c.id for c in chunker.split(Document(id="a.md", text="# A\\n\\nShort."))]
    ['a.md::0']
    """

    @abstractmethod
    def split(self, doc: Document) -> list[Chunk]:
        """Chunks of ``doc``, in order."""

    def split_all(self, docs: Iterable[Document]) -> Iterator[Chunk]:
        """Chunks of many documents, one document after another."""
        for doc in docs:
            yield from self.split(doc)
