"""Turn one arm's ``Answer`` to one ``QAExample`` into a scored :class:`QuestionRecord`.

record = score(example, answer, k=4, split="unseen_fact")
record.scores     # {"contains": 1.0, "exact_match": 0.0, "f1": 0.33}
record.retrieval  # {"recall@4": 0.5, "hit@4": 1.0, "mrr": 1.0, "ndcg@10": 0.61, "answer@4": 1.0}
record.grounded   # 1.0: a cited passage states an accepted answer
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragtune.evaluate.metrics import (
    contains_answer,
    cosine,
    is_long_answer,
    score_answer,
)
from ragtune.evaluate.records import QuestionRecord
from ragtune.evaluate.retrieval import ranked_doc_ids, retrieval_scores
from ragtune.types import Answer, QAExample

if TYPE_CHECKING:
    from ragtune.embed.base import Embedder


def snippet(text: str, answers: Sequence[str], width: int = 220) -> str:
    """A window of ``text`` around the first accepted answer it states (else its start)."""
    flat = " ".join(text.split())
    lower = flat.lower()
    for answer in answers:
        at = lower.find(answer.lower())
        if at >= 0:
            start = max(0, at - width // 2)
            piece = flat[start : start + width]
            return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")
    return flat[:width] + ("…" if len(flat) > width else "")


def score(
    example: QAExample, answer: Answer, k: int, split: str = "", retrieves: bool = False
) -> QuestionRecord:
    """Score one answer: string metrics, retrieval metrics and groundedness (when it retrieves)."""
    answers = example.answers
    record = QuestionRecord(
        qid=example.id,
        arm=answer.arm,
        question=example.question,
        answers=list(answers),
        prediction=answer.text,
        split=split,
        fact_id=example.fact_id,
        doc_ids=list(example.doc_ids),
        scores=score_answer(answer.text, answers),
        latency={
            stage: round(answer.timings.get(stage, 0.0), 4)
            for stage in ("retrieve", "generate", "total")
        },
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
    )
    batch = max(1, int(answer.meta.get("batch_size", 1) or 1))
    record.amortized_s = round(
        answer.timings.get("retrieve", 0.0) + answer.timings.get("generate", 0.0) / batch, 4
    )
    if not retrieves:
        return record
    ranked = ranked_doc_ids(answer.hits)
    record.retrieved = ranked
    context = " ".join(h.chunk.text for h in answer.hits)
    record.retrieval = {"answer@k": contains_answer(context, answers)}
    if example.doc_ids:
        record.retrieval.update(retrieval_scores(ranked, example.doc_ids, k))
    by_chunk = {h.chunk.id: h for h in answer.hits}
    cited_texts = []
    for citation in answer.citations:
        hit = by_chunk.get(citation.chunk_id)
        text = hit.chunk.text if hit else ""
        cited_texts.append(text)
        record.cited.append(
            {
                "marker": citation.marker,
                "doc_id": citation.doc_id,
                "chunk_id": citation.chunk_id,
                "snippet": snippet(text, answers),
                "states_answer": bool(contains_answer(text, answers)),
            }
        )
    record.grounded = contains_answer(" ".join(cited_texts), answers) if cited_texts else 0.0
    record.meta["citations_inferred"] = bool(answer.meta.get("citations_inferred"))
    return record


def add_semantic_similarity(records: Sequence[QuestionRecord], embedder: Embedder) -> int:
    """For long reference answers, cosine of prediction and best reference under ``embedder``.

    Returns how many records were scored. Short factual answers are skipped: string
    metrics judge them exactly, and similarity of "1998" to "2012" says little.
    """
    todo = [r for r in records if is_long_answer(r.answers) and r.prediction.strip()]
    if not todo:
        return 0
    texts = [r.prediction for r in todo] + [a for r in todo for a in r.answers]
    vectors = embedder.embed(texts)
    offset = len(todo)
    for i, record in enumerate(todo):
        prediction = vectors[i]
        best = 0.0
        for _ in record.answers:
            best = max(best, cosine(prediction.tolist(), vectors[offset].tolist()))
            offset += 1
        record.scores["semantic"] = round(best, 4)
    return len(todo)
