"""The store contract (``ragtune.testing.store_contract``) run against the sqlite backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ragtune.index.base import Store
from ragtune.registry import stores
from ragtune.testing.store_contract import StoreContract


class TestSQLiteStore(StoreContract):
    def make_store(self, path: Path) -> Store:
        store: Store = stores.create("sqlite", path=path)
        return store


def test_importing_ragtune_does_not_import_pytest() -> None:
    code = (
        "import sys, ragtune, ragtune.index, ragtune.testing, ragtune.index.sqlite;"
        " sys.exit('pytest' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
