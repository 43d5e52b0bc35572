"""Seeded picks stay put when one item is added or removed (ragtune.sampling)."""

from __future__ import annotations

from ragtune.evaluate.questions import select_questions
from ragtune.sampling import stable_order, stable_rank
from ragtune.types import QAExample


def test_rank_is_fixed_and_seeded() -> None:
    assert stable_rank(0, "doc.md") == stable_rank(0, "doc.md")
    assert stable_rank(0, "doc.md") != stable_rank(1, "doc.md")


def test_order_of_the_others_survives_an_insert() -> None:
    keys = [f"k{i}" for i in range(50)]
    before = stable_order(keys, seed=7)
    after = stable_order([*keys, "added"], seed=7)
    assert [k for k in after if k != "added"] == before
    assert stable_order(keys, seed=8) != before


def test_selected_questions_survive_an_edit() -> None:
    rows = [QAExample(f"q{i}", f"Question {i}?", ["a"], meta={"split": "x"}) for i in range(100)]
    picked = {r.id for r in select_questions(rows, 20, seed=0)}
    edited = [r for r in rows if r.id != "q5"] + [
        QAExample("q5b", "Edited?", ["b"], meta={"split": "x"})
    ]
    repicked = {r.id for r in select_questions(edited, 20, seed=0)}
    # Only the removed question and the one the edit displaced (if any) differ.
    assert len(picked - repicked) <= 1 and len(repicked - picked) <= 1
