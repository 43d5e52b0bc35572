"""``GET /v1/search?q=...&k=...&mode=...``: the hits retrieval would put in a prompt.

curl 'localhost:8000/v1/search?q=X200+warranty&k=3'
# {"object": "list", "query": "X200 warranty", "data": [{"rank": 1, "score": 0.03, "doc_id": ...}]}
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ragtune.serve.render import hit_json
from ragtune.serve.routes_chat import get_service

router = APIRouter(tags=["search"])


@router.get("/v1/search")
async def search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=4000, description="The query."),
    k: int | None = Query(
        None, ge=1, le=100, description="How many hits (default retrieve.top_k)."
    ),
    mode: Literal["dense", "bm25", "hybrid"] | None = Query(
        None, description="Default retrieve.mode."
    ),
) -> dict[str, Any]:
    """Top ``k`` hits for ``q`` with their scores, chunk text and sources."""
    project = get_service(request).project
    hits = await run_in_threadpool(project.search, q, k, mode)
    return {
        "object": "list",
        "query": q,
        "mode": mode or project.config.retrieve.mode,
        "data": [hit_json(h, project.root) for h in hits],
    }
