"""``ragtune serve`` as a real subprocess: it binds, serves, honours the key, and refuses unsafe flags."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ragtune.project import Project

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ragtune(*args: str, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ragtune.cli.main", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(url + "/healthz", timeout=1).json()["ready"]:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def test_serve_command_with_a_key(project: Project) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ragtune(
        "serve",
        "--project",
        str(project.root),
        "--port",
        str(port),
        "--log-level",
        "warning",
        env={"RAGTUNE_API_KEY": "cli-key"},
    )
    try:
        wait_healthy(url, server)
        assert httpx.get(url + "/v1/models").status_code == 401
        auth = {"Authorization": "Bearer cli-key"}
        assert [m["id"] for m in httpx.get(url + "/v1/models", headers=auth).json()["data"]] == [
            "base",
            "rag",
        ]
        write = httpx.post(
            url + "/v1/documents",
            headers=auth,
            json={"documents": [{"id": "cli.md", "text": "The C1 ships from Turku."}]},
        )
        assert write.status_code == 200
        reply = httpx.post(
            url + "/v1/chat/completions",
            headers=auth,
            timeout=30,
            json={
                "model": "rag",
                "messages": [{"role": "user", "content": "Where does the C1 ship from?"}],
            },
        ).json()
        assert reply["citations"][0]["doc_id"] == "cli.md"
    finally:
        server.terminate()
        server.wait(20)


def test_serve_refuses_unauthenticated_writes_off_loopback(project: Project) -> None:
    process = ragtune(
        "serve",
        "--project",
        str(project.root),
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        "--allow-unauthenticated-writes",
        env={"RAGTUNE_API_KEY": ""},
    )
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "loopback" in output and "Traceback" not in output


def test_serve_help_states_the_key_policy(tmp_path: Path) -> None:
    process = ragtune("serve", "--help", cwd=tmp_path, env={"COLUMNS": "200"})
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "RAGTUNE_API_KEY" in output and "--allow-unauthenticated-writes" in output
