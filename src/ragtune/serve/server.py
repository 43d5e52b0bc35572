"""Run the app with uvicorn: in the foreground (``ragtune serve``) or in a background
thread on a free loopback port (tests, benchmarks, notebooks)::

    with BackgroundServer(create_app(project, api_key="k")) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="k")
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any

from ragtune.errors import RagtuneError


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None, allow_unauthenticated_writes: bool) -> list[str]:
    """Refuse unsafe combinations; return warnings for risky ones."""
    if allow_unauthenticated_writes and not is_loopback(host):
        raise RagtuneError(
            f"--allow-unauthenticated-writes is for local development on a loopback host; {host} is not one. "
            "Set RAGTUNE_API_KEY instead."
        )
    if not api_key and not is_loopback(host):
        return [
            f"serving on {host} without RAGTUNE_API_KEY: anyone who can reach it can read the documents "
            "and ask questions (writes stay refused)"
        ]
    return []


def run(app: Any, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` until interrupted (it answers to ``host`` as a Host name)."""
    import uvicorn

    _answer_to(app, host)

    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)


def _answer_to(app: Any, host: str) -> None:
    if hasattr(getattr(app, "state", None), "guard_policy"):
        from ragtune.serve.app import answer_to_host

        answer_to_host(app, host)


class BackgroundServer:
    """A real uvicorn server in a daemon thread; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        startup_timeout_s: float = 300.0,
    ) -> None:
        import uvicorn

        self.app = app
        self.host = host
        _answer_to(app, host)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app, log_level=log_level, timeout_graceful_shutdown=5, limit_concurrency=1000
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="ragtune-uvicorn", daemon=True)
        self._startup_timeout_s = startup_timeout_s
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # surfaced by start()
            self._failure = exc

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not self._server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise RagtuneError(f"the server did not start: {self._failure!r}")
            if time.monotonic() > deadline:
                raise RagtuneError(
                    f"the server did not start within {self._startup_timeout_s:.0f} s"
                )
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(30)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
