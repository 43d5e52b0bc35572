"""Closed-book arms: the model alone (``base``), or with a fine-tuned adapter (``ft``)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ragtune.llm.base import GenerationParams, Generator
from ragtune.prompts import closed_book_messages
from ragtune.systems.base import System
from ragtune.types import Answer


class ClosedBookSystem(System):
    """Answers from the model's weights only.

    base = ClosedBookSystem(generator)                       # arm "base"
    ft = ClosedBookSystem(generator, adapter="qa", arm="ft") # a LoRA adapter
    """

    def __init__(
        self,
        generator: Generator,
        params: GenerationParams | None = None,
        adapter: str | None = None,
        arm: str = "base",
        domain: str = "",
    ) -> None:
        self.generator = generator
        self.domain = domain
        self.params = params or generator.default_params
        self.adapter = adapter
        self.arm = arm

    def answer_batch(self, questions: Sequence[str]) -> list[Answer]:
        started = time.perf_counter()
        generations = self.generator.generate(
            [closed_book_messages(q, self.domain) for q in questions],
            self.params,
            adapter=self.adapter,
        )
        total = time.perf_counter() - started
        return [
            Answer(
                question=question,
                text=gen.text.strip(),
                arm=self.arm,
                model=self.generator.name,
                prompt_tokens=gen.prompt_tokens,
                completion_tokens=gen.completion_tokens,
                timings={"retrieve": 0.0, "generate": gen.seconds, "total": gen.seconds},
                meta={
                    "adapter": self.adapter,
                    "batch_size": gen.batch_size,
                    "batch_seconds": total,
                },
            )
            for question, gen in zip(questions, generations, strict=True)
        ]
