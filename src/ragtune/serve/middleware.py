"""ASGI middleware: request-body size limit and request metrics.

Both are plain ASGI (not ``BaseHTTPMiddleware``) so streamed answers pass through
unbuffered::

    app.add_middleware(BodyLimitMiddleware, max_bytes=20 * 2**20)
    app.add_middleware(MetricsMiddleware, metrics=Metrics())
"""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragtune.serve.errors import ApiError, error_body
from ragtune.serve.metrics import Metrics


class BodyTooLargeError(ApiError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            413,
            f"request body larger than {max_bytes / 2**20:.1f} MB (serve.max_upload_mb)",
            code="request_too_large",
        )


_DRAIN_CAP_BYTES = 64 * 2**20


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes``: at once when ``Content-Length`` says so, else
    as soon as the streamed body passes the limit (before it is all read)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            # Read (and drop) what the client is still sending before answering, up to a
            # hard cap: answering mid-upload makes many clients see a connection reset
            # instead of the 413. Past the cap the connection is simply closed after it.
            if int(declared) <= _DRAIN_CAP_BYTES:
                await _drain(receive)
            await _send_error(send, BodyTooLargeError(self.max_bytes))
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


class MetricsMiddleware:
    """Count requests by route template, method and status, and time them end to end
    (for a streamed answer: until its last byte)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

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
                _route_label(scope), scope["method"], status, time.perf_counter() - started
            )


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("path", "").startswith("/static/"):
        return "/static"
    return "(unmatched)"


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
