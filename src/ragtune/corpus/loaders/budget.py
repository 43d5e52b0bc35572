"""Per-file load budgets: no single file may stall an ingest or exhaust memory.

Each file loads within limits on its size after decompression, its number of elements
(paragraphs, tags, pages, lines) and its loading time; a file over one is skipped with
its path and the reason, like any other bad file. Elements are counted *before* the
expensive parse where the format allows (``<w:p>`` tags of a DOCX, tags of an HTML page),
and time is checked as the loader goes, against an injectable clock::

    budget = LoadBudget.from_config(config.corpus)      # or LoadBudget(max_elements=10)
    spend = budget.start("/docs/huge.docx")
    spend.elements(446_000, "paragraphs")   # LoadError: over corpus.max_elements
    spend.tick("page 3")                    # LoadError once max_seconds have passed
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ragtune.errors import LoadError

if TYPE_CHECKING:
    from ragtune.config import CorpusConfig

__all__ = ["FileBudget", "LoadBudget"]


@dataclass(frozen=True)
class LoadBudget:
    """The limits every file loads within (the ``corpus.max_*`` settings)."""

    max_unzipped_mb: float = 128.0
    max_elements: int = 100_000
    max_seconds: float = 120.0
    max_text_mb: float = 64.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def from_config(cls, corpus: CorpusConfig) -> LoadBudget:
        """The budget ``corpus`` (a ``CorpusConfig``) sets."""
        return cls(
            max_unzipped_mb=corpus.max_unzipped_mb,
            max_elements=corpus.max_elements,
            max_seconds=corpus.max_seconds_per_file,
            max_text_mb=corpus.max_text_mb,
        )

    def start(self, path: str) -> FileBudget:
        """Start spending on one file: its clock starts now."""
        return FileBudget(self, path, self.clock())


@dataclass
class FileBudget:
    """One file's budget being spent; each check raises ``LoadError`` when over it."""

    limits: LoadBudget
    path: str
    started: float

    def unzipped(self, size_bytes: int) -> None:
        """An archive's declared size after decompression."""
        limit = self.limits.max_unzipped_mb
        if size_bytes > limit * 2**20:
            raise LoadError(
                self.path,
                f"too large when unzipped: {size_bytes / 2**20:.1f} MB"
                f" > corpus.max_unzipped_mb={limit:g}",
            )

    def elements(self, count: int, what: str) -> None:
        """The file's number of ``what`` (paragraphs, tags, pages, lines)."""
        limit = self.limits.max_elements
        if count > limit:
            raise LoadError(
                self.path, f"too many {what}: {count:,} > corpus.max_elements={limit:,}"
            )

    def text(self, chars: int) -> None:
        """The amount of text the file gave."""
        limit = self.limits.max_text_mb
        if chars > limit * 2**20:
            raise LoadError(
                self.path,
                f"too much text: {chars / 2**20:.1f} M characters > corpus.max_text_mb={limit:g}",
            )

    def tick(self, where: str = "") -> None:
        """Raise if the file has taken longer than ``max_seconds`` so far."""
        spent = self.limits.clock() - self.started
        limit = self.limits.max_seconds
        if spent > limit:
            at = f" (at {where})" if where else ""
            raise LoadError(
                self.path,
                f"took too long: {spent:.1f} s > corpus.max_seconds_per_file={limit:g}{at}",
            )
