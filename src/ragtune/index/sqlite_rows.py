"""Reads that the embedded store and the Qdrant store's SQLite sidecar share: the
``settings`` and ``documents`` tables, which both keep as the source of truth for what
is indexed (see :mod:`ragtune.index.sqlite` for the schema)."""

from __future__ import annotations

import json
import sqlite3
import threading

from ragtune.types import Document


class SQLiteRows:
    """Settings and documents read from (and settings written to) ``self._db``, under
    ``self._lock``; mixed into a :class:`~ragtune.index.base.Store` before it."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def get_setting(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO settings(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def document_hashes(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT id, content_hash FROM documents").fetchall())

    def get_document(self, doc_id: str) -> Document | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, text, source, title, meta FROM documents WHERE id=?", (doc_id,)
            ).fetchone()
        if row is None:
            return None
        return Document(
            id=row[0], text=row[1], source=row[2], title=row[3], meta=json.loads(row[4])
        )

    def iter_documents(self) -> list[Document]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, text, source, title, meta FROM documents ORDER BY id"
            ).fetchall()
        return [
            Document(id=r[0], text=r[1], source=r[2], title=r[3], meta=json.loads(r[4]))
            for r in rows
        ]
