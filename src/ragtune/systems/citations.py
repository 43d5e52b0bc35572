"""Citations: ``[n]`` markers in an answer resolved to the passages they name."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragtune.index.bm25 import tokenize
from ragtune.types import Citation, Hit

_MARKER = re.compile(r"\[(\d{1,2})\]")


def to_citation(marker: int, hit: Hit) -> Citation:
    chunk = hit.chunk
    return Citation(
        marker=marker,
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        source=chunk.source,
        start_char=chunk.start_char,
        end_char=chunk.end_char,
    )


def resolve_citations(text: str, hits: Sequence[Hit]) -> tuple[list[Citation], bool]:
    """Citations for the markers in ``text`` that name a passage; markers out of range
    are ignored. When the model cites nothing, the passage sharing the most words with
    the answer is attributed (returned flag ``inferred=True``) so every grounded answer
    still points at its source."""
    cited: list[Citation] = []
    for match in _MARKER.finditer(text):
        marker = int(match.group(1))
        if 1 <= marker <= len(hits) and all(c.marker != marker for c in cited):
            cited.append(to_citation(marker, hits[marker - 1]))
    if cited or not hits:
        return cited, False
    answer_words = set(tokenize(_MARKER.sub(" ", text)))
    if not answer_words:
        return [], False
    overlaps = [len(answer_words & set(tokenize(h.chunk.text))) for h in hits]
    best = max(range(len(hits)), key=lambda i: (overlaps[i], -i))
    if overlaps[best] == 0:
        return [], False
    return [to_citation(best + 1, hits[best])], True
