"""ragtune's dataclasses as the JSON the API sends: OpenAI's chat shapes plus citations.

OpenAI clients read ``choices[0].message.content`` and ignore the extra fields;
ragtune clients (and the web page) also read ``citations`` (on the response and on the
message), each with the cited chunk's text, and ``ragtune`` (arm, timings, hits)::

    body = completion_body(answer, model="rag", max_new_tokens=64, root=project.root)
    body["choices"][0]["message"]["content"], body["citations"][0]["doc_id"]

Every ``source`` goes through :func:`ragtune.serve.validation.display_source` with the
project root, so no absolute server path reaches a client.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from ragtune.serve.validation import display_source
from ragtune.types import Answer, Citation, Hit


def new_completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def shown_source(source: str, root: Path | None, doc_id: str | None = None) -> str:
    """``source`` as clients see it (relative, never an absolute server path)."""
    return display_source(source, root or Path.cwd(), doc_id)


def hit_json(hit: Hit, root: Path | None = None) -> dict[str, Any]:
    """A hit with its chunk's text, where it is (``source`` relative to ``root``, the
    project), and its scores."""
    chunk = hit.chunk
    return {
        "rank": hit.rank,
        "score": hit.score,
        "scores": hit.scores,
        "chunk_id": chunk.id,
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "source": shown_source(chunk.source, root, chunk.doc_id),
        "heading_path": chunk.heading_path,
        "start_char": chunk.start_char,
        "end_char": chunk.end_char,
        "text": chunk.text,
    }


def citation_json(citation: Citation, hits: list[Hit], root: Path | None = None) -> dict[str, Any]:
    """A citation with the text and title of the chunk it names (from the answer's hits)."""
    out: dict[str, Any] = citation.to_dict()
    out["source"] = shown_source(citation.source, root, citation.doc_id)
    hit = hits[citation.marker - 1] if 1 <= citation.marker <= len(hits) else None
    if hit is not None and hit.chunk.id == citation.chunk_id:
        out.update(title=hit.chunk.title, text=hit.chunk.text)
    return out


def finish_reason(answer: Answer, max_new_tokens: int) -> str:
    return "length" if answer.completion_tokens >= max_new_tokens else "stop"


def usage_json(answer: Answer) -> dict[str, int]:
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }


def ragtune_json(answer: Answer, root: Path | None = None) -> dict[str, Any]:
    """The extras: which arm answered, with what, how fast, from which passages."""
    return {
        "arm": answer.arm,
        "model": answer.model,
        "timings": answer.timings,
        "citations_inferred": bool(answer.meta.get("citations_inferred", False)),
        "hits": [hit_json(h, root) for h in answer.hits],
    }


def completion_body(
    answer: Answer,
    model: str,
    max_new_tokens: int,
    completion_id: str | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object for one answer (sources relative to ``root``)."""
    citations = [citation_json(c, answer.hits, root) for c in answer.citations]
    return {
        "id": completion_id or new_completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": f"ragtune-{answer.arm}",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text, "citations": citations},
                "finish_reason": finish_reason(answer, max_new_tokens),
                "logprobs": None,
            }
        ],
        "usage": usage_json(answer),
        "citations": citations,
        "ragtune": ragtune_json(answer, root),
    }


def chunk_event(
    completion_id: str,
    model: str,
    created: int,
    delta: dict[str, Any],
    finish: str | None = None,
    **extra: Any,
) -> str:
    """One server-sent event holding a ``chat.completion.chunk``."""
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **extra,
    }
    return sse(body)


def sse(body: dict[str, Any] | str) -> str:
    data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return f"data: {data}\n\n"
