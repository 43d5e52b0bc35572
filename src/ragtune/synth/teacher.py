"""A teacher model writes QA pairs from chunks, under the extractive generator's filters.

``synth.teacher`` names any generator backend (an OpenAI-compatible endpoint, a local
HF model, a plugin); :func:`resolve_teacher` builds it and refuses the evaluated model
itself unless ``synth.allow_base_as_teacher`` says so — a model quizzing itself
inflates its own score. What the teacher writes is parsed defensively: a preamble
("Here are two questions:") is never a question, and every pair passes
:mod:`ragtune.synth.filters` (answer a span of the chunk, not in the question, new)::

    >>> from ragtune.testing.scripted_generator import ScriptedGenerator
    >>> from ragtune.types import Chunk
    >>> chunk = Chunk(id="a#0", doc_id="a", text="The server listens on port 8080 unless another port is set in its config file.")
    >>> llm = ScriptedGenerator(lambda c: "Here are two questions:\\nQ: Which port does the server listen on?\\nA: 8080")
    >>> result = teacher_questions([chunk], llm)
    >>> [(e.question, e.answers) for e in result.examples], result.counts.kept
    ([('Which port does the server listen on?', ['8080'])], 1)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragtune.errors import ConfigError
from ragtune.llm.base import ChatMessage, GenerationParams, Generator
from ragtune.progress import Progress
from ragtune.synth.filters import QuestionCounts, QuestionResult, Seen, check
from ragtune.synth.generate import parse_pairs
from ragtune.types import Chunk, QAExample

if TYPE_CHECKING:
    from ragtune.config import RagtuneConfig

QA_SYSTEM = "You write quiz questions about documents. Follow the format exactly."
QA_PROMPT = (
    "Write {n} different question-answer pairs about facts stated in the passage. "
    "Each answer must be a short phrase copied exactly from the passage "
    "(a name, number, date, setting or place). Use this format and nothing else:\n"
    "Q: <question>\nA: <answer>\n\nPassage:\n{passage}"
)


def same_model(teacher: object, llm: object) -> bool:
    """Whether two LLM configs name the same model: same backend, model and endpoint."""
    return all(
        getattr(teacher, name, None) == getattr(llm, name, None)
        for name in ("backend", "model", "base_url")
    )


def resolve_teacher(config: RagtuneConfig) -> Generator | None:
    """The teacher ``config.synth`` asks for, or ``None`` when questions are extractive.

    Raises :class:`~ragtune.errors.ConfigError` when the teacher is the evaluated model
    (``[llm]``) and ``synth.allow_base_as_teacher`` is not set.
    """
    synth = config.synth
    if synth.generator == "extractive" or synth.teacher is None:
        return None
    if same_model(synth.teacher, config.llm) and not synth.allow_base_as_teacher:
        raise ConfigError(
            f"synth.teacher is the evaluated model itself ({config.llm.backend}:{config.llm.model}); "
            "configure a different model, or set synth.allow_base_as_teacher = true"
        )
    from ragtune.llm import create_generator

    return create_generator(synth.teacher)


def _row(chunk: Chunk, number: int, question: str, answer: str, teacher: Generator) -> QAExample:
    fact_id = f"{chunk.id}#t{number}"
    return QAExample(
        id=f"{fact_id}:p0",
        question=question,
        answers=[answer],
        fact_id=fact_id,
        doc_ids=[chunk.doc_id],
        phrasing="p0",
        context=chunk.text,
        meta={"source": "teacher", "chunk_id": chunk.id, "generator": teacher.name},
    )


def teacher_questions(
    chunks: Sequence[Chunk],
    teacher: Generator,
    questions_per_chunk: int = 2,
    near_duplicate: float = 0.8,
    max_new_tokens: int = 200,
    min_chunk_words: int = 12,
    progress: Progress | None = None,
) -> QuestionResult:
    """Up to ``questions_per_chunk`` QA pairs per chunk, written by ``teacher`` and filtered.

    Chunks under ``min_chunk_words`` words are skipped. A reply with fewer parseable
    pairs than asked for counts the missing ones as ``unparsed``. Each kept pair is its
    own fact with one phrasing (``p0``); paraphrases add more.
    """
    started = time.perf_counter()
    progress = progress or Progress()
    usable = sorted(
        (c for c in chunks if len(c.text.split()) >= min_chunk_words),
        key=lambda c: (c.doc_id, c.index, c.id),
    )
    counts = QuestionCounts(chunks=len(usable))
    seen = Seen(near_duplicate)
    rows: list[QAExample] = []
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
    step = max(1, teacher.batch_size)
    with progress.task("teacher writing QA", total=len(usable), unit="chunks") as advance:
        for begin in range(0, len(usable), step):
            batch = usable[begin : begin + step]
            conversations = [
                [
                    ChatMessage("system", QA_SYSTEM),
                    ChatMessage(
                        "user", QA_PROMPT.format(n=questions_per_chunk, passage=c.text.strip())
                    ),
                ]
                for c in batch
            ]
            for chunk, generation in zip(
                batch, teacher.generate(conversations, params), strict=True
            ):
                pairs = parse_pairs(generation.text)[:questions_per_chunk]
                counts.proposed += questions_per_chunk
                counts.unparsed += questions_per_chunk - len(pairs)
                for number, (question, answer) in enumerate(pairs):
                    fact = f"{chunk.id}#t{number}"
                    if check(question, answer, chunk.text, seen, counts, fact):
                        counts.add_kept("teacher", 1)
                        rows.append(_row(chunk, number, question, answer, teacher))
            advance(len(batch))
    return QuestionResult(rows, counts, time.perf_counter() - started)
