"""Run the ragtune CLI and SIGKILL it at a chosen point: a real kill, at a known place.

    RAGTUNE_TEST_KILL_AT=write:3:store.next python -m tests.index.killer ingest docs -p proj

Points (``RAGTUNE_TEST_KILL_AT``):

- ``write:N[:FOLDER]``: the N-th ``SQLiteStore.write`` (to a store whose folder is named
  ``FOLDER``, e.g. ``store.next`` for a rebuild), killed *after* it committed;
- ``delete:N``: likewise for ``SQLiteStore.delete``;
- ``before:DOC_ID``: the ``SQLiteStore.write`` of a batch holding ``DOC_ID``, before it;
- ``swap``: between the two renames of a rebuild's folder swap.

``RAGTUNE_TEST_WRITE_GROUP`` sets ``ragtune.ingest.WRITE_GROUP_CHUNKS`` (more, smaller
transactions: more places to be killed). Without a kill point it is the plain CLI.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_after(method: Callable[..., Any], n: int, folder: str | None) -> Callable[..., Any]:
    calls = {"n": 0}

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        if folder is None or self.path.name == folder:
            calls["n"] += 1
            if calls["n"] >= n:
                _die()
        return result

    return wrapped


def install(spec: str) -> None:
    """Patch the kill point ``spec`` in (see the module docstring)."""
    import ragtune.index.folder_swap as folder_swap
    from ragtune.index.sqlite import SQLiteStore

    kind, _, rest = spec.partition(":")
    if kind in ("write", "delete"):
        count, _, folder = rest.partition(":")
        method = getattr(SQLiteStore, kind)
        setattr(SQLiteStore, kind, _kill_after(method, int(count), folder or None))
    elif kind == "before":
        real_write = SQLiteStore.write

        def write(self: Any, items: Any) -> None:
            if any(item.document.id == rest for item in items):
                _die()
            real_write(self, items)

        SQLiteStore.write = write  # type: ignore[method-assign]
    elif kind == "swap":
        real_replace = folder_swap.os.replace

        class _KillingOs:
            def __getattr__(self, name: str) -> Any:
                return getattr(os, name)

            @staticmethod
            def replace(src: Any, dst: Any) -> None:
                real_replace(src, dst)
                if str(dst).endswith(".old"):
                    _die()  # the first rename done, the second not

        folder_swap.os = _KillingOs()  # type: ignore[assignment]
    elif kind:
        raise SystemExit(f"unknown kill point {spec!r}")


def main() -> None:
    import ragtune.ingest
    from ragtune.cli.main import main as cli_main

    group = os.environ.get("RAGTUNE_TEST_WRITE_GROUP")
    if group:
        ragtune.ingest.WRITE_GROUP_CHUNKS = int(group)
    install(os.environ.get("RAGTUNE_TEST_KILL_AT", ""))
    sys.argv = ["ragtune", *sys.argv[1:]]
    cli_main()


if __name__ == "__main__":
    main()
