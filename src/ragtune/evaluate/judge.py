"""An LLM judge: a configured generator grades each answer against the reference.

Off by default; turn it on with ``eval.judge`` (any generator backend name)::

    ragtune eval --set eval.judge=openai --set eval.judge_model=gpt-4o-mini \\
                 --set eval.judge_base_url=https://api.openai.com/v1

The prompt is kept in the run file (``data.judge.prompt``) so a score can be audited.
Scores are 1.0 (correct), 0.0 (incorrect), or absent when the reply was unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ragtune.progress import Progress

if TYPE_CHECKING:
    from ragtune.config import EvalConfig
    from ragtune.evaluate.records import QuestionRecord

JUDGE_SYSTEM = "You grade answers to questions. Reply with one word: CORRECT or INCORRECT."
JUDGE_PROMPT = (
    "Question: {question}\n"
    "Reference answer(s): {answers}\n"
    "Answer to grade: {prediction}\n\n"
    "Does the answer to grade state the same fact as a reference answer? Extra words are fine; "
    "a different or missing fact is INCORRECT. Reply CORRECT or INCORRECT."
)
_VERDICT = re.compile(r"\b(INCORRECT|CORRECT)\b", re.I)


def parse_verdict(text: str) -> float | None:
    """``1.0`` for CORRECT, ``0.0`` for INCORRECT (the first verdict word wins), else ``None``.

    >>> parse_verdict("CORRECT."), parse_verdict("Incorrect: wrong year"), parse_verdict("maybe")
    (1.0, 0.0, None)
    """
    match = _VERDICT.search(text)
    if not match:
        return None
    return 0.0 if match.group(1).upper() == "INCORRECT" else 1.0


def judge_records(
    records: Sequence[QuestionRecord],
    config: EvalConfig,
    progress: Progress | None = None,
    generator: Any = None,
) -> dict[str, Any]:
    """Add ``scores["judge"]`` to every record; returns what to keep in the run file."""
    from ragtune.config import LLMConfig
    from ragtune.llm import ChatMessage, GenerationParams, create_generator

    if generator is None:
        llm = LLMConfig.model_validate(
            {
                "backend": config.judge or "transformers",
                "model": config.judge_model or "default",
                "base_url": config.judge_base_url,
            }
        )
        generator = create_generator(llm)
    conversations = [
        [
            ChatMessage("system", JUDGE_SYSTEM),
            ChatMessage(
                "user",
                JUDGE_PROMPT.format(
                    question=r.question, answers=" | ".join(r.answers), prediction=r.prediction
                ),
            ),
        ]
        for r in records
    ]
    unreadable = 0
    params = GenerationParams(max_new_tokens=8, temperature=0.0)
    with (progress or Progress()).task("judge", total=len(records), unit="answers") as advance:
        generations = generator.generate(conversations, params)
        advance(len(records))
    for record, generation in zip(records, generations, strict=True):
        verdict = parse_verdict(generation.text)
        if verdict is None:
            unreadable += 1
        else:
            record.scores["judge"] = verdict
    return {
        "system": JUDGE_SYSTEM,
        "prompt": JUDGE_PROMPT,
        "generator": generator.name,
        "unreadable": unreadable,
    }
