"""What changed between two versions of the documents, as questions with OLD and NEW answers.

A changes file is JSONL, one changed fact per line. The demo's ``changes.jsonl`` is one;
a user's file needs only ``question`` (or ``questions``), ``old_answer(s)`` and
``new_answer(s)``::

    {"question": "What does the X200 cost?", "old_answers": ["$1,759"], "new_answers": ["$1,909"]}

    changes = load_changes_file("corpus-v2/changes.jsonl")
    changed, unchanged = freshness_questions(changes, heldout_rows, limit=40)
    changed[0].answers, changed[0].meta["old_answers"]   # NEW answers, OLD answers
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import DataError
from ragtune.jsonl import read_jsonl_objects
from ragtune.sampling import stable_order
from ragtune.types import QAExample


@dataclass
class ChangedFact:
    """One fact whose answer changed: its questions, the old and the new answers."""

    fact_id: str
    questions: list[str]
    old_answers: list[str]
    new_answers: list[str]
    question_ids: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)


def _list(row: dict[str, Any], plural: str, singular: str) -> list[str]:
    value = row.get(plural, row.get(singular))
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def load_changes_file(path: Path | str) -> list[ChangedFact]:
    """Read a changes JSONL file (or the corpus folder holding ``changes.jsonl``)."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "changes.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: no such changes file (JSONL: question, old_answers, new_answers)")
    facts = []
    for number, row in read_jsonl_objects(path):
        questions = _list(row, "questions", "question")
        old, new = _list(row, "old_answers", "old_answer"), _list(row, "new_answers", "new_answer")
        if not questions or not old or not new:
            raise DataError(
                f"{path}:{number}: a change needs question(s), old_answer(s) and new_answer(s)"
            )
        facts.append(
            ChangedFact(
                fact_id=str(row.get("fact_id") or f"change-{number}"),
                questions=questions,
                old_answers=old,
                new_answers=new,
                question_ids=_list(row, "question_ids", "question_id"),
                doc_ids=_list(row, "doc_ids", "doc_id"),
            )
        )
    if not facts:
        raise DataError(f"{path}: no changes listed")
    return facts


def _pick_phrasing(
    fact: ChangedFact, heldout_ids: set[str], trained_ids: set[str]
) -> tuple[int, bool]:
    """Index of the question to ask and whether the fact was trained on.

    A held-out phrasing of a trained fact first (the fairest test of what training
    memorized), then a trained phrasing, then the first question.
    """
    ids = fact.question_ids if len(fact.question_ids) == len(fact.questions) else []
    for i, qid in enumerate(ids):
        if qid in heldout_ids and fact.fact_id in trained_ids:
            return i, True
    for i, qid in enumerate(ids):
        if qid not in heldout_ids and fact.fact_id in trained_ids:
            return i, True
    return 0, fact.fact_id in trained_ids


def freshness_questions(
    changes: Sequence[ChangedFact],
    heldout: Sequence[QAExample] = (),
    trained_facts: set[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> tuple[list[QAExample], list[QAExample]]:
    """(changed, unchanged) questions: one per changed fact (answers = NEW, ``meta.old_answers``
    = OLD), and held-out questions about facts that did not change."""
    trained = trained_facts or set()
    heldout_ids = {row.id for row in heldout}
    changed = []
    for fact in changes:
        index, was_trained = _pick_phrasing(fact, heldout_ids, trained)
        qid = (
            fact.question_ids[index]
            if index < len(fact.question_ids)
            else f"{fact.fact_id}:q{index}"
        )
        changed.append(
            QAExample(
                id=qid,
                question=fact.questions[index],
                answers=list(fact.new_answers),
                fact_id=fact.fact_id,
                doc_ids=list(fact.doc_ids),
                meta={
                    "split": "changed",
                    "old_answers": list(fact.old_answers),
                    "fact_trained": was_trained,
                },
            )
        )
    changed_facts = {fact.fact_id for fact in changes}
    changed_questions = {q.lower() for fact in changes for q in fact.questions}
    unchanged = [
        QAExample.from_dict(
            {
                **row.to_dict(),
                "meta": {
                    **row.meta,
                    "split": "unchanged",
                    "heldout_split": row.meta.get("split", ""),
                },
            }
        )
        for row in heldout
        if row.fact_id not in changed_facts and row.question.lower() not in changed_questions
    ]
    if limit is not None:
        if len(changed) > limit:
            # Trained facts first: they are the ones a fine-tuned model can be stale on.
            changed = stable_order(changed, seed, key=lambda r: r.id)
            changed = sorted(changed, key=lambda r: not r.meta["fact_trained"])[:limit]
        # Unchanged facts are the control: half as many suffice to see that nothing broke.
        keep = max(1, limit // 2)
        if len(unchanged) > keep:
            unchanged = stable_order(unchanged, seed, key=lambda r: r.id)[:keep]
    return changed, unchanged
