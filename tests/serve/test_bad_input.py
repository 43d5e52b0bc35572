"""Bad requests get the right 4xx, an OpenAI-style error object, and leave the store as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer
from tests.serve.conftest import AUTH, KEY, make_project

CHAT = "/v1/chat/completions"


@pytest.fixture
def small_limit(tmp_path: Path) -> Iterator[tuple[httpx.Client, Project]]:
    project = make_project(tmp_path, {"serve": {"max_upload_mb": 0.01}})  # ~10 KB
    with (
        BackgroundServer(create_app(project, api_key=KEY)) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as client,
    ):
        yield client, project


def assert_error(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert "Traceback" not in error["message"]
    for word in words:
        assert word in error["message"], error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"model": "rag", "messages": [', 400, ["not valid JSON"]),
        (b"[1, 2]", 400, ["invalid request"]),
        (
            b'{"model": "gpt-5", "messages": [{"role": "user", "content": "Hi"}]}',
            404,
            ["unknown model", "rag"],
        ),
        (b'{"model": "rag", "messages": []}', 400, ["messages"]),
        (
            b'{"model": "rag", "messages": [{"role": "system", "content": "Hi"}]}',
            400,
            ["no user message"],
        ),
        (b'{"model": "rag"}', 400, ["messages", "Field required"]),
        (b'{"model": "rag", "n": 3, "messages": [{"role": "user", "content": "Hi"}]}', 400, ["n:"]),
        (
            b'{"model": "rag", "max_tokens": 0, "messages": [{"role": "user", "content": "Hi"}]}',
            400,
            ["max_tokens"],
        ),
        (
            b'{"model": "rag", "temperature": -1, "messages": [{"role": "user", "content": "Hi"}]}',
            400,
            ["temperature"],
        ),
    ],
)
def test_bad_chat_requests(
    client: httpx.Client, project: Project, body: bytes, status: int, words: list[str]
) -> None:
    hashes = project.store.document_hashes()
    response = client.post(CHAT, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, status, *words)
    assert project.store.document_hashes() == hashes


def test_a_prompt_too_long_for_the_model_is_a_400(client: httpx.Client) -> None:
    question = "word " * 5000
    response = client.post(
        CHAT, json={"model": "rag", "messages": [{"role": "user", "content": question}]}
    )
    assert_error(response, 400, "shorten the question")
    stream = client.post(
        CHAT,
        json={"model": "rag", "stream": True, "messages": [{"role": "user", "content": question}]},
    )
    assert_error(stream, 400, "shorten the question")


@pytest.mark.parametrize(
    ("request_kwargs", "status", "words"),
    [
        (
            {
                "content": b'{"documents": [{"id": "a", "text": "x"',
                "headers": {"Content-Type": "application/json"},
            },
            400,
            ["not valid JSON"],
        ),
        ({"json": {"documents": []}}, 400, ["documents"]),
        ({"json": {"documents": [{"id": "a"}]}}, 400, ["text"]),
        ({"json": {"documents": [{"id": "a", "text": "   "}]}}, 400, ["blank"]),
        ({"json": {"documents": [{"id": "a", "text": "x", "colour": "red"}]}}, 400, ["colour"]),
        (
            {"json": {"documents": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}},
            400,
            ["twice"],
        ),
        ({"json": {"documents": [{"id": "../../etc/passwd", "text": "x"}]}}, 400, [".."]),
        ({"json": {"documents": [{"id": "/etc/passwd", "text": "x"}]}}, 400, ["'/'"]),
        ({"json": {"documents": [{"id": "a\\..\\b", "text": "x"}]}}, 400, ["backslash"]),
        (
            {"json": {"documents": [{"id": "ok", "text": "x"}, {"id": "a/./b", "text": "y"}]}},
            400,
            [".."],
        ),
        (
            {
                "content": b"id=a&text=b",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            415,
            ["multipart"],
        ),
        ({"files": {"file": ("evil.exe", b"MZ\x90\x00")}}, 415, ["unsupported file type .exe"]),
        ({"files": {"file": ("fake.pdf", b"just text")}}, 415, ["not a PDF"]),
        ({"files": {"file": ("fake.docx", b"PK\x03\x04junk")}}, 415, ["not a DOCX"]),
        ({"files": {"file": ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00")}}, 415, ["binary content"]),
        ({"files": {"file": ("../../evil.md", b"# x\n\ny")}}, 400, [".."]),
        ({"files": {"file": (".hidden.md", b"# x\n\ny")}}, 400, ["plain name"]),
        ({"files": {"file": ("empty.md", b"")}}, 415, ["empty"]),
        (
            {"files": {"file": ("bad.jsonl", b'{"id": "a", "text": "fine"}\n{not json}\n')}},
            422,
            ["line 2", "nothing was written"],
        ),
        ({"files": {"file": ("x.md", b"# ok")}, "data": {"id": "../x"}}, 400, [".."]),
        ({"data": {"id": "a"}, "files": {}}, 415, []),
    ],
)
def test_bad_document_writes_leave_the_store_unchanged(
    client: httpx.Client, project: Project, request_kwargs: dict, status: int, words: list[str]
) -> None:
    hashes = project.store.document_hashes()
    response = client.post("/v1/documents", **request_kwargs)
    assert_error(response, status, *words)
    assert project.store.document_hashes() == hashes


def test_a_good_and_a_bad_file_write_nothing(client: httpx.Client, project: Project) -> None:
    hashes = project.store.document_hashes()
    files = [("files", ("good.md", b"# Good\n\nFine text.")), ("files", ("bad.pdf", b"not a pdf"))]
    assert_error(client.post("/v1/documents", files=files), 415, "bad.pdf")
    assert project.store.document_hashes() == hashes


def test_oversized_uploads_are_refused(small_limit: tuple[httpx.Client, Project]) -> None:
    client, project = small_limit
    hashes = project.store.document_hashes()
    big = b"# Big\n\n" + b"lorem ipsum dolor sit amet " * 2000  # ~54 KB > 10 KB
    assert_error(
        client.post("/v1/documents", files={"file": ("big.md", big)}), 413, "max_upload_mb"
    )
    big_json = {"documents": [{"id": "big", "text": big.decode() * 10}]}  # > the body limit
    assert_error(client.post("/v1/documents", json=big_json), 413, "max_upload_mb")

    def chunked():  # no Content-Length: refused while streaming
        for _ in range(100):
            yield b"x" * 8192

    response = client.post(
        "/v1/documents", content=chunked(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "max_upload_mb")
    assert project.store.document_hashes() == hashes
    ok = client.post("/v1/documents", files={"file": ("small.md", b"# Small\n\nThe S1 is small.")})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("DELETE", "/v1/documents/%2e%2e/%2e%2e/etc/passwd", 400),
        ("DELETE", "/v1/documents/a%5C..%5Cb", 400),
        ("GET", "/v1/documents/%2e%2e/ragtune.toml", 400),
        ("GET", "/v1/documents/%2Fetc%2Fpasswd", 400),
        ("DELETE", "/v1/documents/no-such-doc", 404),
        ("GET", "/v1/runs/%2e%2e", 400),
        ("GET", "/v1/runs/..%2f..%2fragtune", 404),  # a slash never reaches the run route
        ("GET", "/v1/runs/.hidden", 400),
        ("GET", "/v1/runs/no-such-run", 404),
        ("GET", "/static/..%2f..%2fproject.py", 404),
    ],
)
def test_path_traversal_is_refused(
    client: httpx.Client, project: Project, method: str, path: str, status: int
) -> None:
    hashes = project.store.document_hashes()
    # Send the path exactly as written: clients would normalise the dots away.
    request = client.build_request(method, "/")
    request.url = request.url.copy_with(raw_path=path.encode())
    response = client.send(request)
    assert_error(response, status)
    assert project.store.document_hashes() == hashes


def test_wrong_or_missing_key_writes_nothing(server: BackgroundServer, project: Project) -> None:
    hashes = project.store.document_hashes()
    doc = {"documents": [{"id": "new", "text": "New text."}]}
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer"},
    ):
        response = httpx.post(server.url + "/v1/documents", json=doc, headers=headers)
        error = assert_error(response, 401)
        assert error["type"] == "authentication_error"
        assert response.headers["www-authenticate"] == "Bearer"
        assert_error(httpx.delete(server.url + "/v1/documents/p1.md", headers=headers), 401)
    assert project.store.document_hashes() == hashes


def test_unknown_route_and_method_are_json(client: httpx.Client) -> None:
    assert_error(client.get("/v1/nothing"), 404, "no route")
    assert_error(client.put("/v1/documents/p1.md", json={}), 405)


def test_an_unexpected_error_is_a_json_500_without_details(
    client: httpx.Client, project: Project
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail at /srv/x.py line 3")

    project.search = broken  # type: ignore[method-assign]
    response = client.get("/v1/search", params={"q": "x"})
    error = assert_error(response, 500, "internal server error")
    assert "secret" not in response.text and error["type"] == "api_error"


def test_a_full_queue_is_a_429(client: httpx.Client, server: BackgroundServer) -> None:
    queue = server.app.state.service.queue
    queue.max_queue = 0
    response = client.post(
        CHAT, json={"model": "rag", "messages": [{"role": "user", "content": "Hi"}]}
    )
    error = assert_error(response, 429, "server busy")
    assert error["type"] == "rate_limit_error" and response.headers["retry-after"] == "1"


def test_a_stream_that_fails_midway_reports_the_error_in_band(project: Project) -> None:
    from ragtune.llm.base import GenerationError
    from ragtune.testing.scripted_generator import ScriptedGenerator

    class FailingStream(ScriptedGenerator):
        def stream(self, conversation, params=None, adapter=None):  # type: ignore[no-untyped-def]
            yield "partial"
            raise GenerationError("the model server went away")

    project.generator = FailingStream()
    payload = {
        "model": "rag",
        "stream": True,
        "messages": [{"role": "user", "content": "Where is P1 made?"}],
    }
    with (
        BackgroundServer(create_app(project, api_key=KEY)) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as client,
        client.stream("POST", CHAT, json=payload) as response,
    ):
        assert response.status_code == 200
        events = [line for line in response.iter_lines() if line]
    assert '"partial"' in events[1]
    assert "the model server went away" in events[-2] and '"error"' in events[-2]
    assert events[-1] == "data: [DONE]"
