"""Prompts for the arms, built to fit the model's context window by tokens."""

from __future__ import annotations

from collections.abc import Sequence

from ragtune.errors import RagtuneError
from ragtune.llm.base import ChatMessage, Generator
from ragtune.types import Hit


def closed_book_system(domain: str = "") -> str:
    """The closed-book arms' system turn; ``domain`` (``project.domain``) names what the
    documents are about, as in "You answer questions about the PostgreSQL 15 manual."."""
    about = f"You answer questions about {domain.strip()}. " if domain.strip() else ""
    return about + "Answer the question in one short sentence."


CLOSED_BOOK_SYSTEM = closed_book_system()

RAG_SYSTEM = (
    "Answer the question using only the numbered passages. "
    "Reply with one short sentence and cite the passage you used, like [1]. "
    "If the passages do not contain the answer, reply: The documents do not say."
)

NOT_FOUND = "The documents do not say."


def closed_book_messages(question: str, domain: str = "") -> list[ChatMessage]:
    """The conversation a closed-book arm (``base``, ``ft``) answers, and ``ft`` trains on."""
    return [ChatMessage("system", closed_book_system(domain)), ChatMessage("user", question)]


def format_passage(marker: int, hit: Hit, text: str) -> str:
    where = hit.chunk.title or hit.chunk.doc_id
    return f"[{marker}] ({where}) {' '.join(text.split())}"


def rag_messages(
    question: str, hits: Sequence[Hit], generator: Generator, max_new_tokens: int
) -> tuple[list[ChatMessage], list[Hit]]:
    """The RAG conversation and the hits that made it in, fitted to the prompt budget.

    Passages go in rank order; the first that does not fit whole is cut by tokens and
    the rest are left out. The question always goes in whole: if it alone does not fit,
    this raises instead of dropping it.
    """
    budget = generator.prompt_budget - max_new_tokens
    frame = f"Passages:\n\nQuestion: {question}\nAnswer:"
    # Chat-template wrapping costs a few tokens per message; keep a margin for it.
    used = generator.count_tokens(RAG_SYSTEM) + generator.count_tokens(frame) + 24
    if used > budget:
        raise RagtuneError(
            f"the question alone needs ~{used} tokens but the prompt budget is {budget} "
            f"(context window {generator.prompt_budget}, {max_new_tokens} new tokens); shorten the question"
        )
    passages: list[str] = []
    kept: list[Hit] = []
    for hit in hits:
        marker = len(kept) + 1
        passage = format_passage(marker, hit, hit.chunk.text)
        cost = generator.count_tokens(passage) + 1
        if used + cost > budget:
            room = budget - used - generator.count_tokens(format_passage(marker, hit, "")) - 2
            if room >= 16:
                cut = generator.truncate_to_tokens(" ".join(hit.chunk.text.split()), room)
                passages.append(format_passage(marker, hit, cut))
                kept.append(hit)
            break
        passages.append(passage)
        kept.append(hit)
        used += cost
    user = "Passages:\n" + "\n".join(passages) + f"\n\nQuestion: {question}\nAnswer:"
    return [ChatMessage("system", RAG_SYSTEM), ChatMessage("user", user)], kept
