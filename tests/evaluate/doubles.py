"""A reading test double: answers with the passage sentence that best matches the question.

``ScriptedGenerator``'s default rule quotes passage [1]'s first sentence, which rarely
holds the fact on the demo domain; this one reads like a (very literal) extractive
model, so RAG accuracy and freshness behave as they would with a real reader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragtune.llm.base import ChatMessage
from ragtune.testing.scripted_generator import DONT_KNOW

_PASSAGE = re.compile(r"^\[(\d{1,2})\] (?:\([^)]*\) )?(.*)$", re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = set(
    [
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "for",
        "to",
        "is",
        "are",
        "was",
        "were",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "how",
        "much",
        "many",
        "does",
        "do",
        "did",
        "at",
        "by",
        "with",
        "and",
        "or",
        "its",
        "it's",
        "s",
        "this",
        "that",
        "from",
        "as",
        "be",
        "been",
        "has",
        "have",
        "since",
    ]
)


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def overlap_reader(conversation: Sequence[ChatMessage]) -> str:
    """The passage sentence sharing the most content words with the question, cited."""
    user = conversation[-1].content
    question = user.rsplit("Question:", 1)[-1].replace("Answer:", "")
    wanted = _content_words(question)
    best, best_score = "", 0
    for match in _PASSAGE.finditer(user):
        marker, text = match.group(1), match.group(2)
        for sentence in _SENTENCE.split(text):
            score = len(wanted & _content_words(sentence))
            if score > best_score:
                best, best_score = f"{sentence.strip()} [{marker}]", score
    return best or DONT_KNOW
