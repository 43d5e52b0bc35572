"""RAFT training examples (Zhang et al. 2024): question + oracle + hard distractors → cited answer.

For each training question the retriever (the project's own, so distractors are the
chunks that really compete at inference) returns candidates. The *oracle* is the
highest-ranked candidate whose ``doc_id`` is one of the example's ``doc_ids`` and whose
text contains an accepted answer; *distractors* are the best-ranked candidates that do
not contain an answer. A share ``oracle_share`` (P) of examples hold the oracle among
``distractors`` distractors, in random order; the rest hold ``distractors + 1``
distractors and no oracle, which teaches the model to answer from memory (paper) or,
with ``no_oracle_target="abstain"``, to say the documents do not say.

The prompt is built by :func:`ragtune.prompts.rag_messages`, the very function
the ``raft`` arm uses at inference, so train and test prompts agree token for token.
The target quotes the supporting text and cites it::

    ##Quote: "The server listens on port 5432 unless port is set" [2]
    ##Answer: 5432 [2]

>>> quote_around("Started in 1998 in Berkeley, the project grew. It now has 900 contributors.", "1998")
'Started in 1998 in Berkeley, the project grew.'
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ragtune.llm.base import ChatMessage, Generator
from ragtune.progress import Progress
from ragtune.prompts import NOT_FOUND, rag_messages
from ragtune.types import Chunk, Hit, QAExample

TargetStyle = Literal["quote", "sentence"]
NoOracleTarget = Literal["answer", "abstain"]
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


def contains_answer(text: str, answers: Sequence[str]) -> str | None:
    """The first accepted answer that ``text`` contains (case- and space-insensitive)."""
    flat = " ".join(text.split()).lower()
    for answer in answers:
        needle = " ".join(answer.split()).lower()
        if needle and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", flat):
            return answer
    return None


def quote_around(text: str, answer: str, max_words: int = 24) -> str:
    """The sentence of ``text`` that states ``answer``, cut to ``max_words`` around it."""
    flat = " ".join(text.split())
    lower = answer.lower()
    sentence = next((s.strip() for s in _SENTENCE.findall(flat) if lower in s.lower()), flat)
    tokens = sentence.split()
    if len(tokens) <= max_words:
        return sentence
    at = next((i for i, t in enumerate(tokens) if lower.split()[0] in t.lower()), 0)
    start = max(0, min(at - max_words // 2, len(tokens) - max_words))
    return " ".join(tokens[start : start + max_words])


class _PrefetchedQueries:
    """Stands in for a retriever's embedder: query vectors embedded in batches up front
    (one query at a time costs ~10x more on CPU); unknown queries go to the real one."""

    def __init__(self, embedder: Any, queries: Sequence[str]) -> None:
        self.inner = embedder
        unique = list(dict.fromkeys(queries))
        self.vectors = dict(zip(unique, embedder.embed(unique), strict=True)) if unique else {}

    def embed_query(self, text: str) -> Any:
        vector = self.vectors.get(text)
        return vector if vector is not None else self.inner.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class RaftExample:
    """One chat-format RAFT row plus where it came from (for the manifest and audits)."""

    messages: list[ChatMessage]
    qa_id: str
    oracle_chunk_id: str | None
    chunk_ids: list[str] = field(default_factory=list)

    def to_row(self) -> dict[str, Any]:
        return {"messages": [m.to_dict() for m in self.messages]}


def target_text(
    answer: str,
    quote: str | None,
    marker: int | None,
    style: TargetStyle,
    no_oracle: NoOracleTarget,
) -> str:
    """The assistant turn: quote + cited answer, or a short cited sentence.

    >>> target_text("$2,029", "It lists at $2,029.", 2, "quote", "answer")
    '##Quote: "It lists at $2,029." [2]\\n##Answer: $2,029 [2]'
    >>> target_text("$2,029", None, None, "quote", "abstain")
    'The documents do not say.'
    """
    if marker is None or quote is None:
        if no_oracle == "abstain":
            return NOT_FOUND
        return f"##Answer: {answer}" if style == "quote" else f"{answer}."
    if style == "quote":
        return f'##Quote: "{quote}" [{marker}]\n##Answer: {answer} [{marker}]'
    return f"{quote.rstrip('.')} [{marker}]."


class RaftBuilder:
    """Builds RAFT rows with a retriever and the inference generator's token counting.

    builder = RaftBuilder(project.retriever(), project.generator, distractors=3)
    examples, counts = builder.build(train_rows, chunks_by_doc)
    """

    def __init__(
        self,
        retriever: Any,
        generator: Generator,
        distractors: int = 3,
        oracle_share: float = 0.8,
        candidates: int = 20,
        max_new_tokens: int = 64,
        style: TargetStyle = "quote",
        no_oracle_target: NoOracleTarget = "answer",
        seed: int = 0,
    ) -> None:
        self.retriever = retriever
        self.generator = generator
        self.distractors = distractors
        self.oracle_share = oracle_share
        self.candidates = max(candidates, distractors + 2)
        self.max_new_tokens = max_new_tokens
        self.style = style
        self.no_oracle_target = no_oracle_target
        self.rng = random.Random(seed)

    def find_oracle(
        self, row: QAExample, hits: Sequence[Hit], chunks_by_doc: dict[str, list[Chunk]]
    ) -> tuple[Hit, str, bool] | None:
        """The oracle hit, the answer it states, and whether retrieval found it; falls
        back to the example's own documents when retrieval missed them."""
        wanted = set(row.doc_ids)
        for hit in hits:
            if wanted and hit.chunk.doc_id not in wanted:
                continue
            found = contains_answer(hit.chunk.text, row.answers)
            if found:
                return hit, found, True
        for doc_id in row.doc_ids:
            for chunk in chunks_by_doc.get(doc_id, []):
                found = contains_answer(chunk.text, row.answers)
                if found:
                    return Hit(chunk=chunk, score=0.0, rank=0), found, False
        return None

    def build(
        self,
        rows: Sequence[QAExample],
        chunks_by_doc: dict[str, list[Chunk]],
        progress: Progress | None = None,
    ) -> tuple[list[RaftExample], dict[str, int]]:
        progress = progress or Progress()
        counts = {
            "examples": 0,
            "with_oracle": 0,
            "without_oracle": 0,
            "no_oracle_found": 0,
            "oracle_retrieved": 0,
        }
        out: list[RaftExample] = []
        embedder = getattr(self.retriever, "embedder", None)
        if embedder is not None and getattr(self.retriever, "mode", "") != "bm25":
            with progress.task("embedding questions", total=None, unit="questions"):
                self.retriever.embedder = _PrefetchedQueries(embedder, [r.question for r in rows])
        try:
            self._build(rows, chunks_by_doc, progress, counts, out)
        finally:
            if embedder is not None:
                self.retriever.embedder = embedder
        return out, counts

    def _build(
        self,
        rows: Sequence[QAExample],
        chunks_by_doc: dict[str, list[Chunk]],
        progress: Progress,
        counts: dict[str, int],
        out: list[RaftExample],
    ) -> None:
        with progress.task("building RAFT examples", total=len(rows), unit="questions") as advance:
            for row in rows:
                advance(1)
                hits = self.retriever.retrieve(row.question, k=self.candidates)
                oracle = self.find_oracle(row, hits, chunks_by_doc)
                if oracle is None:
                    counts["no_oracle_found"] += 1
                    continue
                oracle_hit, answer, retrieved = oracle
                counts["oracle_retrieved"] += int(retrieved)
                distractors = [
                    h
                    for h in hits
                    if h.chunk.id != oracle_hit.chunk.id
                    and contains_answer(h.chunk.text, row.answers) is None
                ]
                with_oracle = self.rng.random() < self.oracle_share
                if with_oracle:
                    passages = [oracle_hit, *distractors[: self.distractors]]
                    self.rng.shuffle(passages)
                else:
                    passages = distractors[: self.distractors + 1]
                messages, kept = rag_messages(
                    row.question, passages, self.generator, self.max_new_tokens
                )
                marker = next(
                    (i + 1 for i, h in enumerate(kept) if h.chunk.id == oracle_hit.chunk.id), None
                )
                quote = quote_around(oracle_hit.chunk.text, answer) if marker else None
                if with_oracle and marker is None:
                    with_oracle = False  # the oracle was cut by the prompt budget
                target = target_text(
                    answer if marker else row.answers[0],
                    quote,
                    marker,
                    self.style,
                    self.no_oracle_target,
                )
                out.append(
                    RaftExample(
                        messages=[*messages, ChatMessage("assistant", target)],
                        qa_id=row.id,
                        oracle_chunk_id=oracle_hit.chunk.id if with_oracle else None,
                        chunk_ids=[h.chunk.id for h in kept],
                    )
                )
                counts["examples"] += 1
                counts["with_oracle" if with_oracle else "without_oracle"] += 1
