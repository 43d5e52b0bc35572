"""The store interface: documents, chunks and vectors in; dense and BM25 hits out.

Every backend passes the same contract tests (``tests/index/test_store_contract.py``).
A write replaces a document and all its chunks and vectors in one transaction, so a
killed process leaves each document either wholly old, wholly new, or absent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragtune.types import Chunk, Document, Hit


@dataclass
class DocumentRecord:
    """What the store knows about a document without its chunks."""

    id: str
    source: str
    title: str
    content_hash: str
    n_chunks: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class IndexedDocument:
    """One document ready to write: its chunks and one vector per chunk."""

    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray


@dataclass
class CheckReport:
    """The result of ``Store.check()``: empty ``problems`` means consistent."""

    documents: int = 0
    chunks: int = 0
    vectors: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Store(ABC):
    """A project's knowledge base.

    store = stores.create("sqlite", path=Path(".ragtune/store"))
    store.write([IndexedDocument(doc, chunks, vectors)])
    store.search_dense(query_vector, k=10)
    store.search_bm25("warranty X200", k=10, filters={"format": "pdf"})
    """

    # -- settings the index was built with (embedder, chunking) ------------------------
    @abstractmethod
    def get_setting(self, key: str) -> str | None: ...

    @abstractmethod
    def set_setting(self, key: str, value: str) -> None: ...

    # -- writes -------------------------------------------------------------------------
    @abstractmethod
    def write(self, items: Sequence[IndexedDocument]) -> None:
        """Insert or replace each document with its chunks and vectors, atomically."""

    @abstractmethod
    def delete(self, doc_ids: Sequence[str]) -> int:
        """Delete documents and their chunks and vectors; returns how many existed."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every document (used when the embedder or chunking changes)."""

    # -- reads --------------------------------------------------------------------------
    @abstractmethod
    def document_hashes(self) -> dict[str, str]:
        """``{doc_id: content_hash}`` for every stored document."""

    @abstractmethod
    def get_document(self, doc_id: str) -> Document | None: ...

    @abstractmethod
    def list_documents(self) -> list[DocumentRecord]: ...

    @abstractmethod
    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]: ...

    @abstractmethod
    def iter_chunks(self) -> Iterator[Chunk]:
        """Every stored chunk, in document order (for synthesis and benchmarks)."""

    @abstractmethod
    def iter_documents(self) -> list[Document]:
        """Every stored document with its full text (for re-chunking without the files)."""

    @abstractmethod
    def search_dense(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[Hit]: ...

    @abstractmethod
    def search_bm25(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[Hit]: ...

    def search_dense_ids(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """``(chunk id, score)`` pairs, best first: cheaper than hits when a fusion keeps
        only a few of them (fetch those with ``get_chunks``)."""
        return [(h.chunk.id, h.score) for h in self.search_dense(vector, k, filters)]

    def search_bm25_ids(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """``(chunk id, score)`` pairs, best first (see ``search_dense_ids``)."""
        return [(h.chunk.id, h.score) for h in self.search_bm25(query, k, filters)]

    @abstractmethod
    def stats(self) -> dict[str, Any]: ...

    @abstractmethod
    def check(self) -> CheckReport:
        """Verify: every chunk has a vector, every vector a chunk, no document twice."""

    def flush(self) -> None:  # noqa: B027 - optional hook; stores without caches need nothing
        """Persist derived indexes (vector file, BM25) so the next open is fast."""

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
