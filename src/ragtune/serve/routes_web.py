"""The web page (``/``, ``/static/*``), ``/healthz`` and ``/metrics``.

The page is static HTML, JS and CSS shipped in ``ragtune/serve/static``: no build
step, no CDN, so it works offline. It talks to the same JSON API as any client.

``/healthz`` and ``/metrics`` are ``async`` routes that touch neither the thread pool
nor the model, so they answer at once however busy the model and the pool are.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from ragtune.serve.routes_chat import get_service

router = APIRouter(tags=["web"])
STATIC_DIR = Path(str(resources.files("ragtune.serve") / "static"))


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    """Liveness and readiness (models loaded); open without the API key, for probes."""
    service = get_service(request)
    return {"status": "ok", "ready": service.ready}


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests, latency, tokens, batch sizes."""
    body, content_type = get_service(request).metrics.render()
    return Response(
        body, media_type=content_type.split(";")[0], headers={"Content-Type": content_type}
    )
