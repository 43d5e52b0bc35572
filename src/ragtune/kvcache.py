"""A SQLite table of bytes by key: the store behind ragtune's caches of work already done.

The answer cache (:mod:`ragtune.llm.answer_cache`) keeps what a re-run would otherwise
recompute, keyed by a hash of everything that decides it. A cache only ever saves time, so a file that cannot
be read is set aside (``*.unreadable``) and started afresh rather than failing the run::

    >>> import tempfile, pathlib
    >>> cache = KeyValueCache(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
    >>> cache.put_many({"k": b"v"}); cache.get_many(["k", "missing"])
    {'k': b'v'}
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
_CHUNK = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)


class KeyValueCache:
    """Bytes by key in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError:
            self.path.replace(self.path.with_suffix(".unreadable"))
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute(_SCHEMA)
        db.execute("SELECT COUNT(*) FROM entries").fetchone()
        return db

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), _CHUNK):
                part = list(keys[start : start + _CHUNK])
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, value FROM entries WHERE key IN ({marks})", part
                ).fetchall()
                found.update((key, bytes(value)) for key, value in rows)
        return found

    def put_many(self, items: Mapping[str, bytes]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)", list(items.items())
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
