"""Every built-in store passes :class:`~ragtune.testing.store_contract.StoreContract`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ragtune.index.base import Store
from ragtune.registry import stores
from ragtune.testing.store_contract import StoreContract
from tests.index import test_qdrant_contract


class TestSQLiteStoreContract(StoreContract):
    def make_store(self, path: Path) -> Store:
        store: Store = stores.create("sqlite", path=path)
        return store


CONTRACTED = {
    "sqlite": TestSQLiteStoreContract,
    "qdrant": test_qdrant_contract.TestQdrantLocalContract,
}


def test_every_built_in_store_has_a_contract_test() -> None:
    built_in = {
        name for name in stores.names() if stores.get(name).__module__.startswith("ragtune.")
    }
    assert built_in == set(CONTRACTED)


def test_importing_ragtune_does_not_import_pytest() -> None:
    code = (
        "import sys, ragtune, ragtune.index, ragtune.testing, ragtune.index.sqlite;"
        " print('pytest' in sys.modules);"
        " import ragtune.testing.store_contract; print('pytest' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "True"], out.stderr
