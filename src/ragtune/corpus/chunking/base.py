"""The chunker interface: one verb, ``split(doc) -> list[Chunk]``."""

from __future__ import annotations

import dataclasses
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

    def split_windowed(self, doc: Document, window_chars: int) -> Iterator[Chunk]:
        """``split(doc)``, one window of at most ``window_chars`` characters at a time, so
        the chunker's working memory is bounded by the window, not the document.

        Windows end at the last blank line (else newline, else space) before the limit;
        chunks never cross a window end, and they keep the guarantees above (ids and
        offsets are the document's). A document within one window is split as a whole.
        A chunk in a later window does not see headings of earlier windows.
        """
        text = doc.text
        if len(text) <= window_chars:
            yield from self.split(doc)
            return
        index, start = 0, 0
        while start < len(text):
            end = window_end(text, start, window_chars)
            part = dataclasses.replace(doc, text=text[start:end])
            for chunk in self.split(part):
                yield dataclasses.replace(
                    chunk,
                    id=f"{doc.id}::{index}",
                    index=index,
                    start_char=chunk.start_char + start,
                    end_char=chunk.end_char + start,
                )
                index += 1
            start = end


def window_end(text: str, start: int, window_chars: int) -> int:
    """Where the window that starts at ``start`` ends: the last blank line, newline or
    space within ``window_chars`` (past the window's first half), else the hard limit.

    >>> window_end("aaaa bbbb cccc", 0, 8)
    5
    """
    limit = start + window_chars
    if limit >= len(text):
        return len(text)
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, start + window_chars // 2, limit)
        if cut != -1:
            return cut + len(separator)
    return limit
