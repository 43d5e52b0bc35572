"""The arms' one interface: ``answer(question) -> Answer``, plus a batched form.

Every arm (``base``, ``rag``, ``ft``, ``ft+rag``, ``raft``) is a ``System``; evaluation,
the CLI and the server only ever call these two verbs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ragtune.types import Answer


class System(ABC):
    """An arm: a way of answering questions about the documents.

    answer = system.answer("How long is the X200 warranty?")
    answer.text, answer.citations, answer.timings
    """

    arm: str = "system"

    def answer(self, question: str) -> Answer:
        return self.answer_batch([question])[0]

    @abstractmethod
    def answer_batch(self, questions: Sequence[str]) -> list[Answer]:
        """Answer many questions at once (batched onto the model), in input order."""
