"""``iter_load``: files and folders to per-file ``LoadResult``s, deterministically."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ragtune.corpus.loaders.base import LoadResult, supported_extensions
from ragtune.corpus.loaders.budget import LoadBudget
from ragtune.corpus.loaders.core import load_file
from ragtune.errors import LoadError

__all__ = ["default_include", "iter_load", "iter_paths"]


def default_include() -> list[str]:
    """The folder globs used when none are given: one per registered loader's extension.

    A plugin's ``@register_loader(".rst")`` adds ``*.rst``: nothing else lists formats.

    >>> default_include()[:3]
    ['*.docx', '*.htm', '*.html']
    """
    return [f"*{extension}" for extension in supported_extensions()]


def _matches(name: str, relative: str, include: Sequence[str]) -> bool:
    name, relative = name.lower(), relative.lower()
    return any(
        fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(relative, p)
        for p in (p.lower() for p in include)
    )


def iter_paths(folder: Path, include: Sequence[str]) -> Iterator[Path | LoadError]:
    """Files under ``folder`` matching ``include``, sorted, depth first.

    Hidden files and folders (``.git``, ``.ragtune``) are skipped; symlinked folders
    are followed once (no cycles). Folders that cannot be listed come out as errors.
    """
    visited: set[str] = set()

    def walk(current: Path) -> Iterator[Path | LoadError]:
        real = os.path.realpath(current)
        if real in visited:
            return
        visited.add(real)
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except PermissionError:
            yield LoadError(str(current), "unreadable folder: permission denied")
            return
        except OSError as exc:
            yield LoadError(str(current), f"unreadable folder: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = current / entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                yield from walk(path)
            elif _matches(entry.name, path.relative_to(folder).as_posix(), include):
                yield path  # broken links, FIFOs... are reported by load_file

    yield from walk(folder)


def iter_load(
    paths: Iterable[Path | str],
    include: Sequence[str] | None = None,
    max_file_mb: float | None = 50.0,
    *,
    root: Path | None = None,
    budget: LoadBudget | None = None,
) -> Iterator[LoadResult]:
    """Load files and folders, one ``LoadResult`` per file. Never raises for bad input.

    Folders are walked (sorted, hidden entries skipped) for files matching ``include``
    (default: :func:`default_include`, every registered loader's extension). A file named explicitly is loaded whatever its
    name, and an unsupported type is reported. Document ids are relative to ``root``,
    default: the folder given, or a named file's own folder. A file reached twice is
    loaded once; a second document with an id already seen is reported, not loaded.
    Each file loads within ``budget`` (see ``ragtune.corpus.loaders.budget``).

    >>> for result in iter_load([Path("docs")], ["*.md"], max_file_mb=50):  # doctest: +SKIP
    ...     print(result.path, len(result.documents), [str(e) for e in result.errors])
    """
    include = list(include) if include is not None else default_include()
    seen_files: set[str] = set()
    seen_ids: dict[str, str] = {}
    for raw in paths:
        given = Path(os.path.abspath(raw))
        if given.is_dir():
            base = root if root is not None else given
            items: Iterable[Path | LoadError] = iter_paths(given, include)
        else:
            base = root if root is not None else given.parent
            items = [given]
        for item in items:
            if isinstance(item, LoadError):
                yield LoadResult(errors=[item], path=item.path)
                continue
            try:
                key = os.path.realpath(item)
            except OSError:  # pragma: no cover - realpath is lenient; be safe anyway
                key = str(item)
            if key in seen_files:
                continue
            seen_files.add(key)
            result = load_file(item, base, max_file_mb=max_file_mb, budget=budget)
            unique = []
            for doc in result.documents:
                if doc.id in seen_ids:
                    reason = f"duplicate document id {doc.id!r} (also from {seen_ids[doc.id]})"
                    result.errors.append(LoadError(result.path, reason))
                else:
                    seen_ids[doc.id] = result.path
                    unique.append(doc)
            result.documents = unique
            yield result
