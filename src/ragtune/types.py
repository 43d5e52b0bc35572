"""The data that crosses ragtune's stage boundaries.

Every stage takes and returns these dataclasses, never raw dicts or tuples:

    loader -> Document -> chunker -> Chunk -> store -> retriever -> Hit
    System.answer(question) -> Answer
    synth / QA files -> QAExample

Each has ``to_dict`` / ``from_dict`` for JSON and JSONL round trips.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def content_hash(text: str) -> str:
    """SHA-256 of a document's text: equal text, equal hash, on every machine."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Serializable:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Document(_Serializable):
    """One source document after loading and cleaning.

    ``id`` is stable across runs (by default the path relative to the ingested root),
    so that re-ingesting a changed file updates it instead of adding a copy.

    >>> doc = Document(id="faq.md", text="# FAQ\\nReturns within 30 days.", source="/data/faq.md")
    >>> len(doc.hash)
    64
    """

    id: str
    text: str
    source: str = ""
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        """:func:`document_hash`: what a store records, so an edit of the title or the
        metadata is a change too."""
        return document_hash(self)


def document_hash(document: Document) -> str:
    """What a store records as a document's ``content_hash``: SHA-256 over its text,
    title and metadata, so an edit of any of them (an HTML ``<title>``, a JSONL ``lang``)
    is a change that ingest re-indexes. Equal documents, equal hash, on every machine.

    >>> a = Document(id="a", text="t", title="T", meta={"lang": "en"})
    >>> document_hash(a) == document_hash(Document(id="b", text="t", title="T", meta={"lang": "de"}))
    False
    """
    payload = json.dumps(
        [document.text, document.title, document.meta],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Chunk(_Serializable):
    """A span of a document: the unit that is embedded, indexed and cited.

    ``start_char``/``end_char`` index into the cleaned ``Document.text`` so an answer
    can cite the exact place; ``heading_path`` is the chain of headings above it.
    """

    id: str
    doc_id: str
    text: str
    index: int = 0
    start_char: int = 0
    end_char: int = 0
    source: str = ""
    title: str = ""
    heading_path: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Hit(_Serializable):
    """A retrieved chunk with its score (higher is better) and per-retriever scores."""

    chunk: Chunk
    score: float
    rank: int = 0
    scores: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hit:
        return cls(
            chunk=Chunk.from_dict(data["chunk"]),
            score=float(data["score"]),
            rank=int(data.get("rank", 0)),
            scores=dict(data.get("scores", {})),
        )


@dataclass
class Citation(_Serializable):
    """A ``[n]`` marker in an answer, resolved to the chunk it points at."""

    marker: int
    chunk_id: str
    doc_id: str
    source: str = ""
    start_char: int = 0
    end_char: int = 0


@dataclass
class Answer(_Serializable):
    """What every arm returns for one question.

    ``timings`` is seconds per stage (``retrieve``, ``generate``, ``total``).
    """

    question: str
    text: str
    arm: str = ""
    model: str = ""
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        data = dict(data)
        data["citations"] = [Citation.from_dict(c) for c in data.get("citations", [])]
        data["hits"] = [Hit.from_dict(h) for h in data.get("hits", [])]
        return super().from_dict.__func__(cls, data)  # type: ignore[attr-defined]


@dataclass
class QAExample(_Serializable):
    """A question with its accepted answers, where they are stated, and which fact it tests.

    ``phrasing`` names the question template so that a split can train on some
    phrasings of a fact and test on others.
    """

    id: str
    question: str
    answers: list[str]
    fact_id: str = ""
    doc_ids: list[str] = field(default_factory=list)
    phrasing: str = ""
    context: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestReport(_Serializable):
    """What one ``ingest`` run did: counts, failures with reasons, and its duration."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    chunks_embedded: int = 0
    reindexed: bool = False
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)
