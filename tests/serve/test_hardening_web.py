"""Issue 14's browser-borne attacks and /metrics growth: DNS rebinding (Host check),
forged cross-origin writes (Origin check; a real page in headless Chromium), and label
values that stay bounded whatever methods and paths clients make up."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.metrics import HTTP_METHODS
from ragtune.serve.server import BackgroundServer
from tests.serve.conftest import AUTH, KEY, make_project
from tests.serve.test_bad_input import assert_error
from tests.serve.test_runs_metrics import parse_metrics

DOC = {"documents": [{"id": "forged.md", "text": "The F9 ships from nowhere."}]}


@pytest.fixture
def open_server(project: Project) -> Iterator[BackgroundServer]:
    """No key, writes allowed (``--allow-unauthenticated-writes``): only Origin guards them."""
    with BackgroundServer(create_app(project, allow_unauthenticated_writes=True)) as server:
        yield server


@pytest.mark.parametrize("path", ["/v1/documents", "/healthz", "/", "/v1/models", "/metrics"])
def test_a_foreign_host_name_is_refused(server: BackgroundServer, path: str) -> None:
    response = httpx.get(server.url + path, headers={**AUTH, "Host": "attacker.example"})
    assert assert_error(response, 400, "Host")["code"] == "invalid_host"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_loopback_host_names_pass(server: BackgroundServer, host: str) -> None:
    response = httpx.get(server.url + "/v1/models", headers={**AUTH, "Host": f"{host}:1"})
    assert response.status_code == 200, response.text


def test_allowed_hosts_are_configurable(project: Project) -> None:
    app = create_app(project, api_key=KEY, allowed_hosts=["kb.internal"])
    with BackgroundServer(app) as server:
        ok = httpx.get(server.url + "/v1/models", headers={**AUTH, "Host": "kb.internal:8000"})
        assert ok.status_code == 200
        refused = httpx.get(server.url + "/v1/models", headers={**AUTH, "Host": "kb.evil"})
        assert_error(refused, 400)
    with BackgroundServer(create_app(project, api_key=KEY, allowed_hosts=["*"])) as server:
        anything = httpx.get(server.url + "/v1/models", headers={**AUTH, "Host": "any.example"})
        assert anything.status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_cross_origin_writes_are_refused(
    open_server: BackgroundServer, project: Project, origin: str
) -> None:
    hashes = project.store.document_hashes()
    with httpx.Client(base_url=open_server.url, headers={"Origin": origin}) as client:
        for response in (
            client.post("/v1/documents", json=DOC),
            client.post("/v1/documents", files={"file": ("forged.md", b"# F\n\nForged.")}),
            client.delete("/v1/documents/p1.md"),
        ):
            assert assert_error(response, 403, "cross-origin")["code"] == "cross_origin_request"
        assert client.get("/v1/documents").status_code == 200  # reads stay open
    assert project.store.document_hashes() == hashes


def test_same_origin_and_origin_less_writes_pass(open_server: BackgroundServer) -> None:
    same = httpx.post(
        open_server.url + "/v1/documents", json=DOC, headers={"Origin": open_server.url}
    )
    assert same.status_code == 200, same.text
    assert httpx.delete(open_server.url + "/v1/documents/forged.md").status_code == 200


def test_configured_cors_origins_may_write(tmp_path: Any) -> None:
    project = make_project(tmp_path, {"serve": {"cors_origins": ["http://app.example"]}})
    with BackgroundServer(create_app(project, api_key=KEY)) as server:
        headers = {**AUTH, "Origin": "http://app.example"}
        assert (
            httpx.post(server.url + "/v1/documents", json=DOC, headers=headers).status_code == 200
        )


FORGERY_PAGE = """<!doctype html><html><body><script>
const form = new FormData();
form.append("file", new Blob(["# Forged\\n\\nThe F9 ships from nowhere."], {type: "text/markdown"}), "forged.md");
fetch("TARGET/v1/documents", {method: "POST", body: form, mode: "no-cors"})
  .then(() => { document.title = "sent"; }, () => { document.title = "sent"; });
</script></body></html>"""


class _PageHandler(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.integration
def test_a_page_in_chromium_cannot_forge_an_upload(
    open_server: BackgroundServer, project: Project
) -> None:
    from tests.serve.test_web_page import CHROMIUM_ARGS, ensure_chromium

    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    executable = ensure_chromium()
    handler = type(
        "Page", (_PageHandler,), {"page": FORGERY_PAGE.replace("TARGET", open_server.url).encode()}
    )
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    hashes = project.store.document_hashes()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(executable), args=CHROMIUM_ARGS
            )
            tab = browser.new_page()
            # Another origin (another port) on the same machine: the forged upload.
            tab.goto(f"http://127.0.0.1:{attacker.server_address[1]}/")
            tab.wait_for_function("document.title === 'sent'")
            assert project.store.document_hashes() == hashes
            # The control: the same upload from the server's own page is written.
            tab.goto(open_server.url + "/")
            status = tab.evaluate(
                """async () => {
                  const form = new FormData();
                  form.append("file", new Blob(["# Own\\n\\nThe O1 ships from here."]), "own.md");
                  return (await fetch("/v1/documents", {method: "POST", body: form})).status;
                }"""
            )
            browser.close()
    finally:
        attacker.shutdown()
    assert status == 200
    assert "forged.md" not in project.store.document_hashes()
    assert "own.md" in project.store.document_hashes()
    samples = parse_metrics(httpx.get(open_server.url + "/metrics").text)
    refused = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "ragtune_http_requests_total" and ("status", "403") in labels
    }
    assert sum(refused.values()) == 1, refused  # the browser's request reached the server


def test_metrics_labels_stay_bounded(server: BackgroundServer) -> None:
    with httpx.Client(base_url=server.url) as client:  # no key: every one of these is a 401
        before = len(client.get("/metrics", headers=AUTH).content)
        for i in range(300):
            client.request(f"FOO{i}", f"/made/up/{i}")
            client.request(f"BAR{i}", "/v1/documents")
            client.get(f"/v1/documents/{i}")
            client.get(f"/nothing/{i}")
        text = client.get("/metrics", headers=AUTH).text
    samples = parse_metrics(text)
    methods = {dict(labels).get("method") for _, labels in samples} - {None}
    routes = {dict(labels).get("route") for _, labels in samples} - {None}
    assert methods <= HTTP_METHODS | {"other"}, methods
    assert routes <= {"/v1/documents", "/v1/documents/{doc_id:path}", "/metrics", "other"}, routes
    assert len(text) < before + 16_000  # a few new series, not 1,200
