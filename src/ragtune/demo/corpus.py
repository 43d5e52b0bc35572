"""Assemble one version of the demo corpus in memory: documents, questions, changes.

Nothing here touches the file system; :mod:`ragtune.demo.writer` renders and writes.

>>> corpus = build_corpus(version=1, seed=0)
>>> len(corpus.docs) >= 150, len(corpus.qa) == 4 * corpus.n_facts
(True, True)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ragtune.demo.compose_company import compose_company
from ragtune.demo.compose_news import compose_news
from ragtune.demo.compose_products import compose_products
from ragtune.demo.compose_support import compose_support
from ragtune.demo.document import DemoDoc
from ragtune.demo.evolve import evolve_world
from ragtune.demo.questions import questions_for
from ragtune.demo.records import FactChange
from ragtune.demo.world import World, build_world, rng_for
from ragtune.types import QAExample

# How many version-1 documents of each kind version 2 deletes.
RETIRED_MEETINGS = 4
RETIRED_BLOG_POSTS = 2


@dataclass
class DemoCorpus:
    """One version of the corpus before rendering."""

    world: World
    docs: list[DemoDoc]
    qa: list[QAExample]
    changes: list[FactChange] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def n_facts(self) -> int:
        return len({q.fact_id for q in self.qa})


def compose_all(world: World) -> list[DemoDoc]:
    """Every document of ``world``, sorted by id; ids must be unique."""
    docs = compose_products(world) + compose_company(world) + compose_support(world)
    docs += compose_news(world)
    docs.sort(key=lambda d: d.doc_id)
    ids = [d.doc_id for d in docs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"demo corpus: duplicate document ids {duplicates}")
    return docs


def _retired(world: World, v1_docs: list[DemoDoc]) -> set[str]:
    """Version-1 documents that version 2 deletes: some notes, posts and one archive family."""
    rng = rng_for(world.seed, "v2", "retire")
    meetings = sorted(d.doc_id for d in v1_docs if d.kind == "meeting")
    posts = sorted(d.doc_id for d in v1_docs if d.kind == "blog")
    family = rng.choice(world.families)
    archive = {f"archive/{p.slug}-spec.md" for p in world.legacy_products(family.slug)}
    return set(rng.sample(meetings, RETIRED_MEETINGS) + rng.sample(posts, RETIRED_BLOG_POSTS)) | (
        archive
    )


def _doc_ids_by_fact(docs: list[DemoDoc]) -> dict[str, list[str]]:
    by_fact: dict[str, list[str]] = defaultdict(list)
    for doc in docs:
        for fact_id in doc.fact_ids:
            by_fact[fact_id].append(doc.doc_id)
    return {k: sorted(v) for k, v in by_fact.items()}


def _questions(world: World, docs: list[DemoDoc]) -> list[QAExample]:
    by_fact = _doc_ids_by_fact(docs)
    qa: list[QAExample] = []
    for fact in world.facts.values():
        if not fact.asked:
            continue
        if not by_fact.get(fact.id):
            raise RuntimeError(f"demo corpus: no document states fact {fact.id}")
        qa += questions_for(fact, world.company, by_fact[fact.id])
    return qa


def build_corpus(version: int = 1, seed: int = 0) -> DemoCorpus:
    """The documents, questions and (for version 2) changes of one corpus version."""
    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, got {version}")
    world = build_world(seed)
    docs = compose_all(world)
    if version == 1:
        return DemoCorpus(world, docs, _questions(world, docs))

    v1_world, v1_docs = world, docs
    world = evolve_world(v1_world)
    retired = _retired(world, v1_docs)
    docs = [d for d in compose_all(world) if d.doc_id not in retired]
    qa = _questions(world, docs)
    old_by_fact = _doc_ids_by_fact(v1_docs)
    new_by_fact = _doc_ids_by_fact(docs)
    changes = []
    for fact_id in sorted(world.previous):
        rows = [q for q in qa if q.fact_id == fact_id]
        changes.append(
            FactChange(
                fact_id=fact_id,
                old_answers=world.previous[fact_id].answers,
                new_answers=world.facts[fact_id].answers,
                doc_ids=new_by_fact[fact_id],
                question_ids=[q.id for q in rows],
                questions=[q.question for q in rows],
                old_doc_ids=old_by_fact[fact_id],
                group=world.facts[fact_id].group,
            )
        )
    v1_by_id = {d.doc_id: d for d in v1_docs}
    v2_ids = {d.doc_id for d in docs}
    return DemoCorpus(
        world,
        docs,
        qa,
        changes=changes,
        added=sorted(v2_ids - set(v1_by_id)),
        removed=sorted(set(v1_by_id) - v2_ids),
        # Same blocks, title and date render to the same bytes, so this is exact.
        changed=sorted(d.doc_id for d in docs if d.doc_id in v1_by_id and d != v1_by_id[d.doc_id]),
    )
