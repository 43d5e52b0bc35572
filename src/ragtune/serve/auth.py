"""Who may call what: one API key, given as a bearer token.

The policy (decided here, stated in ``ragtune serve --help``):

* ``RAGTUNE_API_KEY`` set: every route needs ``Authorization: Bearer <key>``, except
  ``GET /healthz`` (for probes) and the web page's static shell (``/``, ``/static/*``:
  HTML, JS and CSS with no data in them; the page asks for the key and sends it with
  each API call). A missing or wrong key is a 401.
* ``RAGTUNE_API_KEY`` unset: reads are open (the server binds to loopback by default);
  writes (any method but GET/HEAD/OPTIONS, except the read-only POST
  ``/v1/chat/completions``) are refused with a 403 that says to set the key, unless the
  server was started with ``--allow-unauthenticated-writes``, which ``ragtune serve``
  accepts on a loopback host only.

Writes are default-deny: a new POST route is a write unless added to ``READ_POSTS``::

    app.add_middleware(AuthMiddleware, policy=AuthPolicy(api_key="s3cret"))
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from ragtune.serve.errors import error_body

PUBLIC_PATHS = frozenset({"/", "/healthz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_POSTS = frozenset({"/v1/chat/completions"})


@dataclass(frozen=True)
class AuthPolicy:
    """``api_key``: the bearer token required (None: no key configured)."""

    api_key: str | None = None
    allow_unauthenticated_writes: bool = False

    def is_write(self, method: str, path: str) -> bool:
        return method.upper() not in READ_METHODS and path not in READ_POSTS

    def is_public(self, path: str) -> bool:
        return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)

    def check(
        self, method: str, path: str, authorization: str | None
    ) -> tuple[int, str, str] | None:
        """None if allowed, else ``(status, message, code)``.

        >>> AuthPolicy().check("DELETE", "/v1/documents/a", None)[0]
        403
        >>> AuthPolicy(api_key="k").check("GET", "/v1/models", "Bearer k") is None
        True
        """
        if self.is_public(path):
            return None
        if self.api_key:
            scheme, _, token = (authorization or "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return (
                    401,
                    "missing API key: send the header 'Authorization: Bearer <RAGTUNE_API_KEY>'",
                    "missing_api_key",
                )
            if not hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
                return 401, "invalid API key", "invalid_api_key"
            return None
        if self.is_write(method, path) and not self.allow_unauthenticated_writes:
            return (
                403,
                "writes need an API key: set RAGTUNE_API_KEY before starting the server and send it as "
                "'Authorization: Bearer <key>' (or, for local development only, start it with "
                "--allow-unauthenticated-writes)",
                "writes_need_api_key",
            )
        return None


class AuthMiddleware:
    """Applies an :class:`AuthPolicy` to every HTTP request before routing."""

    def __init__(self, app: ASGIApp, policy: AuthPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1") or None
        refusal = self.policy.check(scope["method"], scope["path"], authorization)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message, code = refusal
        error_type = "authentication_error" if status == 401 else "permission_error"
        body = json.dumps(error_body(message, error_type, code)).encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 401:
            response_headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})
