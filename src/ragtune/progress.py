"""Progress for long work: rich bars with rate and ETA on a terminal, silence elsewhere.

Library code takes a ``Progress`` and calls ``task(...)``; the CLI passes a
``RichProgress``, tests and ``--json`` runs pass the silent base ``Progress()``::

    with RichProgress() as progress:
        with progress.task("embedding", total=len(chunks), unit="chunks") as advance:
            for batch in batches:
                ...
                advance(len(batch))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Advance = Callable[[int], None]


class Progress:
    """No-op base: library code can always call ``task``."""

    @contextmanager
    def task(self, description: str, total: int | None, unit: str = "items") -> Iterator[Advance]:
        yield lambda n: None

    def log(self, message: str) -> None:
        pass

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class RichProgress(Progress):
    """A rich progress display: bar, count, rate, elapsed and ETA, on stderr."""

    def __init__(self, enabled: bool | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _RichProgress

        self.console = Console(stderr=True)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._progress: Any = _RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.enabled,
            transient=False,
        )

    def __enter__(self) -> RichProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    @contextmanager
    def task(self, description: str, total: int | None, unit: str = "items") -> Iterator[Advance]:
        task_id = self._progress.add_task(description, total=total, rate="")

        def advance(n: int) -> None:
            self._progress.advance(task_id, n)
            task = self._progress.tasks[task_id]
            speed = task.finished_speed or task.speed
            if speed:
                self._progress.update(task_id, rate=f"{speed:,.1f} {unit}/s")

        try:
            yield advance
        finally:
            if total is not None:
                self._progress.update(task_id, completed=total)

    def log(self, message: str) -> None:
        if self.enabled:
            self._progress.console.print(message)
