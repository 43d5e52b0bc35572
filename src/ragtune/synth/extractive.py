"""Questions from documents with no model: facts stated in sentences, asked several ways.

``extract_questions`` reads each chunk as statement units (:mod:`ragtune.synth.units`),
finds facts with the rules of :mod:`ragtune.synth.rules` (option descriptions, defaults,
tables, ``Key: value`` items, definitions, ``X is used to Y``, ``X requires Y``, dates,
versions, places, names, quantities) and writes each as ``phrasings`` questions whose
answer is an exact span of the chunk. The phrasings of a fact share its ``fact_id``, so
:func:`~ragtune.synth.split.split_by_fact` can hold some out as unseen phrasings. Every
question passes :mod:`ragtune.synth.filters`; the result counts each drop. The output
is a pure function of the chunks and the settings (seed included)::

    >>> from ragtune.types import Chunk
    >>> chunk = Chunk(id="cli.md#0", doc_id="cli.md", title="CLI",
    ...               text="# `--depth`\\n\\nLimits how deep to recurse. Defaults to `3`.")
    >>> result = extract_questions([chunk], ExtractiveSettings(phrasings=2))
    >>> [(e.question, e.answers[0]) for e in result.examples][:2]
    [('Which command-line option do you use to limit how deep to recurse?', '--depth'), ('Which command-line option should you use if you want to limit how deep to recurse?', '--depth')]
    >>> result.counts.facts, result.counts.not_span
    (2, 0)
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragtune.progress import Progress
from ragtune.synth.filters import QuestionCounts, QuestionResult, Seen, check, normalize
from ragtune.synth.rules import Candidate, facts_in_units
from ragtune.synth.units import plain_text, split_units
from ragtune.types import Chunk, QAExample

if TYPE_CHECKING:
    from ragtune.config import SynthConfig

__all__ = ["ExtractiveSettings", "candidate_facts", "extract_questions"]


@dataclass(frozen=True)
class ExtractiveSettings:
    """How many questions the extractive generator writes, and how it dedupes them.

    ``phrasings``: questions per fact (at least 2, so a phrasing can be held out; a fact
    whose rule has fewer templates gets what it has). ``max_facts_per_chunk``: a seeded
    sample of a chunk's facts beyond this many is dropped (counted as ``over_limit``).
    ``near_duplicate``: word-set Jaccard at which a question with the same answer as a
    kept one is a near-duplicate. ``seed`` picks the phrasings and the sample.
    """

    phrasings: int = 3
    max_facts_per_chunk: int = 8
    near_duplicate: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        if self.phrasings < 2:
            raise ValueError(f"phrasings must be >= 2 (got {self.phrasings})")
        if self.max_facts_per_chunk < 1:
            raise ValueError(f"max_facts_per_chunk must be >= 1 (got {self.max_facts_per_chunk})")
        if not 0.0 < self.near_duplicate <= 1.0:
            raise ValueError(f"near_duplicate must be in (0, 1] (got {self.near_duplicate})")

    @classmethod
    def from_config(cls, synth: SynthConfig) -> ExtractiveSettings:
        """The settings a project's ``[synth]`` section gives."""
        return cls(
            phrasings=synth.phrasings,
            max_facts_per_chunk=synth.max_facts_per_chunk,
            near_duplicate=synth.near_duplicate,
            seed=synth.seed,
        )


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]


def fact_id_for(doc_id: str, candidate: Candidate) -> str:
    """A fact's id: its document and a hash of its relation, subject and answer, so the
    same statement gets the same id in overlapping chunks and across runs."""
    return f"{doc_id}#{_digest(candidate.relation, normalize(candidate.subject), normalize(candidate.answer))}"


def _title(chunk: Chunk) -> str:
    """The chunk's document title, markup removed ("The _X_ style" → "The X style")."""
    title = chunk.title or (chunk.heading_path[0] if chunk.heading_path else "")
    return plain_text(title)


def candidate_facts(chunk: Chunk) -> list[Candidate]:
    """Every fact the rules find in ``chunk`` (before filtering), in text order."""
    return facts_in_units(split_units(chunk.text), title=_title(chunk))


def _choose_phrasings(questions: Sequence[str], n: int, rng: random.Random) -> list[str]:
    """The plainest phrasing first, then a seeded choice of the others."""
    if len(questions) <= n:
        return list(questions)
    rest = sorted(rng.sample(range(1, len(questions)), n - 1))
    return [questions[0], *(questions[i] for i in rest)]


def _rows(
    chunk: Chunk, fact_id: str, candidate: Candidate, questions: Iterable[tuple[int, str]]
) -> list[QAExample]:
    return [
        QAExample(
            id=f"{fact_id}:p{number}",
            question=question,
            answers=[candidate.answer, *candidate.aliases],
            fact_id=fact_id,
            doc_ids=[chunk.doc_id],
            phrasing=f"p{number}",
            context=chunk.text,
            meta={
                "source": "extractive",
                "chunk_id": chunk.id,
                "relation": candidate.relation,
                "subject": candidate.subject,
                "answer_start": candidate.span[0],
                "answer_end": candidate.span[1],
            },
        )
        for number, question in questions
    ]


def extract_questions(
    chunks: Sequence[Chunk],
    settings: ExtractiveSettings | None = None,
    progress: Progress | None = None,
) -> QuestionResult:
    """QA rows for the facts stated in ``chunks``, filtered and counted.

    Chunks are read in ``(doc_id, index, id)`` order, so the result does not depend on
    the order they were given in. See the module docstring for an example.
    """
    started = time.perf_counter()
    settings = settings or ExtractiveSettings()
    progress = progress or Progress()
    counts = QuestionCounts()
    seen = Seen(settings.near_duplicate)
    facts_seen: set[str] = set()
    examples: list[QAExample] = []
    ordered = sorted(chunks, key=lambda c: (c.doc_id, c.index, c.id))
    with progress.task("extracting questions", total=len(ordered), unit="chunks") as advance:
        for chunk in ordered:
            counts.chunks += 1
            units = split_units(chunk.text)
            counts.units += len(units)
            candidates = facts_in_units(units, title=_title(chunk))
            rng = random.Random(f"{settings.seed}:{chunk.id}")
            chosen = {id(c) for c in candidates}
            if len(candidates) > settings.max_facts_per_chunk:
                chosen = {id(c) for c in rng.sample(candidates, settings.max_facts_per_chunk)}
            for candidate in candidates:
                fact_id = fact_id_for(chunk.doc_id, candidate)
                phrasings = _choose_phrasings(candidate.questions, settings.phrasings, rng)
                counts.proposed += len(phrasings)
                if id(candidate) not in chosen:
                    counts.over_limit += len(phrasings)
                    continue
                if fact_id in facts_seen:  # the same statement in an overlapping chunk
                    counts.duplicate += len(phrasings)
                    continue
                kept = [
                    (number, question)
                    for number, question in enumerate(phrasings)
                    if check(question, candidate.answer, chunk.text, seen, counts, fact_id)
                ]
                if kept:
                    facts_seen.add(fact_id)
                    counts.add_kept(candidate.relation, len(kept))
                    examples.extend(_rows(chunk, fact_id, candidate, kept))
            advance(1)
    return QuestionResult(examples, counts, time.perf_counter() - started)
