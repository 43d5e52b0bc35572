"""Browser-borne attacks on a local server: DNS rebinding (the Host check) and forged
cross-origin writes (the Origin check).

* **Host**: a request must name this server: ``localhost``, ``127.0.0.1``, ``::1``,
  the bound host (``--host``), or a name in ``allowed_hosts``; ``"*"`` there turns the
  check off. When bound to every interface (``0.0.0.0``, ``::``) any IP literal and this
  machine's host name pass too (rebinding needs a DNS name). Anything else is a 400
  ``invalid_host``, before auth, so ``curl -H 'Host: attacker.example'`` reads nothing.
* **Origin**: a request that may change state (any method but GET, HEAD, OPTIONS)
  and carries an ``Origin`` header must come from this server's own origin (the Host
  it was sent to) or one of ``serve.cors_origins``; else a 403 ``cross_origin_request``.
  Clients that send no Origin (curl, SDKs) are not browsers and pass. A page cannot
  forge a multipart upload without its Origin: browsers send it on every cross-origin
  POST, and also ``Origin: null`` from sandboxed frames and files, which is refused.

The middleware reads the policy from ``app.state.guard_policy`` on each request, so
the server can add the interface it was bound to after the app is built::

    app.state.guard_policy = GuardPolicy.for_host("127.0.0.1")
    app.add_middleware(GuardMiddleware)
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ragtune.serve.errors import error_body

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def split_host(value: str) -> str:
    """The host name of a ``Host`` header value, lowercased, without port or brackets.

    >>> split_host("[::1]:8000"), split_host("LocalHost:80"), split_host("example.org")
    ('::1', 'localhost', 'example.org')
    """
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") > 1:  # a bare IPv6 address
        return value
    return value.partition(":")[0].rstrip(".")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class GuardPolicy:
    """Which ``Host`` names and write ``Origin`` s the server accepts."""

    hosts: frozenset[str] = LOOPBACK_NAMES
    any_ip: bool = False
    any_host: bool = False
    origins: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_host(
        cls,
        bound_host: str,
        allowed_hosts: Iterable[str] = (),
        cors_origins: Iterable[str] = (),
    ) -> GuardPolicy:
        """The policy for a server bound to ``bound_host``.

        >>> GuardPolicy.for_host("127.0.0.1").host_allowed("attacker.example")
        False
        """
        extra = {split_host(h) if h != "*" else "*" for h in allowed_hosts}
        bound = split_host(bound_host)
        names = set(LOOPBACK_NAMES) | (extra - {"*"})
        wildcard = bound in WILDCARD_HOSTS
        if wildcard:
            names.add(socket.gethostname().lower())
        else:
            names.add(bound)
        origins = frozenset(o.rstrip("/").lower() for o in cors_origins if o != "*")
        return cls(frozenset(names), wildcard, "*" in extra, origins)

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request with this ``Host`` header names this server (no header:
        not a browser, allowed)."""
        if self.any_host or host_header is None:
            return True
        host = split_host(host_header)
        return host in self.hosts or (self.any_ip and _is_ip(host))

    def origin_allowed(self, origin: str, host_header: str | None) -> bool:
        """Whether a write from a page at ``origin`` may reach this server."""
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        if origin == "null" or host_header is None:
            return False
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host_header.strip().lower()


class GuardMiddleware:
    """Applies the app's :class:`GuardPolicy` (``app.state.guard_policy``; loopback names
    only when unset) to every HTTP request before anything else runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = getattr(scope.get("app"), "state", None)
        policy: GuardPolicy = getattr(state, "guard_policy", None) or GuardPolicy()
        headers = dict(scope.get("headers") or [])
        raw_host = headers.get(b"host")
        host = raw_host.decode("latin-1") if raw_host is not None else None
        if not policy.host_allowed(host):
            await _refuse(
                send,
                400,
                "invalid Host header: this server answers only to its own host names "
                "(start it with the name clients use: ragtune serve --host NAME)",
                "invalid_request_error",
                "invalid_host",
            )
            return
        raw_origin = headers.get(b"origin")
        if (
            raw_origin is not None
            and scope["method"].upper() not in SAFE_METHODS
            and not policy.origin_allowed(raw_origin.decode("latin-1"), host)
        ):
            await _refuse(
                send,
                403,
                "cross-origin request refused: a page from another origin may not write to "
                "this server (list trusted origins in serve.cors_origins)",
                "permission_error",
                "cross_origin_request",
            )
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, message: str, error_type: str, code: str) -> None:
    body = json.dumps(error_body(message, error_type, code)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
