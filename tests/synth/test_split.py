"""split_by_fact: deterministic, by fact, never an evaluation question in training."""

from __future__ import annotations

from ragtune.synth.split import UNSEEN_FACT, UNSEEN_PHRASING, normalize_question, split_by_fact
from ragtune.types import QAExample


def rows(n_facts: int = 20, phrasings: int = 4) -> list[QAExample]:
    return [
        QAExample(
            f"f{i}:p{p}",
            f"Question {p} about fact {i}?",
            [f"a{i}"],
            fact_id=f"f{i}",
            phrasing=f"p{p}",
        )
        for i in range(n_facts)
        for p in range(phrasings)
    ]


def test_shares_and_tags() -> None:
    split = split_by_fact(rows(), heldout_share=0.25, unseen_fact_share=0.15, seed=0)
    unseen_facts = {r.fact_id for r in split.unseen_fact}
    assert len(unseen_facts) == 3 and len(split.unseen_fact) == 12
    assert len(split.unseen_phrasing) == 17 and len(split.train) == 51
    assert {r.meta["split"] for r in split.unseen_phrasing} == {UNSEEN_PHRASING}
    assert {r.meta["split"] for r in split.unseen_fact} == {UNSEEN_FACT}
    trained_facts = {r.fact_id for r in split.train}
    assert not unseen_facts & trained_facts
    assert {
        r.fact_id for r in split.unseen_phrasing
    } <= trained_facts  # unseen wording, trained fact


def test_deterministic_by_seed() -> None:
    a = split_by_fact(rows(), seed=3)
    b = split_by_fact(list(reversed(rows())), seed=3)
    c = split_by_fact(rows(), seed=4)
    assert [r.id for r in a.heldout] == [r.id for r in b.heldout]
    assert [r.id for r in a.heldout] != [r.id for r in c.heldout]


def test_no_heldout_question_is_trained_on_verbatim() -> None:
    data = rows(6, 3)
    # The same wording under two facts, and a case/punctuation variant within one fact.
    data.append(QAExample("dup", "question 0 about FACT 1", ["a1"], fact_id="f1", phrasing="p9"))
    split = split_by_fact(data, heldout_share=0.5, unseen_fact_share=0.3, seed=1)
    trained = {normalize_question(r.question) for r in split.train}
    assert not any(normalize_question(r.question) in trained for r in split.heldout)


def test_rows_without_fact_id_are_their_own_fact() -> None:
    data = [QAExample(f"q{i}", f"Q{i}?", ["a"]) for i in range(10)]
    split = split_by_fact(data, heldout_share=0.25, unseen_fact_share=0.2, seed=0)
    assert len(split.unseen_fact) == 2 and not split.unseen_phrasing and len(split.train) == 8
