"""Swapping one store folder for another with renames, safely across a SIGKILL.

A folder-backed store rebuilds into ``<name>.next`` beside itself, then::

    swap_folders(Path(".ragtune/store"), Path(".ragtune/store.next"))

renames ``store`` to ``store.old``, ``store.next`` to ``store``, and removes ``store.old``.
A kill between the two renames leaves no ``store``; ``recover_interrupted_swap`` (run by
every open) finishes the swap, so a reader sees the old folder or the new, never neither.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["recover_interrupted_swap", "retired_folder", "sibling_folder", "swap_folders"]


def sibling_folder(current: Path) -> Path:
    """Where a rebuild of ``current`` is written: ``store`` -> ``store.next``."""
    return current.with_name(current.name + ".next")


def retired_folder(current: Path) -> Path:
    """Where ``current`` waits between the two renames: ``store`` -> ``store.old``."""
    return current.with_name(current.name + ".old")


def swap_folders(current: Path, sibling: Path) -> None:
    """Replace ``current`` by ``sibling`` with renames; safe to re-run after a kill."""
    retired = retired_folder(current)
    if retired.exists():
        shutil.rmtree(retired)
    if current.exists():
        os.replace(current, retired)
    os.replace(sibling, current)
    shutil.rmtree(retired, ignore_errors=True)


def recover_interrupted_swap(current: Path) -> None:
    """If a kill landed between the two renames of ``swap_folders``, finish the swap."""
    sibling, retired = sibling_folder(current), retired_folder(current)
    if not current.exists() and sibling.exists() and retired.exists():
        os.replace(sibling, current)
    if current.exists() and retired.exists():
        shutil.rmtree(retired, ignore_errors=True)
