"""The filters every synthesized question passes, and the counts of what each dropped.

Extractive and teacher-written questions go through the same checks, in order:

1. the answer is a span of the source chunk (whitespace aside) — ``not_span``;
2. the question does not contain the answer — ``answer_in_question``;
3. the question is new — ``duplicate`` (same words) and ``near_duplicate`` (same answer
   and at least ``near_duplicate`` Jaccard overlap of words with a kept question).

Nothing is dropped for being hard to retrieve: that would bias the comparison toward
RAG; the share that retrieval finds is measured by the evaluation instead::

    >>> counts = QuestionCounts()
    >>> seen = Seen(near_duplicate=0.8)
    >>> check("What is the port?", "8080", "The port is 8080.", seen, counts)
    True
    >>> check("What is the port?", "9090", "The port is 8080.", seen, counts), counts.not_span
    (False, 1)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragtune.types import QAExample

_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Lower-case words joined by single spaces: what two texts compare equal on."""
    return " ".join(_WORD.findall(text.lower()))


def is_span(answer: str, source: str) -> bool:
    """Whether ``answer`` occurs verbatim in ``source`` (runs of whitespace count as one).

    >>> is_span("line\\nlength", "the line length is 88"), is_span("Line length", "the line length")
    (True, False)
    """
    answer = " ".join(answer.split())
    return bool(answer) and answer in " ".join(source.split())


def gives_answer_away(question: str, answer: str) -> bool:
    """Whether the question's words contain the answer's words as a run."""
    key = normalize(answer)
    return bool(key) and f" {key} " in f" {normalize(question)} "


@dataclass
class QuestionCounts:
    """Questions proposed and what each filter dropped (in questions, not facts).

    ``proposed = kept + not_span + answer_in_question + duplicate + near_duplicate +
    over_limit + unparsed``; ``facts`` is how many facts kept at least one question and
    ``relations`` how many kept questions each rule (or the teacher) produced.

    >>> QuestionCounts(chunks=2, proposed=3, kept=3).to_dict()["kept"]
    3
    """

    chunks: int = 0
    units: int = 0
    proposed: int = 0
    kept: int = 0
    facts: int = 0
    not_span: int = 0
    answer_in_question: int = 0
    duplicate: int = 0
    near_duplicate: int = 0
    over_limit: int = 0
    unparsed: int = 0
    relations: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, int]:
        """Flat counts for a manifest: every field, then ``relation_<name>`` keys."""
        out = {k: v for k, v in asdict(self).items() if k != "relations"}
        out.update({f"relation_{k}": v for k, v in sorted(self.relations.items())})
        return out

    def add_kept(self, relation: str, questions: int) -> None:
        self.kept += questions
        self.facts += 1 if questions else 0
        self.relations[relation] = self.relations.get(relation, 0) + questions


@dataclass
class QuestionResult:
    """Synthesized questions (QA rows, phrasings of one fact share its ``fact_id``),
    the filter counts, and the seconds it took."""

    examples: list[QAExample]
    counts: QuestionCounts
    seconds: float = 0.0

    @property
    def questions_per_minute(self) -> float:
        return 60.0 * len(self.examples) / self.seconds if self.seconds > 0 else float("inf")


class Seen:
    """The questions kept so far, for the duplicate and near-duplicate checks."""

    def __init__(self, near_duplicate: float = 0.8) -> None:
        self.near_duplicate = near_duplicate
        self.keys: set[str] = set()
        self.by_answer: dict[str, list[tuple[str, frozenset[str]]]] = {}

    def verdict(self, question: str, answer: str, fact: str = "") -> str | None:
        """``"duplicate"``, ``"near_duplicate"`` or ``None`` (new). Phrasings of one
        ``fact`` are never near-duplicates of each other: they are meant to be alike."""
        key = normalize(question)
        if key in self.keys:
            return "duplicate"
        words = frozenset(key.split())
        for owner, other in self.by_answer.get(normalize(answer), ()):
            if fact and owner == fact:
                continue
            union = len(words | other)
            if union and len(words & other) / union >= self.near_duplicate:
                return "near_duplicate"
        return None

    def add(self, question: str, answer: str, fact: str = "") -> None:
        key = normalize(question)
        self.keys.add(key)
        self.by_answer.setdefault(normalize(answer), []).append((fact, frozenset(key.split())))


def check(
    question: str, answer: str, source: str, seen: Seen, counts: QuestionCounts, fact: str = ""
) -> bool:
    """Run the filters on one question; count a drop under its filter's name. A kept
    question is remembered in ``seen`` (but not counted as kept: the caller does that)."""
    if not is_span(answer, source):
        counts.not_span += 1
        return False
    if gives_answer_away(question, answer):
        counts.answer_in_question += 1
        return False
    verdict = seen.verdict(question, answer, fact)
    if verdict == "duplicate":
        counts.duplicate += 1
        return False
    if verdict == "near_duplicate":
        counts.near_duplicate += 1
        return False
    seen.add(question, answer, fact)
    return True
