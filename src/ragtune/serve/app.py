"""The FastAPI application: routes, auth, limits, metrics and error handlers, put together.

    from ragtune.project import Project
    from ragtune.serve import create_app

    app = create_app(Project.open("acme-kb"), api_key="s3cret")
    # uvicorn.run(app, host="127.0.0.1", port=8000), or: ragtune serve --project acme-kb

Middleware, outermost first: metrics (sees every request, 401s and 413s included),
the Host and Origin guard (:mod:`ragtune.serve.guard`), CORS (only when
``serve.cors_origins`` is set; outside auth so preflights pass), the body-size limit
(chat bodies read whole, up to ``MAX_CHAT_BODY_BYTES``), then auth. The model,
embedder and store load during startup (``warm=True``), so the first question does not
pay for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ragtune.serve import routes_chat, routes_documents, routes_runs, routes_search, routes_web
from ragtune.serve.auth import AuthMiddleware, AuthPolicy
from ragtune.serve.errors import install_error_handlers
from ragtune.serve.guard import GuardMiddleware, GuardPolicy
from ragtune.serve.metrics import Metrics
from ragtune.serve.middleware import BodyLimitMiddleware, MetricsMiddleware
from ragtune.serve.service import ServeService

if TYPE_CHECKING:
    from ragtune.project import Project

# Multipart framing around an upload at the size limit.
_MULTIPART_SLACK_BYTES = 256 * 1024
# Only the last user message is used, and a prompt is refused past the context window
# anyway; the limit stops a body from costing memory before that check can run.
MAX_CHAT_BODY_BYTES = 16 * 2**20
CHAT_PATH = "/v1/chat/completions"


def create_app(
    project: Project,
    *,
    api_key: str | None = None,
    allow_unauthenticated_writes: bool = False,
    metrics_backend: str = "auto",
    warm: bool = True,
    allowed_hosts: Iterable[str] | None = None,
) -> FastAPI:
    """The server for ``project``; see :mod:`ragtune.serve.auth` for what ``api_key``
    guards and :mod:`ragtune.serve.guard` for ``allowed_hosts`` (extra ``Host`` names
    to answer to besides loopback and ``serve.host``; ``["*"]`` for any)."""
    from ragtune import __version__

    service = ServeService(project, Metrics(metrics_backend))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start()
        if warm:
            await run_in_threadpool(service.warm)
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title="ragtune",
        version=__version__,
        description="RAG, fine-tuning or both, served: OpenAI-compatible chat over every arm.",
        lifespan=lifespan,
    )
    app.state.service = service
    install_error_handlers(app)
    routers = [routes_chat, routes_documents, routes_search, routes_runs, routes_web]
    for module in routers:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=routes_web.STATIC_DIR), name="static")

    settings = project.config.serve
    extra_hosts = list(allowed_hosts or getattr(settings, "allowed_hosts", None) or ())
    app.state.guard_policy = GuardPolicy.for_host(settings.host, extra_hosts, settings.cors_origins)
    app.state.allowed_hosts = extra_hosts
    app.add_middleware(
        AuthMiddleware, policy=AuthPolicy(api_key or None, allow_unauthenticated_writes)
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=service.max_upload_bytes + _MULTIPART_SLACK_BYTES,
        buffered={CHAT_PATH: MAX_CHAT_BODY_BYTES},
    )
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(GuardMiddleware)
    # The routes themselves (not FastAPI's wrappers), to label requests refused before routing.
    api_routes = [route for module in routers for route in module.router.routes]
    app.add_middleware(MetricsMiddleware, metrics=service.metrics, routes=api_routes)
    return app


def answer_to_host(app: FastAPI, host: str) -> None:
    """Accept ``Host: host`` as well: the interface the app is actually bound to (the
    CLI and :class:`ragtune.serve.server.BackgroundServer` call this)."""
    settings = app.state.service.project.config.serve
    hosts = [*app.state.allowed_hosts, host]
    app.state.guard_policy = GuardPolicy.for_host(settings.host, hosts, settings.cors_origins)
    app.state.allowed_hosts = hosts
