"""The two collections behind a Qdrant store's name, and the client they share.

The store's collection name is an alias over ``<collection>-a`` or ``<collection>-b``,
each with its own SQLite file ``<collection>-<slot>.sqlite`` in the store folder. A
rebuild writes the other slot, whose SQLite file appears already marked as a sibling
(written under another name, then renamed), and moving the alias, one request that a
server applies atomically, is the commit. ``Slots.live()`` finishes what a kill
interrupted: a live slot still marked as a sibling had its alias moved, so the other
slot is dropped; an unmarked other slot is a leftover, dropped; a marked one is a killed
rebuild, kept for ``begin_rebuild`` to resume.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

SLOTS = ("a", "b")

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL,
    n_chunks INTEGER NOT NULL, version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, idx INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, idx);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY);
"""


class Connection:
    """A client shared by the stores of one process that use it: local mode locks its
    folder to one client, and a rebuild's sibling lives in the same folder."""

    _local: dict[Path, Connection] = {}  # noqa: RUF012 - one registry per process
    _guard = threading.Lock()

    def __init__(self, client: QdrantClient, folder: Path | None = None) -> None:
        self.client = client
        self.folder = folder
        self.users = 0

    @classmethod
    def open(cls, path: Path, url: str | None, api_key_env: str) -> Connection:
        """A server's client, or the process's client of local mode in ``path/qdrant``."""
        with cls._guard:
            if url:
                key = os.environ.get(api_key_env)
                connection = cls(QdrantClient(url=url, api_key=key, timeout=120))
            else:
                folder = (path / "qdrant").resolve()
                connection = cls._local.get(folder) or cls(QdrantClient(path=str(folder)), folder)
                cls._local[folder] = connection
            connection.users += 1
        return connection

    def share(self) -> Connection:
        with self._guard:
            self.users += 1
        return self

    def release(self) -> None:
        with self._guard:
            self.users -= 1
            if self.users > 0:
                return
            if self.folder is not None:
                self._local.pop(self.folder, None)
        self.client.close()


def open_sidecar(file: Path) -> sqlite3.Connection:
    """A slot's SQLite file (WAL: readers in other processes go on reading)."""
    db = sqlite3.connect(file, check_same_thread=False, isolation_level=None, timeout=60.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db


class Slots:
    """The slots of collection ``collection`` whose SQLite files are in ``folder``."""

    def __init__(self, client: QdrantClient, folder: Path, collection: str) -> None:
        self.client, self.folder, self.collection = client, folder, collection

    def name(self, slot: str) -> str:
        return f"{self.collection}-{slot}"

    def sidecar(self, slot: str) -> Path:
        return self.folder / f"{self.name(slot)}.sqlite"

    @staticmethod
    def other(slot: str) -> str:
        return SLOTS[1 - SLOTS.index(slot)]

    def marked_sibling(self, slot: str) -> bool | None:
        """Whether ``slot``'s SQLite file says it is a rebuild sibling; None: no file."""
        file = self.sidecar(slot)
        if not file.exists():
            return None
        db = sqlite3.connect(file, timeout=60.0)
        try:
            row = db.execute("SELECT value FROM state WHERE key='role'").fetchone()
        except sqlite3.OperationalError:
            row = None
        finally:
            db.close()
        return row is not None and row[0] == "sibling"

    def alias_target(self) -> str | None:
        for alias in self.client.get_aliases().aliases:
            if alias.alias_name == self.collection:
                return alias.collection_name.rsplit("-", 1)[-1]
        return None

    def live(self) -> str:
        """The live slot, after completing or discarding what a killed process left."""
        live = self.alias_target()
        if live is None:  # no alias yet (nothing written), or lost in a change of dim
            unmarked = [s for s in SLOTS if self.marked_sibling(s) is False]
            live = unmarked[0] if unmarked else SLOTS[0]
        if self.marked_sibling(live):  # the alias moved; the cleanup did not finish
            db = sqlite3.connect(self.sidecar(live), timeout=60.0)
            with db:
                db.execute("DELETE FROM state WHERE key='role'")
            db.close()
            self.drop(self.other(live))
        elif not self.marked_sibling(self.other(live)):
            self.drop(self.other(live))
        return live

    def drop(self, slot: str) -> None:
        """Delete a slot's collection and SQLite file."""
        if self.client.collection_exists(self.name(slot)):
            self.client.delete_collection(self.name(slot))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.sidecar(slot)}{suffix}").unlink(missing_ok=True)

    def make_sibling(self, slot: str) -> None:
        """Give ``slot`` an empty SQLite file marked as a sibling, unless it has one."""
        if self.marked_sibling(slot):
            return
        self.drop(slot)
        # Written under another name and renamed, so no process ever sees an unmarked
        # file in the slot (it would drop it as a leftover).
        draft = self.folder / f"{self.name(slot)}.draft"
        draft.unlink(missing_ok=True)
        db = sqlite3.connect(draft)
        with db:
            db.executescript(SCHEMA)
            db.execute("INSERT INTO state(key, value) VALUES('role', 'sibling')")
        db.close()
        os.replace(draft, self.sidecar(slot))

    def point_alias_to(self, slot: str) -> None:
        """Make the collection name an alias of ``slot``'s collection, in one request."""
        operations: list[Any] = []
        if self.alias_target() is not None:
            delete = qm.DeleteAlias(alias_name=self.collection)
            operations.append(qm.DeleteAliasOperation(delete_alias=delete))
        create = qm.CreateAlias(collection_name=self.name(slot), alias_name=self.collection)
        operations.append(qm.CreateAliasOperation(create_alias=create))
        self.client.update_collection_aliases(change_aliases_operations=operations)
