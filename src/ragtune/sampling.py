"""Seeded choices that stay put when the set they are drawn from changes.

A team edits one document and re-runs the comparison: the questions about every other
document must stay where they were (in training, held out, or asked), or the verdict
moves for reasons that have nothing to do with the edit. A shuffle of the whole list
reorders everything when one item is added; ranking each item by a keyed hash of its
own key (rendezvous hashing) moves only the items that changed::

    >>> stable_order(["a", "b", "c"], seed=0) == [k for k in stable_order(["a", "b", "c", "d"], seed=0) if k != "d"]
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def stable_rank(seed: int | str, key: str) -> int:
    """A uniform 64-bit rank of ``key`` under ``seed``, the same on every machine and run."""
    digest = hashlib.blake2b(f"{seed}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def stable_order(items: Iterable[T], seed: int | str = 0, key: Callable[[T], str] = str) -> list[T]:
    """``items`` in the seeded order of their keys' ranks (ties, if any, by key)."""
    return sorted(items, key=lambda item: (stable_rank(seed, key(item)), key(item)))
