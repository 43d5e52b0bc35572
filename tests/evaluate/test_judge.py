"""The LLM judge: verdict parsing, scores added to records, prompt kept for the run file."""

from __future__ import annotations

from ragtune.config import EvalConfig
from ragtune.evaluate.judge import JUDGE_PROMPT, judge_records, parse_verdict
from ragtune.evaluate.records import QuestionRecord
from ragtune.testing.scripted_generator import ScriptedGenerator


def test_parse_verdict() -> None:
    assert parse_verdict("CORRECT") == 1.0
    assert parse_verdict("incorrect, the year differs") == 0.0
    assert parse_verdict("I think it is correct") == 1.0
    assert parse_verdict("unsure") is None


def test_judge_scores_records_with_any_generator() -> None:
    records = [
        QuestionRecord("q1", "rag", "When was it founded?", ["1998"], "It was founded in 1998."),
        QuestionRecord("q2", "rag", "Where is HQ?", ["Nysa Falls"], "In Oslo."),
        QuestionRecord("q3", "rag", "Who?", ["Ann"], "Bob."),
    ]

    def grade(conversation):  # type: ignore[no-untyped-def]
        text = conversation[-1].content
        if "1998" in text.split("Answer to grade:")[1]:
            return "CORRECT"
        return "INCORRECT" if "Oslo" in text else "no idea"

    kept = judge_records(records, EvalConfig(judge="scripted"), generator=ScriptedGenerator(grade))
    assert [r.scores.get("judge") for r in records] == [1.0, 0.0, None]
    assert kept["prompt"] == JUDGE_PROMPT and kept["unreadable"] == 1
