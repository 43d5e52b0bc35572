"""A format-neutral document: headings, paragraphs, lists and tables, plus the facts it states.

Composers build a :class:`DemoDoc` through a :class:`DocBuilder`; the ``render_*``
modules turn it into Markdown, text, HTML, PDF or DOCX bytes. Because every fact is
written through :meth:`DocBuilder.fact`, the document knows exactly which facts it
states, which is where ``qa.jsonl``'s ``doc_ids`` come from.

>>> from ragtune.demo.world import build_world
>>> world = build_world(0)
>>> b = DocBuilder(world, "policies/returns.md", "Returns")
>>> b.para(f"You may return a product within {b.fact('policy.return_window')}.")
>>> doc = b.build()
>>> sorted(doc.fact_ids), doc.fmt
(['policy.return_window'], 'md')
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from ragtune.demo.facts import format_date
from ragtune.demo.world import V1_DATE, World, rng_for


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Paragraph | BulletList | Table


@dataclass
class DemoDoc:
    """One document of the demo corpus, before rendering. ``doc_id`` is its relative path."""

    doc_id: str
    title: str
    date: date
    kind: str
    blocks: list[Block] = field(default_factory=list)
    fact_ids: set[str] = field(default_factory=set)
    author: str = ""

    @property
    def fmt(self) -> str:
        return self.doc_id.rsplit(".", 1)[1]

    @property
    def date_text(self) -> str:
        return format_date(self.date)

    def byline(self, company: str) -> str:
        """``<author or company> - <date>``: written under the title in every format."""
        return f"{self.author or company} - {self.date_text}"

    def plain_text(self) -> str:
        """All block text joined by newlines: what a loader should roughly recover."""
        parts = [self.title]
        for block in self.blocks:
            if isinstance(block, Heading | Paragraph):
                parts.append(block.text)
            elif isinstance(block, BulletList):
                parts.extend(block.items)
            else:
                parts.append(" ".join(block.header))
                parts.extend(" ".join(row) for row in block.rows)
        return "\n".join(parts)


class DocBuilder:
    """Collects blocks and the facts they state; :meth:`build` returns the :class:`DemoDoc`.

    ``historic`` documents (press releases, meeting notes, blog posts) are frozen in
    time: they may only state facts that never change, so that no outdated value is
    left lying around in a later version of the corpus. Living documents (spec
    sheets, price lists, policies) are dated by their newest fact.
    """

    def __init__(
        self,
        world: World,
        doc_id: str,
        title: str,
        *,
        kind: str = "",
        historic_date: date | None = None,
        author: str = "",
    ) -> None:
        self.world = world
        self.doc = DemoDoc(doc_id, title, historic_date or world.as_of, kind, author=author)
        self.historic = historic_date is not None
        # Prose choices depend on the seed and the document only, never on the
        # version, so a document whose facts did not change renders to the same bytes.
        self.rng: random.Random = rng_for(world.seed, "doc", doc_id)

    def fact(self, fact_id: str) -> str:
        """The canonical text of a fact, recorded as stated by this document."""
        fact = self.world.facts[fact_id]
        if self.historic and fact.mutable and fact.asked:
            raise ValueError(f"{self.doc.doc_id}: historic document states mutable {fact_id}")
        self.doc.fact_ids.add(fact_id)
        return fact.text

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(list(options))

    def heading(self, text: str, level: int = 2) -> None:
        self.doc.blocks.append(Heading(text, level))

    def para(self, text: str) -> None:
        self.doc.blocks.append(Paragraph(text))

    def bullets(self, items: Sequence[str]) -> None:
        self.doc.blocks.append(BulletList(tuple(items)))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.doc.blocks.append(Table(tuple(header), tuple(tuple(r) for r in rows)))

    def build(self) -> DemoDoc:
        if not self.historic:
            stated = [self.world.facts[f].since for f in self.doc.fact_ids]
            self.doc.date = max(stated, default=V1_DATE)
        return self.doc
