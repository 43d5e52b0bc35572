"""The arms: ``base``, ``rag``, ``ft``, ``ft+rag``, ``raft``, each a :class:`System`.

from ragtune.systems import build_system
rag = build_system(project, "rag")
print(rag.answer("What does the X200 cost?").text)
"""

from __future__ import annotations

from ragtune.systems.base import System
from ragtune.systems.build import build_system
from ragtune.systems.closed_book import ClosedBookSystem
from ragtune.systems.rag import RAGSystem

__all__ = ["ClosedBookSystem", "RAGSystem", "System", "build_system"]
