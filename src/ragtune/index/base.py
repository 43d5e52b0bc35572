"""The store interface: documents, chunks and vectors in; dense and BM25 hits out.

Every backend passes the same contract tests, ``ragtune.testing.store_contract``.
A write replaces a document and all its chunks and vectors in one transaction, so a
killed process leaves each document either wholly old, wholly new, or absent. Hits come
best first, equal scores in chunk-id order, so results never depend on ingest history.

A rebuild (another embedder or chunking) goes through the store too, so a backend that
is a folder, a server collection or anything else can do it its own way::

    sibling = store.begin_rebuild()        # empty, or what a killed rebuild left
    sibling.write(...)                     # the old store keeps serving meanwhile
    store = store.commit_rebuild(sibling)  # swapped in; use the returned store

Metadata filters (``filters=`` of every search) follow one grammar, spelled out and
tested in ``ragtune.testing.store_contract``: ``{key: value or list of values}``,
AND across keys, any-of within a list, values compared by their text
(``{"year": "2024"}`` matches a stored ``2024``). ``normalize_filters`` checks it for
every backend (``FilterError`` otherwise); ``matches_filters`` is its reference meaning.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragtune.errors import RagtuneError
from ragtune.types import Chunk, Document, Hit

DOCUMENT_FIELDS = ("doc_id", "source", "title")
_INT64 = (-(2**63), 2**63 - 1)


class FilterError(RagtuneError, ValueError):
    """A ``filters=`` argument outside the grammar (see ``ragtune.testing.store_contract``)."""


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


def filter_text(value: object) -> str | None:
    """The text a filter compares ``value`` by: ``None`` for a value that never matches.

    >>> filter_text(2024), filter_text(True), filter_text("pdf"), filter_text(1.5)
    ('2024', 'true', 'pdf', None)
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def normalize_filters(filters: Mapping[str, Any] | None) -> dict[str, frozenset[str]] | None:
    """Check ``filters`` against the grammar: ``{key: texts any of which must match}``.

    ``None`` means no restriction. Raises ``FilterError`` naming the key at fault.

    >>> normalize_filters({"format": "pdf", "year": [2023, 2024]})
    {'format': frozenset({'pdf'}), 'year': frozenset({'2023', '2024'})}
    """
    if filters is None:
        return None
    if not isinstance(filters, Mapping):
        raise FilterError(f"filters must be a dict of key -> value, got {type(filters).__name__}")
    normalized: dict[str, frozenset[str]] = {}
    for key, condition in filters.items():
        if not isinstance(key, str) or not key or '"' in key:
            raise FilterError(f"filter key {key!r}: expected a non-empty str without '\"'")
        values = (
            list(condition)
            if isinstance(condition, list | tuple | set | frozenset)
            else [condition]
        )
        texts = set()
        for value in values:
            text = filter_text(value)
            if text is None:
                raise FilterError(
                    f"filters[{key!r}]: {value!r} is a {type(value).__name__}; values are"
                    " str, int or bool, or a list of them (floats do not compare exactly)"
                )
            if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
                raise FilterError(f"filters[{key!r}]: {value} is outside the 64-bit range")
            texts.add(text)
        normalized[key] = frozenset(texts)
    return normalized or None


def matches_filters(
    filters: Mapping[str, frozenset[str]] | None, chunk: Chunk, document: Document
) -> bool:
    """Whether ``chunk`` of ``document`` meets normalized ``filters``: the grammar's
    reference meaning, which every backend's search must agree with."""
    for key, texts in (filters or {}).items():
        stored: Any
        if key in DOCUMENT_FIELDS:
            stored = {"doc_id": document.id, "source": document.source, "title": document.title}[
                key
            ]
        elif key in chunk.meta:
            stored = chunk.meta[key]
        else:
            stored = document.meta.get(key)
        items = stored if isinstance(stored, list) else [stored]
        if not any(filter_text(item) in texts for item in items):
            return False
    return True


def check_items(items: Sequence[IndexedDocument], dim: int | None) -> int | None:
    """Raise ``ValueError`` unless every item has one vector per chunk, all of one size
    (``dim`` if the store has one already); returns that size. Call before writing."""
    for item in items:
        vectors = np.asarray(item.vectors)
        doc_id = item.document.id
        if len(item.chunks) != len(vectors):
            raise ValueError(f"{doc_id}: {len(item.chunks)} chunks but {len(vectors)} vectors")
        if not item.chunks:
            continue
        if vectors.ndim != 2:
            raise ValueError(f"{doc_id}: vectors must be a 2-D array, one row per chunk")
        if dim not in (None, vectors.shape[1]):
            raise ValueError(f"{doc_id}: vectors have dim {vectors.shape[1]}, store has {dim}")
        dim = int(vectors.shape[1])
    return dim


class Store(ABC):
    """A project's knowledge base.

    store = stores.create("sqlite", path=Path(".ragtune/store"))
    store.write([IndexedDocument(doc, chunks, vectors)])
    store.search_dense(query_vector, k=10)
    store.search_bm25("warranty X200", k=10, filters={"format": "pdf"})

    Every search returns at most ``k`` hits (none for ``k < 1``), ranked 1, 2, ... by
    score, highest first; equal scores are ordered by chunk id (Python string order),
    also at the ``k``-th place, so two stores holding the same chunks answer alike
    whatever order they were written in. ``filters`` follow the module's grammar.
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

    @abstractmethod
    def set_sources(self, sources: Mapping[str, str]) -> int:
        """Set ``source`` of the documents ``{doc_id: source}`` names (and of their chunks),
        keeping texts and vectors: a moved folder is not re-embedded. Returns how many
        documents existed."""

    # -- rebuilds (another embedder or chunking) ------------------------------------------
    @abstractmethod
    def begin_rebuild(self) -> Store:
        """The sibling store a rebuild writes into while this one keeps serving.

        It is empty, or holds what an interrupted (killed) rebuild wrote, settings
        included, so a rebuild resumes by hash. Only one rebuild per store at a time:
        callers hold the project's write lock.
        """

    @abstractmethod
    def commit_rebuild(self, sibling: Store) -> Store:
        """Replace this store's contents by ``sibling``'s (from ``begin_rebuild``).

        Both stores are closed; the returned store is the one to use from now on. A
        process killed at any point leaves either the old contents or the new, never a
        mix: a backend completes or rolls back an interrupted commit when next opened.
        """

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
        """Every stored chunk, by document id then chunk index (for synthesis and benchmarks)."""

    @abstractmethod
    def iter_documents(self) -> list[Document]:
        """Every stored document with its full text, by id (for re-chunking without the files)."""

    @abstractmethod
    def search_dense(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[Hit]:
        """The ``k`` chunks of highest inner product with ``vector`` (score = product)."""

    @abstractmethod
    def search_bm25(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Hit]:
        """The ``k`` chunks of highest BM25 score for ``query``; chunks sharing no term
        with it are never hits."""

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
