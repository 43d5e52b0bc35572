"""ASGI middleware: request-body size limit and request metrics.

Both are plain ASGI (not ``BaseHTTPMiddleware``) so streamed answers pass through
unbuffered::

    app.add_middleware(BodyLimitMiddleware, max_bytes=20 * 2**20,
                       buffered={"/v1/chat/completions": 16 * 2**20})
    app.add_middleware(MetricsMiddleware, metrics=Metrics())

A path in ``buffered`` has its body read whole (up to its own limit) before the route
runs: FastAPI turns any error raised while it parses a body into a 400, so a limit
enforced during that read would answer 400 instead of 413.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragtune.serve.errors import ApiError, error_body
from ragtune.serve.metrics import OTHER, Metrics


class BodyTooLargeError(ApiError):
    def __init__(self, max_bytes: int, setting: str = "serve.max_upload_mb") -> None:
        super().__init__(
            413,
            f"request body larger than {max_bytes / 2**20:.1f} MB ({setting})",
            code="request_too_large",
        )


_DRAIN_CAP_BYTES = 64 * 2**20


async def _drain(receive: Receive, cap: int = _DRAIN_CAP_BYTES) -> None:
    """Read and drop the rest of a body, up to ``cap`` bytes."""
    dropped = 0
    while dropped <= cap:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (or a path's own limit in ``buffered``): at once
    when ``Content-Length`` says so, else as soon as the streamed body passes the limit
    (before it is all read), with a 413 either way."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, buffered: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.buffered = dict(buffered or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.buffered.get(path, self.max_bytes)
        setting = "chat request limit" if path in self.buffered else "serve.max_upload_mb"
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            # Read (and drop) what the client is still sending before answering, up to a
            # hard cap: answering mid-upload makes many clients see a connection reset
            # instead of the 413. Past the cap the connection is simply closed after it.
            if int(declared) <= _DRAIN_CAP_BYTES:
                await _drain(receive)
            await _send_error(send, BodyTooLargeError(limit, setting))
            return
        if path in self.buffered:
            await self._buffered(scope, receive, send, limit, setting)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the route's body read, so the ApiError handler answers 413.
                    raise BodyTooLargeError(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)

    async def _buffered(
        self, scope: Scope, receive: Receive, send: Send, limit: int, setting: str
    ) -> None:
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left mid-body
                return
            body = message.get("body", b"")
            received += len(body)
            if received > limit:
                if message.get("more_body", False):
                    await _drain(receive)
                await _send_error(send, BodyTooLargeError(limit, setting))
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as ASGI does

        await self.app(scope, replay, send)


class MetricsMiddleware:
    """Count requests by route template, method and status, and time them end to end
    (for a streamed answer: until its last byte)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[Any] | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes if routes is not None else []  # to label refused requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception:
            status = 500
            raise
        finally:
            self.metrics.observe_request(
                route_label(scope, self.routes),
                scope["method"],
                status,
                time.perf_counter() - started,
            )


def route_label(scope: Scope, routes: list[Any] | None = None) -> str:
    """The route template that served (or would serve) the request, ``/static`` for the
    page's files, or ``"other"``: never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("path", "").startswith("/static/"):
        return "/static"
    # Refused before routing (401, 403, 413): name the route the path belongs to.
    from starlette.routing import Match

    for candidate in routes or ():
        template = getattr(candidate, "path", None)
        if isinstance(template, str) and candidate.matches(scope)[0] != Match.NONE:
            return template
    return OTHER


async def _send_error(send: Send, exc: ApiError) -> None:
    body = json.dumps(error_body(exc.message, exc.error_type, exc.code)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
