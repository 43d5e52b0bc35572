"""Incremental ingestion: load, diff by content hash, chunk, embed and write only what changed.

    report, store = sync_paths(store, embedder, [Path("docs/")], corpus, index_key, chunker)
    report.added, report.updated, report.deleted, report.unchanged, report.failed

**What changed.** A stored document is unchanged when its ``content_hash``
(``ragtune.types.document_hash``: text, title and metadata) and its ``source`` are
the loaded one's. A changed one is re-chunked, re-embedded and replaced (chunks and
vectors in one transaction); one whose only change is its ``source`` (a moved folder)
gets the new source without re-embedding.

**Identity.** ``Document.id`` is the path relative to the ingested folder (a named file:
relative to its own folder; a JSONL record: ``<relpath>#<record id>``); ``source`` is
the file's absolute path at its last ingest. A document's *root* is its ``source``
with the id's path removed (:func:`document_root`). So ids survive a move of the folder:

- *Moved folder.* A loaded document whose id is stored from another source that no
  longer exists takes that id over (its source is updated), and the old root, when it
  no longer exists, is then treated as the folder being ingested: its documents that
  were not loaded are deleted, as they would be under the new root.
- *Two folders, one relative path.* A loaded document whose id is stored from another
  file that still exists is not written: it is reported, and the stored one kept. Ingest
  two folders with the same layout into separate projects, or one parent folder. With
  ``mirror=True`` the given paths are the whole index, so the loaded document replaces
  the stored one: that is how a new version of the documents in a folder of its own
  (``ragtune freshness --update NEW_DOCS``) takes over.

**What is deleted.** A stored document that was not loaded is deleted when it is in
scope (its source is a file named in ``paths`` or under a folder there, or its root moved
here, or ``mirror=True``) and not protected: a file that failed to load as a whole keeps
its previous version, and so does everything under a folder that could not be listed
(unreadable is not gone). A file that loaded with per-record problems (a bad JSONL
line, a replaced byte) is authoritative for its records.

**Checks.** Every loaded document passes :func:`ragtune.corpus.validation.check_document`,
as documents sent to the server do; one that fails (an id with ``..`` or a NUL, a lone
surrogate in a JSONL record) is reported with its file and skipped, like a bad JSONL line.

**Bounded work.** Changed documents are written smallest first, chunked one at a time
(in windows of ``CHUNKING_WINDOW_CHARS``) and committed in groups of about
``WRITE_GROUP_CHUNKS`` chunks, so a huge file neither holds the others back nor holds
its neighbours' work hostage; a killed run resumes from what was committed.

**Rebuilds.** When ``index_key`` (embedder and chunking settings) differs from the one
the store was built with, everything is rebuilt into ``store.begin_rebuild()`` from the
stored texts plus the files given, then ``store.commit_rebuild(sibling)`` swaps it in:
the old index serves until then and vectors of two models are never mixed. A killed
rebuild resumes by hash, and the sibling is made to hold exactly the wanted documents,
so a document deleted between a killed rebuild and its rerun does not come back.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ragtune.config import CorpusConfig
from ragtune.corpus import Chunker, iter_load
from ragtune.corpus.loaders.budget import LoadBudget
from ragtune.corpus.validation import check_document
from ragtune.embed.base import Embedder
from ragtune.index.base import DocumentRecord, IndexedDocument, Store
from ragtune.progress import Progress
from ragtune.types import Chunk, Document, IngestReport, document_hash

__all__ = [
    "EMBEDDER_FINGERPRINT",
    "INDEX_KEY",
    "LoadedFiles",
    "document_root",
    "load_documents",
    "sync_documents",
    "sync_paths",
    "write_documents",
    "write_lock",
]

INDEX_KEY = "index_key"
EMBEDDER_FINGERPRINT = "embedder_fingerprint"
# Chunks embedded and written per transaction: big enough to keep the model busy,
# small enough that a kill loses little work.
WRITE_GROUP_CHUNKS = 512
# A document longer than this is chunked a window at a time (``Chunker.split_windowed``),
# so chunking a 30 MB file needs the memory of 1 MB. A constant, not a setting: it shapes
# the chunks of such documents, and every index must chunk them alike.
CHUNKING_WINDOW_CHARS = 1_000_000


@contextmanager
def write_lock(lock_dir: Path) -> Iterator[None]:
    """One writer per project at a time, across processes (released by the OS on kill)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    with (lock_dir / "write.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def document_root(doc_id: str, source: str) -> str | None:
    """The folder a document was ingested from: ``source`` less the id's path.

    ``None`` when the id is not a relative path of the source (a document sent as text).

    >>> document_root("guides/x200.md", "/data/docs/guides/x200.md")
    '/data/docs'
    >>> document_root("kb.jsonl#faq-1", "/data/kb.jsonl"), document_root("note", "upload:n")
    ('/data', None)
    """
    candidates = [doc_id] + [doc_id[:i] for i, char in enumerate(doc_id) if char == "#"]
    for relative in candidates:
        if relative and source.endswith(os.sep + relative):
            return source[: -len(relative) - 1] or os.sep
    return None


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass
class LoadedFiles:
    """What loading ``paths`` gave: documents by id, the problems met, and what is
    protected from deletion (files that loaded nothing, folders that could not be listed)."""

    documents: dict[str, Document] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    failed_files: set[str] = field(default_factory=set)
    failed_folders: list[str] = field(default_factory=list)

    def protects(self, source: str) -> bool:
        """Whether a stored document from ``source`` must be kept although not loaded."""
        return source in self.failed_files or any(_under(source, f) for f in self.failed_folders)


def load_documents(paths: Sequence[Path], corpus: CorpusConfig, progress: Progress) -> LoadedFiles:
    """Load every file under ``paths`` within the corpus budget (``LoadBudget.from_config``)."""
    loaded = LoadedFiles()
    budget = LoadBudget.from_config(corpus)
    with progress.task("loading", total=None, unit="files") as advance:
        for result in iter_load(
            list(paths), include=corpus.include, max_file_mb=corpus.max_file_mb, budget=budget
        ):
            for error in result.errors:
                loaded.failures.append({"path": str(error.path), "reason": error.reason})
            # The server's checks (ids, lone surrogates, metadata): a record the API could
            # not store or list is reported like a bad JSONL line, not written.
            documents = []
            for doc in result.documents:
                try:
                    documents.append(check_document(doc))
                except ValueError as exc:
                    line = doc.meta.get("line") if doc.meta.get("format") == "jsonl" else None
                    reason = f"line {line}: {exc}" if line else str(exc)
                    loaded.failures.append({"path": result.path, "reason": reason})
            if not documents and (result.errors or result.documents):
                # Nothing loaded: keep the file's previous version. Never resolve(): a
                # symlink loop raises there. Paths are absolute already.
                where = str(result.errors[0].path) if result.errors else result.path
                if result.errors and result.errors[0].reason.startswith("unreadable folder"):
                    loaded.failed_folders.append(where)
                else:
                    loaded.failed_files.add(where)
            for doc in documents:
                loaded.documents[doc.id] = doc
            advance(1)
    return loaded


def _chunked(
    chunker: Chunker, documents: Iterable[Document], window_chars: int
) -> Iterator[tuple[Document, list[Chunk]]]:
    for doc in documents:
        yield doc, list(chunker.split_windowed(doc, window_chars))


def _groups(
    items: Iterable[tuple[Document, list[Chunk]]],
) -> Iterator[list[tuple[Document, list[Chunk]]]]:
    """Documents in transactions of about ``WRITE_GROUP_CHUNKS`` chunks; a document that
    would overflow a group starts the next one, so a huge one is written on its own."""
    group: list[tuple[Document, list[Chunk]]] = []
    size = 0
    for doc, chunks in items:
        if group and size + len(chunks) > WRITE_GROUP_CHUNKS:
            yield group
            group, size = [], 0
        group.append((doc, chunks))
        size += len(chunks)
    if group:
        yield group


def write_documents(
    store: Store,
    embedder: Embedder,
    chunker: Chunker,
    documents: Sequence[Document],
    progress: Progress,
    window_chars: int = CHUNKING_WINDOW_CHARS,
) -> int:
    """Chunk, embed and write ``documents``, smallest first, a bounded group per
    transaction; returns the number of chunks embedded."""
    ordered = sorted(documents, key=lambda d: (len(d.text), d.id))
    total = 0
    with progress.task("embedding", total=None, unit="chunks") as advance:
        for group in _groups(_chunked(chunker, ordered, window_chars)):
            texts = [chunk.text for _, chunks in group for chunk in chunks]
            # One embed call per bounded slice: a 50k-chunk document is not one batch.
            vectors = (
                np.concatenate(
                    [
                        embedder.embed(texts[i : i + WRITE_GROUP_CHUNKS])
                        for i in range(0, len(texts), WRITE_GROUP_CHUNKS)
                    ]
                )
                if texts
                else None
            )
            items, offset = [], 0
            for doc, chunks in group:
                doc_vectors = (
                    vectors[offset : offset + len(chunks)]
                    if vectors is not None
                    else np.zeros((0, 0))
                )
                items.append(IndexedDocument(doc, chunks, doc_vectors))
                offset += len(chunks)
            store.write(items)
            total += len(texts)
            advance(len(texts))
    return total


def sync_documents(
    store: Store,
    embedder: Embedder,
    chunker: Chunker,
    documents: dict[str, Document],
    delete_ids: set[str],
    progress: Progress,
    report: IngestReport,
    window_chars: int = CHUNKING_WINDOW_CHARS,
) -> None:
    """Make ``store`` hold ``documents`` (by hash and source) and not ``delete_ids``."""
    stored = {record.id: record for record in store.list_documents()}
    changed, moved = [], {}
    for doc_id, doc in sorted(documents.items()):
        old = stored.get(doc_id)
        if old is not None and old.content_hash == document_hash(doc):
            report.unchanged += 1
            if old.source != doc.source:
                moved[doc_id] = doc.source
            continue
        if old is None:
            report.added += 1
        else:
            report.updated += 1
        changed.append(doc)
    store.set_sources(moved)
    report.chunks_embedded += write_documents(
        store, embedder, chunker, changed, progress, window_chars
    )
    report.deleted += store.delete(sorted(delete_ids & set(stored)))


@dataclass
class _Plan:
    """What a sync writes and deletes, decided from the stored records and the load."""

    documents: dict[str, Document]
    delete_ids: set[str]
    conflicts: list[dict[str, str]]


def _plan(
    stored: Sequence[DocumentRecord], loaded: LoadedFiles, paths: Sequence[Path], mirror: bool
) -> _Plan:
    by_id = {record.id: record for record in stored}
    loaded_sources = {doc.source for doc in loaded.documents.values()}
    documents: dict[str, Document] = {}
    conflicts: list[dict[str, str]] = []
    moved_roots: set[str] = set()
    for doc_id, doc in loaded.documents.items():
        old = by_id.get(doc_id)
        # --mirror says the index is exactly these paths: a new version of the documents
        # in another folder (the freshness test's update) replaces the stored one.
        if old is None or mirror or old.source == doc.source or old.source in loaded_sources:
            documents[doc_id] = doc
        elif os.path.lexists(old.source):
            conflicts.append(
                {
                    "path": doc.source,
                    "reason": f"document id {doc_id!r} is already indexed from {old.source},"
                    " which still exists; kept that one (ingest the common parent folder,"
                    " or remove the other folder's documents first)",
                }
            )
        else:
            documents[doc_id] = doc  # the old file is gone: the folder moved
            root = document_root(old.id, old.source)
            if root is not None and not os.path.lexists(root):
                moved_roots.add(root)
    scope = [str(p) for p in paths]
    delete_ids = set()
    for record in stored:
        if record.id in loaded.documents or loaded.protects(record.source):
            continue
        root = document_root(record.id, record.source)
        if mirror or any(_under(record.source, s) for s in scope) or root in moved_roots:
            delete_ids.add(record.id)
    return _Plan(documents, delete_ids, conflicts)


def sync_paths(
    store: Store,
    embedder: Embedder,
    paths: Sequence[Path],
    corpus: CorpusConfig,
    index_key: str,
    chunker: Chunker,
    mirror: bool = False,
    progress: Progress | None = None,
) -> tuple[IngestReport, Store]:
    """Bring the store in line with the files under ``paths`` (see the module docstring).

    Returns the report and the store to use from now on (a new one after a rebuild).
    ``mirror=True`` also deletes stored documents that are not under ``paths`` at all.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    report = IngestReport()
    roots = [Path(os.path.abspath(p)) for p in paths]
    loaded = load_documents(roots, corpus, progress)
    stored_records = store.list_documents()
    plan = _plan(stored_records, loaded, roots, mirror)
    report.failures = loaded.failures + plan.conflicts
    report.failed = len(report.failures)
    window = CHUNKING_WINDOW_CHARS
    if not stored_records or store.get_setting(INDEX_KEY) == index_key:
        store.set_setting(INDEX_KEY, index_key)
        store.set_setting(EMBEDDER_FINGERPRINT, embedder.fingerprint)
        sync_documents(
            store, embedder, chunker, plan.documents, plan.delete_ids, progress, report, window
        )
    else:
        store = _rebuild(store, embedder, chunker, plan, index_key, progress, report, window)
    store.flush()
    report.seconds = round(time.perf_counter() - started, 3)
    return report, store


def _rebuild(
    store: Store,
    embedder: Embedder,
    chunker: Chunker,
    plan: _Plan,
    index_key: str,
    progress: Progress,
    report: IngestReport,
    window_chars: int,
) -> Store:
    """Rebuild everything into the store's sibling from stored texts + loaded files."""
    report.reindexed = True
    old_hashes = store.document_hashes()
    wanted = {doc.id: doc for doc in store.iter_documents() if doc.id not in plan.delete_ids}
    wanted.update(plan.documents)
    sibling = store.begin_rebuild()
    if sibling.get_setting(INDEX_KEY) not in (None, index_key):
        sibling.clear()
    sibling.set_setting(INDEX_KEY, index_key)
    sibling.set_setting(EMBEDDER_FINGERPRINT, embedder.fingerprint)
    scratch = IngestReport()
    # Whatever a killed rebuild wrote that is no longer wanted goes, deletions included.
    leftover = set(sibling.document_hashes()) - set(wanted)
    sync_documents(sibling, embedder, chunker, wanted, leftover, progress, scratch, window_chars)
    report.chunks_embedded = scratch.chunks_embedded
    for doc_id, doc in plan.documents.items():
        if doc_id not in old_hashes:
            report.added += 1
        elif old_hashes[doc_id] != document_hash(doc):
            report.updated += 1
        else:
            report.unchanged += 1
    report.deleted = len(plan.delete_ids & set(old_hashes))
    return store.commit_rebuild(sibling)
