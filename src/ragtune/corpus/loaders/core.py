"""``load_file``: one file to documents, every problem turned into a ``LoadError``."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ragtune.corpus.loaders.base import LoadResult, SourceFile, loader_for, supported_extensions
from ragtune.corpus.loaders.budget import LoadBudget
from ragtune.errors import LoadError

__all__ = ["document_id", "load_file", "read_bytes"]


def document_id(path: Path, root: Path | None) -> str:
    """``path`` relative to ``root`` with forward slashes; the file name if not under it.

    >>> document_id(Path("/data/docs/guides/x200.md"), Path("/data/docs"))
    'guides/x200.md'
    """
    if root is not None:
        try:
            return path.relative_to(Path(os.path.abspath(root))).as_posix()
        except ValueError:
            pass
    return path.name


def read_bytes(path: Path, max_file_mb: float | None = None) -> bytes:
    """The file's bytes, or ``LoadError`` naming why they cannot be had."""
    where = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        reason = "broken symlink" if os.path.islink(path) else "no such file or directory"
        raise LoadError(where, reason) from None
    except PermissionError:
        raise LoadError(where, "unreadable: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LoadError(where, "symlink loop (too many levels of symbolic links)") from None
        raise LoadError(where, f"unreadable: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise LoadError(where, "is a directory")
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        raise LoadError(where, "not a regular file")
    limit = None if max_file_mb is None else max_file_mb * 1024 * 1024
    if limit is not None and info.st_size > limit:
        raise LoadError(
            where, f"too large: {info.st_size / 2**20:.1f} MB > max_file_mb={max_file_mb:g}"
        )
    if info.st_size == 0:
        raise LoadError(where, "empty file")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except PermissionError:
        raise LoadError(where, "unreadable: permission denied") from None
    except OSError as exc:
        raise LoadError(where, f"unreadable: {exc.strerror or exc}") from None
    if not data:
        raise LoadError(where, "empty file")
    return data


def load_file(
    path: Path | str,
    root: Path | None = None,
    *,
    max_file_mb: float | None = None,
    budget: LoadBudget | None = None,
) -> LoadResult:
    """Load one file into documents. Never raises for bad input: problems are returned.

    ``Document.id`` is the path relative to ``root`` (default: the file's folder),
    with forward slashes; JSONL documents are ``"<relpath>#<record id>"``. The file
    loads within ``budget`` (default ``LoadBudget()``): over it, it gives no documents
    and one error saying which limit. Problems it loaded despite (a replaced byte, a bad
    JSONL line) come as errors beside its documents.

    >>> result = load_file(Path("docs/guides/x200.md"), root=Path("docs"))  # doctest: +SKIP
    >>> result.documents[0].id, result.errors  # doctest: +SKIP
    ('guides/x200.md', [])
    """
    absolute = Path(os.path.abspath(path))
    result = LoadResult(path=str(absolute))
    extension = absolute.suffix.lower()
    loader = loader_for(extension)
    try:
        if loader is None:
            if not os.path.lexists(absolute):
                raise LoadError(str(absolute), "no such file or directory")
            if absolute.is_dir():
                raise LoadError(str(absolute), "is a directory")
            known = ", ".join(supported_extensions())
            shown = extension or "(no extension)"
            raise LoadError(str(absolute), f"unsupported file type {shown} (supported: {known})")
        data = read_bytes(absolute, max_file_mb)
        spend = (budget or LoadBudget()).start(str(absolute))
        source = SourceFile(absolute, document_id(absolute, root), spend)
        loaded = loader(data, source)
        spend.text(sum(len(doc.text) for doc in loaded.documents))
        spend.tick()
        result.documents, result.errors = loaded.documents, source.notes + loaded.errors
    except LoadError as exc:
        result.errors.append(exc)
    except Exception as exc:  # a parser bug or a file no parser expected: report, go on
        fmt = extension.lstrip(".") or "file"
        result.errors.append(
            LoadError(str(absolute), f"cannot parse {fmt}: {type(exc).__name__}: {exc}")
        )
    return result
