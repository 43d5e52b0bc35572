"""Stores: where documents, chunks and vectors live.

from ragtune.index import open_store
store = open_store(config.index, default_path=project.store_dir)
"""

from __future__ import annotations

from pathlib import Path

from ragtune.config import IndexConfig
from ragtune.index.base import CheckReport, DocumentRecord, IndexedDocument, Store

__all__ = ["CheckReport", "DocumentRecord", "IndexedDocument", "Store", "open_store"]


def open_store(config: IndexConfig, default_path: Path) -> Store:
    """Open (creating if needed) the store a config names, through the registry."""
    from ragtune.registry import stores

    path = Path(config.path) if config.path else default_path
    store: Store = stores.create(config.backend, path=path, **config.store_options())
    return store
