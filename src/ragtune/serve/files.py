"""Files the server reads from the project: run JSON files and the newest report.

Every path is checked to stay inside its folder and the project after symlinks are
resolved, so no request can read a file outside the project::

    run_file(project.runs_dir, project.root, "2026-11-24-compare")  # Path or None
    newest_report(project.runs_dir, project.root)                   # Path or None
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass
class RunListing:
    """One run file as ``/v1/runs`` lists it: ``id`` is its file name without ``.json``."""

    id: str
    path: Path
    bytes: int
    modified: float


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (symlinks resolved) is ``folder`` or under it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def valid_run_id(run_id: str) -> bool:
    """Whether ``run_id`` is a plain file stem (no path, no dots-only names).

    >>> valid_run_id("compare-2026.11"), valid_run_id("../secret"), valid_run_id("..")
    (True, False, False)
    """
    return bool(RUN_ID.match(run_id)) and ".." not in run_id


def list_runs(runs_dir: Path, root: Path) -> list[RunListing]:
    """The run files under ``runs_dir`` (not in subfolders), newest first: the files
    :func:`ragtune.evaluate.records.list_runs` recognises as runs, inside the project."""
    from ragtune.evaluate.records import list_runs as run_files

    runs = []
    for path in run_files(runs_dir):
        if (
            valid_run_id(path.stem)
            and path.is_file()
            and is_inside(path, runs_dir)
            and is_inside(path, root)
        ):
            info = path.stat()
            runs.append(RunListing(path.stem, path, info.st_size, info.st_mtime))
    return sorted(runs, key=lambda r: (-r.modified, r.id))


def run_file(runs_dir: Path, root: Path, run_id: str) -> Path | None:
    """The file of run ``run_id``, or None if there is none (or the id is not a plain name)."""
    if not valid_run_id(run_id):
        return None
    path = runs_dir / f"{run_id}.json"
    if not path.is_file() or not is_inside(path, runs_dir) or not is_inside(path, root):
        return None
    return path


def newest_report(runs_dir: Path, root: Path) -> Path | None:
    """The most recently written ``report.html`` under ``runs_dir`` (any depth), if any."""
    if not runs_dir.is_dir():
        return None
    candidates = [
        p
        for p in runs_dir.rglob("report.html")
        if p.is_file() and is_inside(p, runs_dir) and is_inside(p, root)
    ]
    return max(candidates, key=lambda p: p.stat().st_mtime, default=None)
