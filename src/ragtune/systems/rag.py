"""The retrieval arms: ``rag`` (base model), ``ft+rag`` and ``raft`` (with an adapter)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from ragtune.llm.base import ChatMessage, GenerationParams, Generator
from ragtune.prompts import rag_messages
from ragtune.retrieve.retriever import Retriever
from ragtune.systems.base import System
from ragtune.systems.citations import resolve_citations
from ragtune.types import Answer, Hit


class RAGSystem(System):
    """Retrieve ``top_k`` hits, fit them into the prompt by tokens, answer with citations.

    rag = RAGSystem(retriever, generator, top_k=4)
    answer = rag.answer("What does the X200 cost?")
    answer.citations[0].doc_id, answer.timings["retrieve"]
    """

    def __init__(
        self,
        retriever: Retriever,
        generator: Generator,
        top_k: int = 4,
        params: GenerationParams | None = None,
        adapter: str | None = None,
        arm: str = "rag",
    ) -> None:
        self.retriever = retriever
        self.generator = generator
        self.top_k = top_k
        self.params = params or generator.default_params
        self.adapter = adapter
        self.arm = arm

    def prepare(self, question: str) -> tuple[list[ChatMessage], list[Hit], float]:
        """Retrieve and build the prompt for one question: (messages, hits used, seconds)."""
        started = time.perf_counter()
        hits = self.retriever.retrieve(question, k=self.top_k)
        seconds = time.perf_counter() - started
        messages, kept = rag_messages(question, hits, self.generator, self.params.max_new_tokens)
        return messages, kept, seconds

    def answer_batch(self, questions: Sequence[str]) -> list[Answer]:
        prepared = [self.prepare(q) for q in questions]
        started = time.perf_counter()
        generations = self.generator.generate(
            [p[0] for p in prepared], self.params, adapter=self.adapter
        )
        batch_seconds = time.perf_counter() - started
        answers = []
        for question, (_, hits, retrieve_s), gen in zip(
            questions, prepared, generations, strict=True
        ):
            answers.append(
                self._answer(
                    question,
                    gen.text,
                    hits,
                    retrieve_s,
                    gen.seconds,
                    gen.prompt_tokens,
                    gen.completion_tokens,
                    {"batch_size": gen.batch_size, "batch_seconds": batch_seconds},
                )
            )
        return answers

    def stream(self, question: str) -> Iterator[str | Answer]:
        """Yield the answer's text pieces as they are generated, then the full ``Answer``."""
        messages, hits, retrieve_s = self.prepare(question)
        started = time.perf_counter()
        pieces = []
        stream = self.generator.stream(messages, self.params, adapter=self.adapter)
        try:
            for piece in stream:
                pieces.append(piece)
                yield piece
        finally:  # closed early (the client left): the backend stops generating now
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        text = "".join(pieces)
        prompt_tokens = sum(self.generator.count_tokens(m.content) for m in messages)
        yield self._answer(
            question,
            text,
            hits,
            retrieve_s,
            time.perf_counter() - started,
            prompt_tokens,
            self.generator.count_tokens(text),
            {"streamed": True},
        )

    def _answer(
        self,
        question: str,
        text: str,
        hits: list[Hit],
        retrieve_s: float,
        generate_s: float,
        prompt_tokens: int,
        completion_tokens: int,
        meta: dict[str, object],
    ) -> Answer:
        text = text.strip()
        citations, inferred = resolve_citations(text, hits)
        return Answer(
            question=question,
            text=text,
            arm=self.arm,
            model=self.generator.name,
            citations=citations,
            hits=hits,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            timings={
                "retrieve": retrieve_s,
                "generate": generate_s,
                "total": retrieve_s + generate_s,
            },
            meta={**meta, "adapter": self.adapter, "citations_inferred": inferred},
        )
