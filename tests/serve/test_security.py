"""The key policy, CORS, loopback binding (see ragtune.serve.auth for the rules)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ragtune.errors import RagtuneError
from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.auth import AuthPolicy
from ragtune.serve.server import BackgroundServer, check_bind
from tests.serve.conftest import KEY, make_project

DOC = {"documents": [{"id": "new.md", "text": "The N1 ships from Riga."}]}


def test_without_a_key_reads_are_open_and_writes_refused(project: Project) -> None:
    with (
        BackgroundServer(create_app(project)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        assert client.get("/v1/models").status_code == 200
        chat = client.post(
            "/v1/chat/completions",
            json={
                "model": "rag",
                "messages": [{"role": "user", "content": "Where does P1 ship from?"}],
            },
        )
        assert chat.status_code == 200
        hashes = project.store.document_hashes()
        for response in (
            client.post("/v1/documents", json=DOC),
            client.delete("/v1/documents/p1.md"),
            client.post("/v1/documents", files={"file": ("a.md", b"# A")}),
        ):
            assert response.status_code == 403
            error = response.json()["error"]
            assert "RAGTUNE_API_KEY" in error["message"] and error["type"] == "permission_error"
        assert project.store.document_hashes() == hashes


def test_allow_unauthenticated_writes_flag(project: Project) -> None:
    app = create_app(project, allow_unauthenticated_writes=True)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as client:
        assert client.post("/v1/documents", json=DOC).status_code == 200
        assert client.delete("/v1/documents/new.md").status_code == 200


def test_with_a_key_every_route_needs_it_but_healthz_and_the_page(server: BackgroundServer) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        for path in (
            "/v1/models",
            "/v1/documents",
            "/v1/documents/p1.md",
            "/v1/search?q=x",
            "/v1/runs",
            "/v1/runs/x",
            "/metrics",
            "/report",
            "/docs",
            "/openapi.json",
        ):
            assert anonymous.get(path).status_code == 401, path
        assert anonymous.post("/v1/chat/completions", json={}).status_code == 401
        assert anonymous.get("/healthz").json()["status"] == "ok"
        page = anonymous.get("/")
        assert page.status_code == 200 and "<title>ragtune" in page.text
        for asset in ("/static/app.js", "/static/style.css"):
            assert anonymous.get(asset).status_code == 200
    assert (
        httpx.get(server.url + "/v1/models", headers={"Authorization": f"bearer {KEY}"}).status_code
        == 200
    )


def test_cors_is_off_by_default_and_on_when_configured(
    server: BackgroundServer, tmp_path: Path
) -> None:
    origin = {"Origin": "https://evil.example", "Authorization": f"Bearer {KEY}"}
    response = httpx.get(server.url + "/v1/models", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    project = make_project(tmp_path / "cors", {"serve": {"cors_origins": ["https://app.example"]}})
    with BackgroundServer(create_app(project, api_key=KEY)) as cors_server:
        preflight = httpx.options(
            cors_server.url + "/v1/chat/completions",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.get(cors_server.url + "/v1/models", headers=origin)
        assert "access-control-allow-origin" not in other.headers


def test_binding_rules() -> None:
    assert check_bind("127.0.0.1", None, True) == []
    assert check_bind("::1", None, True) == []
    with pytest.raises(RagtuneError, match="loopback"):
        check_bind("0.0.0.0", None, True)
    assert check_bind("0.0.0.0", "k", False) == []
    assert "without RAGTUNE_API_KEY" in check_bind("0.0.0.0", None, False)[0]


def test_policy_is_default_deny_for_new_write_routes() -> None:
    policy = AuthPolicy()
    assert policy.check("POST", "/v1/chat/completions", None) is None
    assert policy.check("POST", "/v1/anything-new", None) is not None
    assert policy.check("PATCH", "/v1/documents/a", None) is not None
    keyed = AuthPolicy(api_key=KEY)
    assert keyed.check("GET", "/v1/models", f"Bearer {KEY}") is None
    assert keyed.check("GET", "/v1/models", f"Bearer {KEY}x") is not None
    assert keyed.check("GET", "/healthz", None) is None
