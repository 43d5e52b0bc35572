"""Incremental ingestion: load, diff by content hash, chunk, embed and write only what changed.

    report = sync_paths(store, embedder, [Path("docs/")], corpus_config, index_key)
    report.added, report.updated, report.deleted, report.unchanged, report.failed

- A document whose text hash is unchanged is skipped; a changed one is re-chunked,
  re-embedded and replaced (chunks and vectors in one transaction); a stored document
  whose file is gone from an ingested folder is deleted. A file that fails to load keeps
  its previous version and is reported with its reason.
- ``index_key`` names the embedder and chunking settings. When it differs from the one
  the store was built with, everything is rebuilt into a sibling store folder from the
  stored texts plus the files given, and swapped in when complete: the old index keeps
  serving until then and vectors of two models are never mixed. A killed rebuild resumes
  where it stopped, because the sibling is itself an incremental store.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ragtune.config import CorpusConfig
from ragtune.corpus import Chunker, iter_load
from ragtune.embed.base import Embedder
from ragtune.index.base import IndexedDocument, Store
from ragtune.progress import Progress
from ragtune.types import Chunk, Document, IngestReport

INDEX_KEY = "index_key"
EMBEDDER_FINGERPRINT = "embedder_fingerprint"
# Chunks embedded and written per transaction: big enough to keep the model busy,
# small enough that a kill loses little work.
WRITE_GROUP_CHUNKS = 512


@contextmanager
def write_lock(store_dir: Path) -> Iterator[None]:
    """One writer per store at a time, across processes (released by the OS on kill)."""
    store_dir.mkdir(parents=True, exist_ok=True)
    with (store_dir / "write.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _in_scope(source: str, roots: Sequence[Path]) -> bool:
    for root in roots:
        root_str = str(root)
        if source == root_str or source.startswith(root_str.rstrip(os.sep) + os.sep):
            return True
    return False


def load_documents(
    paths: Sequence[Path], corpus: CorpusConfig, progress: Progress
) -> tuple[dict[str, Document], list[dict[str, str]], set[str]]:
    """Load every file under ``paths``: documents by id, failures, and failed sources."""
    documents: dict[str, Document] = {}
    failures: list[dict[str, str]] = []
    failed_sources: set[str] = set()
    with progress.task("loading", total=None, unit="files") as advance:
        for result in iter_load(
            list(paths), include=corpus.include, max_file_mb=corpus.max_file_mb
        ):
            for error in result.errors:
                failures.append({"path": str(error.path), "reason": error.reason})
                failed_sources.add(str(Path(error.path).resolve()) if error.path else "")
            for doc in result.documents:
                if doc.id in documents and documents[doc.id].source != doc.source:
                    failures.append(
                        {
                            "path": doc.source,
                            "reason": f"document id {doc.id!r} also comes from {documents[doc.id].source}; kept the first",
                        }
                    )
                    continue
                documents[doc.id] = doc
            advance(1)
    return documents, failures, failed_sources


def _groups(
    items: list[tuple[Document, list[Chunk]]],
) -> Iterator[list[tuple[Document, list[Chunk]]]]:
    group: list[tuple[Document, list[Chunk]]] = []
    size = 0
    for doc, chunks in items:
        group.append((doc, chunks))
        size += len(chunks)
        if size >= WRITE_GROUP_CHUNKS:
            yield group
            group, size = [], 0
    if group:
        yield group


def write_documents(
    store: Store,
    embedder: Embedder,
    chunker: Chunker,
    documents: Sequence[Document],
    progress: Progress,
) -> int:
    """Chunk, embed and write ``documents``; returns the number of chunks embedded."""
    chunked = [(doc, chunker.split(doc)) for doc in documents]
    total = sum(len(chunks) for _, chunks in chunked)
    with progress.task("embedding", total=total, unit="chunks") as advance:
        for group in _groups(chunked):
            texts = [chunk.text for _, chunks in group for chunk in chunks]
            vectors = embedder.embed(texts) if texts else None
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
) -> None:
    """Make ``store`` hold ``documents`` (by hash) and not ``delete_ids``."""
    stored = store.document_hashes()
    changed = []
    for doc_id, doc in sorted(documents.items()):
        old = stored.get(doc_id)
        if old == doc.hash:
            report.unchanged += 1
            continue
        if old is None:
            report.added += 1
        else:
            report.updated += 1
        changed.append(doc)
    report.chunks_embedded += write_documents(store, embedder, chunker, changed, progress)
    report.deleted += store.delete(sorted(delete_ids & set(stored)))


def sync_paths(
    store: Store,
    embedder: Embedder,
    paths: Sequence[Path],
    corpus: CorpusConfig,
    index_key: str,
    chunker: Chunker,
    open_sibling: Callable[[], Store] | None = None,
    swap_sibling: Callable[[], Store] | None = None,
    mirror: bool = False,
    progress: Progress | None = None,
) -> tuple[IngestReport, Store]:
    """Bring the store in line with the files under ``paths``.

    Returns the report and the store to use from now on (a new one after a rebuild).
    ``mirror=True`` also deletes stored documents that are not under ``paths`` at all.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    report = IngestReport()
    roots = [p.resolve() for p in paths]
    documents, report.failures, failed_sources = load_documents(roots, corpus, progress)
    report.failed = len(report.failures)

    stored_records = store.list_documents()
    delete_ids = {
        record.id
        for record in stored_records
        if record.id not in documents
        and record.source not in failed_sources
        and (mirror or _in_scope(record.source, roots))
    }
    stale = bool(stored_records) and store.get_setting(INDEX_KEY) != index_key
    if not stale:
        store.set_setting(INDEX_KEY, index_key)
        store.set_setting(EMBEDDER_FINGERPRINT, embedder.fingerprint)
        sync_documents(store, embedder, chunker, documents, delete_ids, progress, report)
    else:
        # Rebuild everything into the sibling store from stored texts + fresh files.
        assert open_sibling is not None and swap_sibling is not None
        report.reindexed = True
        old_hashes = {r.id: r.content_hash for r in stored_records}
        carried = {doc.id: doc for doc in store.iter_documents() if doc.id not in delete_ids}
        carried.update(documents)
        sibling = open_sibling()
        if sibling.get_setting(INDEX_KEY) not in (None, index_key):
            sibling.clear()
        sibling.set_setting(INDEX_KEY, index_key)
        sibling.set_setting(EMBEDDER_FINGERPRINT, embedder.fingerprint)
        scratch = IngestReport()
        sync_documents(sibling, embedder, chunker, carried, set(), progress, scratch)
        report.chunks_embedded = scratch.chunks_embedded
        for doc_id, doc in documents.items():
            if doc_id not in old_hashes:
                report.added += 1
            elif old_hashes[doc_id] != doc.hash:
                report.updated += 1
            else:
                report.unchanged += 1
        report.deleted = len(delete_ids)
        sibling.close()
        store.close()
        store = swap_sibling()
    store.flush()
    report.seconds = round(time.perf_counter() - started, 3)
    return report, store


def swap_folders(current: Path, sibling: Path) -> None:
    """Replace ``current`` by ``sibling`` with renames; safe to re-run after a kill."""
    retired = current.with_name(current.name + ".old")
    if retired.exists():
        shutil.rmtree(retired)
    if current.exists():
        os.replace(current, retired)
    os.replace(sibling, current)
    shutil.rmtree(retired, ignore_errors=True)


def recover_interrupted_swap(current: Path) -> None:
    """If a kill landed between the two renames of ``swap_folders``, finish the swap."""
    sibling = current.with_name(current.name + ".next")
    retired = current.with_name(current.name + ".old")
    if not current.exists() and sibling.exists() and retired.exists():
        os.replace(sibling, current)
    if current.exists() and retired.exists():
        shutil.rmtree(retired, ignore_errors=True)
