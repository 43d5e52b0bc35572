"""Errors ragtune raises on purpose. Each message names the file, line, key or value at fault."""

from __future__ import annotations


class RagtuneError(Exception):
    """Base class: the CLI prints these as one clean line instead of a traceback."""


class ConfigError(RagtuneError):
    """A bad config key or value, an unknown backend name."""


class LoadError(RagtuneError):
    """A file that cannot be loaded: unreadable, encrypted, empty, binary, mis-encoded."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DataError(RagtuneError):
    """A malformed data row (QA file, JSONL document); the message names file and line."""


class IndexMissingError(RagtuneError):
    """The project has no index yet."""


class BackendUnavailableError(RagtuneError):
    """A model endpoint or optional dependency that is not there."""
