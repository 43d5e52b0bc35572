"""What a Qdrant point holds for a chunk, and how searches match it.

**BM25.** Texts are tokenized by ``ragtune.index.bm25.tokenize``, as in the embedded
store; each term is a 32-bit index (BLAKE2b; a collision merges two terms) weighted
``tf (k1 + 1) / (tf + k1 (1 - b + b len / BM25_AVG_TOKENS))``, and Qdrant's IDF modifier
multiplies in ``ln(1 + (N - df + 0.5) / (df + 0.5))`` at query time, the embedded
formula. The average length is a constant, not the corpus's, as in Qdrant's own BM25:
a running average would make every stored weight stale and scores depend on history.

**Filters** follow ``ragtune.index.base``'s grammar without Qdrant's nested-key paths
or its typed matches (where ``True`` and ``1`` can meet): each point carries
``meta_terms``, the ``[key, text]`` pairs (JSON) of its metadata in ``filter_text``
form, and ``doc_terms`` for ``doc_id``, ``source`` and ``title``; a condition is a
keyword match-any over them, one payload index on a server for every metadata key.

    >>> filter_term("a.b", "2024")
    '["a.b", "2024"]'
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

from qdrant_client import models as qm

from ragtune.index.base import DOCUMENT_FIELDS, filter_text, normalize_filters
from ragtune.index.bm25 import tokenize
from ragtune.types import Chunk, Document

BM25_K1 = 1.2
BM25_B = 0.75
#: Tokens of an average chunk: chunks of ``corpus.chunk_size_tokens`` = 160 model tokens
#: hold about 90 of ``tokenize``'s.
BM25_AVG_TOKENS = 90.0
DENSE, SPARSE = "dense", "bm25"
#: Payload fields a hit needs; searches for ids only ask for ``ID_PAYLOAD``.
CHUNK_PAYLOAD = ["chunk_id", "doc_id", "version", "idx", "text", "start", "end", "headings", "meta"]
ID_PAYLOAD = ["chunk_id", "doc_id", "version"]
_POINT_NAMESPACE = uuid.UUID("1b0e4a52-8a36-4d0c-9c52-6f3a2d6f0c11")


def term_index(term: str) -> int:
    """The sparse index of a BM25 term: 32 bits of its BLAKE2b hash."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little")


def bm25_document_vector(text: str) -> qm.SparseVector:
    """The BM25 term weights of a chunk (IDF is applied by Qdrant at query time)."""
    counts = Counter(tokenize(text))
    norm = BM25_K1 * (1.0 - BM25_B + BM25_B * sum(counts.values()) / BM25_AVG_TOKENS)
    weights: dict[int, float] = {}
    for term, tf in counts.items():
        index = term_index(term)
        weights[index] = weights.get(index, 0.0) + tf * (BM25_K1 + 1.0) / (tf + norm)
    ordered = sorted(weights)
    return qm.SparseVector(indices=ordered, values=[weights[i] for i in ordered])


def bm25_query_vector(query: str) -> qm.SparseVector:
    """A query's terms, each counted once (as the embedded BM25 does)."""
    ordered = sorted({term_index(t) for t in tokenize(query)})
    return qm.SparseVector(indices=ordered, values=[1.0] * len(ordered))


def filter_term(key: str, text: str) -> str:
    """What a point stores for ``key`` having ``text`` (unambiguous for any key)."""
    return json.dumps([key, text], ensure_ascii=False)


def meta_terms(chunk: Chunk, document: Document) -> list[str]:
    """``filter_term``s of the metadata a chunk is filtered by: the chunk's value for a
    key, else its document's; list items count one by one; floats, None, dicts never."""
    terms = set()
    for key, value in {**document.meta, **chunk.meta}.items():
        if key in DOCUMENT_FIELDS:
            continue
        for item in value if isinstance(value, list) else [value]:
            text = filter_text(item)
            if text is not None:
                terms.add(filter_term(key, text))
    return sorted(terms)


def doc_terms(doc_id: str, source: str, title: str) -> list[str]:
    """``filter_term``s of a document's own fields."""
    values = (doc_id, source, title)
    return [filter_term(k, v) for k, v in zip(DOCUMENT_FIELDS, values, strict=True)]


def conditions(filters: Mapping[str, Any] | None) -> list[qm.FieldCondition] | None:
    """Qdrant conditions (all must hold) for ``filters``; ``None`` when they match
    nothing. Raises ``FilterError`` for filters outside the grammar."""
    out: list[qm.FieldCondition] = []
    for key, texts in (normalize_filters(filters) or {}).items():
        if not texts:
            return None
        field = "doc_terms" if key in DOCUMENT_FIELDS else "meta_terms"
        terms = sorted(filter_term(key, t) for t in texts)
        out.append(qm.FieldCondition(key=field, match=qm.MatchAny(any=terms)))
    return out


def point_id(chunk_id: str, version: str) -> str:
    """The point of one version of a chunk: a write never overwrites the version it replaces."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{version}\x00{chunk_id}"))


def chunk_point(chunk: Chunk, document: Document, version: str, vector: Any) -> qm.PointStruct:
    """The point for ``chunk`` of ``document`` at ``version``, with its dense ``vector``."""
    payload = {
        "chunk_id": chunk.id,
        "doc_id": document.id,
        "version": version,
        "idx": chunk.index,
        "text": chunk.text,
        "start": chunk.start_char,
        "end": chunk.end_char,
        "headings": chunk.heading_path,
        "meta": chunk.meta,
        "doc_terms": doc_terms(document.id, document.source, document.title),
        "meta_terms": meta_terms(chunk, document),
    }
    vectors: dict[str, Any] = {DENSE: vector.tolist()}
    sparse = bm25_document_vector(chunk.text)
    if sparse.indices:  # a chunk of stopwords only has no BM25 vector
        vectors[SPARSE] = sparse
    return qm.PointStruct(id=point_id(chunk.id, version), vector=vectors, payload=payload)


def chunk_from_payload(payload: Mapping[str, Any], source: str, title: str) -> Chunk:
    """The chunk a point's payload holds; ``source`` and ``title`` come from SQLite."""
    return Chunk(
        id=payload["chunk_id"],
        doc_id=payload["doc_id"],
        text=payload["text"],
        index=payload["idx"],
        start_char=payload["start"],
        end_char=payload["end"],
        source=source,
        title=title,
        heading_path=list(payload["headings"]),
        meta=dict(payload["meta"]),
    )
