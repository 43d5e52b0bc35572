"""The key correctness test: every answer is stated, as text a loader recovers, where qa.jsonl says."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from ragtune.demo import DemoCorpusInfo, load_qa


@pytest.mark.parametrize("which", ["corpus_v1", "corpus_v2"])
def test_every_answer_is_stated_in_every_listed_document(
    which: str, request: pytest.FixtureRequest, extract: Callable[[Path], str]
) -> None:
    info: DemoCorpusInfo = request.getfixturevalue(which)
    qa = load_qa(info.out / "qa.jsonl")
    texts: dict[str, str] = {}
    missing = []
    for row in qa:
        assert row.doc_ids, row.id
        canonical = re.sub(r"\s+", " ", row.answers[0])
        for doc_id in row.doc_ids:
            if doc_id not in texts:
                texts[doc_id] = extract(info.docs_dir / doc_id)
            if canonical not in texts[doc_id]:
                missing.append((row.id, canonical, doc_id))
    assert not missing, missing[:10]


def test_every_format_round_trips_facts(corpus_v1: DemoCorpusInfo) -> None:
    """Each format states some fact that its extractor recovers (PDF and DOCX included)."""
    found = defaultdict(int)
    for row in load_qa(corpus_v1.out):
        for doc_id in row.doc_ids:
            found[doc_id.rsplit(".", 1)[1]] += 1
    assert set(found) == {"md", "txt", "html", "pdf", "docx"}


def test_answers_are_short_and_questions_unique(corpus_v1: DemoCorpusInfo) -> None:
    qa = load_qa(corpus_v1.out)
    assert len({q.id for q in qa}) == len(qa)
    assert len({q.question for q in qa}) == len(qa)
    for row in qa:
        assert row.answers and all(len(a) <= 40 for a in row.answers), row
        assert row.answers[0] == row.answers[0].strip()


def test_each_fact_has_at_least_three_phrasings(corpus_v1: DemoCorpusInfo) -> None:
    phrasings: dict[str, set[str]] = defaultdict(set)
    for row in load_qa(corpus_v1.out):
        phrasings[row.fact_id].add(row.phrasing)
    assert 120 <= len(phrasings) <= 200
    assert all(len(p) >= 3 for p in phrasings.values())
