"""Issue 14's bad inputs: over-long prompts, huge bodies, unbounded stop lists, lone
surrogates, huge seeds, unsafe document ids and metadata. Each gets a 4xx with an
OpenAI-style error, and the store is as it was (hashes and stats)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer
from ragtune.serve.service import MAX_CHARS_PER_TOKEN
from ragtune.testing.scripted_generator import ScriptedGenerator
from ragtune.types import Document
from tests.serve.conftest import AUTH, KEY
from tests.serve.test_bad_input import assert_error

CHAT = "/v1/chat/completions"
JSON = {"Content-Type": "application/json"}


def fingerprint(project: Project) -> tuple[dict[str, str], dict[str, Any]]:
    """What must not change after a refused request."""
    return project.store.document_hashes(), project.store.stats()


class CountingScripted(ScriptedGenerator):
    """The scripted generator, remembering the longest text it was asked to tokenize."""

    def __init__(self) -> None:
        super().__init__()
        self.longest_counted = 0

    def count_tokens(self, text: str) -> int:
        self.longest_counted = max(self.longest_counted, len(text))
        return super().count_tokens(text)


@pytest.fixture
def counting(project: Project) -> Iterator[tuple[httpx.Client, Project, CountingScripted]]:
    generator = CountingScripted()
    project.generator = generator
    with (
        BackgroundServer(create_app(project, api_key=KEY)) as server,
        httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client,
    ):
        yield client, project, generator


def chat_body(content: str, model: str = "base", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


@pytest.mark.parametrize("model", ["base", "rag"])
@pytest.mark.parametrize("stream", [False, True])
def test_every_arm_refuses_a_prompt_past_the_context_window(
    counting: tuple[httpx.Client, Project, CountingScripted], model: str, stream: bool
) -> None:
    client, project, generator = counting
    before = fingerprint(project)
    # Twice the window in words: fits the character bound, so the tokenizer decides.
    just_over = "w " * (2 * generator.context_window)
    response = client.post(CHAT, json=chat_body(just_over, model, stream=stream, max_tokens=1))
    error = assert_error(response, 400, "shorten the question")
    assert error["code"] == "context_length_exceeded" and error["param"] == "messages"
    # 10 MB (the repro): refused by length, the tokenizer never reads it whole.
    generator.longest_counted = 0
    huge = "w " * 5_000_000
    response = client.post(CHAT, json=chat_body(huge, model, stream=stream, max_tokens=1))
    assert assert_error(response, 400)["code"] == "context_length_exceeded"
    assert generator.longest_counted <= generator.context_window * MAX_CHARS_PER_TOKEN
    assert not generator.calls  # nothing reached the model
    assert fingerprint(project) == before


def test_max_tokens_filling_the_window_is_a_400(client: httpx.Client) -> None:
    response = client.post(CHAT, json=chat_body("Hi", max_tokens=8192))
    assert assert_error(response, 400, "max_tokens")["code"] == "context_length_exceeded"


def test_a_25_mb_chat_body_is_a_413_with_or_without_content_length(
    client: httpx.Client, project: Project
) -> None:
    before = fingerprint(project)
    piece = b"w " * 2**19  # 1 MiB
    body = b'{"model": "base", "messages": [{"role": "user", "content": "' + piece * 25 + b'"}]}'
    assert_error(client.post(CHAT, content=body, headers=JSON), 413, "chat request limit")

    def chunked() -> Iterator[bytes]:
        yield body[:100]
        for start in range(100, len(body), 2**20):
            yield body[start : start + 2**20]

    assert_error(client.post(CHAT, content=chunked(), headers=JSON), 413, "chat request limit")
    assert fingerprint(project) == before
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("stop", "status"),
    [
        (["a", "b", "c", "d"], 200),
        ("x" * 64, 200),
        (["a", "b", "c", "d", "e"], 400),
        ([f"s{i}" for i in range(1000)], 400),
        ("x" * 65, 400),
        (["ok", "y" * 5000], 400),
    ],
)
def test_stop_is_bounded_as_openai_does(client: httpx.Client, stop: Any, status: int) -> None:
    response = client.post(CHAT, json=chat_body("Where does P1 ship from?", "rag", stop=stop))
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        assert_error(response, 400, "stop")


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "base", "messages": [{"role": "user", "content": "\\ud800"}]}',
        b'{"model": "rag", "messages": [{"role": "user", "content": "a \\udfff b"}]}',
        b'{"model": "rag", "stream": true, "messages": [{"role": "user", "content": "\\ud800"}]}',
        b'{"model": "rag", "messages": [{"role": "user", "content": '
        b'[{"type": "text", "text": "\\ud83d"}]}]}',
        b'{"model": "base", "stop": ["\\ud800"], "messages": [{"role": "user", "content": "Hi"}]}',
    ],
)
def test_a_lone_surrogate_in_a_message_is_a_400(
    client: httpx.Client, project: Project, body: bytes
) -> None:
    before = fingerprint(project)
    error = assert_error(client.post(CHAT, content=body, headers=JSON), 400)
    # pydantic's JSON parser refuses some lone surrogates itself; ragtune's check the rest.
    assert "surrogate" in error["message"] or "not valid JSON" in error["message"]
    assert error["type"] == "invalid_request_error"
    assert fingerprint(project) == before


@pytest.mark.parametrize("seed", [10**30, -(10**30), 2**63])
def test_a_huge_seed_is_a_400(client: httpx.Client, seed: int) -> None:
    body = chat_body("Where does P1 ship from?", "base", seed=seed, temperature=0.7)
    assert_error(client.post(CHAT, json=body), 400, "seed")


def test_a_64_bit_seed_is_fine(client: httpx.Client) -> None:
    body = chat_body("Where does P1 ship from?", "base", seed=2**63 - 1, temperature=0.7)
    assert client.post(CHAT, json=body).status_code == 200


def jsonl(*records: dict[str, Any]) -> bytes:
    # ensure_ascii keeps a lone surrogate as the escape \\ud800, as a client would send it.
    return "".join(json.dumps(r) + "\n" for r in records).encode()


GOOD = {"id": "fine", "text": "The F1 ships from Oslo."}


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"id": "s", "text": "bad \ud800 text"}, ["surrogate", "text"]),
        ({"id": "s", "text": "fine", "title": "bad \udc00"}, ["surrogate", "title"]),
        ({"id": "s", "text": "fine", "meta": {"k": "\ud800"}}, ["surrogate", "meta"]),
        ({"id": "s", "text": "fine", "meta": {"\ud800": 1}}, ["surrogate", "meta"]),
        ({"id": "../../../etc/passwd", "text": "x"}, [".."]),
        ({"id": "a\x00b", "text": "x"}, ["control characters"]),
        ({"id": "x" * 10_000, "text": "x"}, ["longer than 512"]),
        ({"id": "n", "text": "x", "meta": {"score": float("nan")}}, ["not a JSON number"]),
    ],
)
def test_jsonl_uploads_pass_the_same_document_checks(
    client: httpx.Client, project: Project, record: dict[str, Any], words: list[str]
) -> None:
    before = fingerprint(project)
    files = {"file": ("batch.jsonl", jsonl(GOOD, record))}
    assert_error(client.post("/v1/documents", files=files), 422, "nothing was written", *words)
    assert fingerprint(project) == before
    assert client.get("/v1/documents").status_code == 200


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"id": "s", "text": "bad \ud800"}, ["surrogate"]),
        ({"id": "s", "text": "ok", "title": "\ud800"}, ["surrogate"]),
        ({"id": "s", "text": "ok", "meta": {"k": "\ud800"}}, ["surrogate"]),
        ({"id": "s", "text": "ok", "meta": {"k": {"deep": ["\udfff"]}}}, ["surrogate"]),
        ({"id": "a\x00b", "text": "x"}, ["control characters"]),
        ({"id": "x" * 10_000, "text": "x"}, ["longer than 512"]),
    ],
)
def test_json_upserts_pass_the_same_document_checks(
    client: httpx.Client, project: Project, document: dict[str, Any], words: list[str]
) -> None:
    before = fingerprint(project)
    body = json.dumps({"documents": [document]}).encode()
    error = assert_error(client.post("/v1/documents", content=body, headers=JSON), 400)
    for word in words:
        # pydantic's JSON parser refuses a lone high surrogate itself, ragtune's check the rest.
        assert word in error["message"] or (
            word == "surrogate" and "not valid JSON" in error["message"]
        ), error["message"]
    assert fingerprint(project) == before


def raw(client: httpx.Client, method: str, path: str) -> httpx.Response:
    request = client.build_request(method, "/")
    request.url = request.url.copy_with(raw_path=path.encode())
    return client.send(request)


def test_get_and_delete_reach_every_stored_id(client: httpx.Client, project: Project) -> None:
    # Stored before the checks existed (or by a tool that skipped them).
    legacy = [
        Document(id="../legacy.md", text="The L1 ships from Bergen.", source="/srv/x/legacy.md"),
        Document(id="bad-meta.md", text="The B1 ships from Pisa.", meta={"k": "\ud800"}),
    ]
    project.upsert_documents(legacy)
    listing = client.get("/v1/documents")
    assert listing.status_code == 200, listing.text
    metas = {d["id"]: d["meta"] for d in listing.json()["data"]}
    assert metas["bad-meta.md"]["k"] == "\ufffd"
    assert client.get("/v1/documents/bad-meta.md").status_code == 200
    got = raw(client, "GET", "/v1/documents/%2e%2e/legacy.md")
    assert got.status_code == 200 and got.json()["id"] == "../legacy.md"
    assert raw(client, "DELETE", "/v1/documents/%2e%2e/legacy.md").status_code == 200
    assert client.delete("/v1/documents/bad-meta.md").status_code == 200
    assert "../legacy.md" not in project.store.document_hashes()
    # Not stored and not a valid id: still a 400, as before.
    assert_error(raw(client, "GET", "/v1/documents/%2e%2e/legacy.md"), 400, "..")


def test_sources_never_show_absolute_server_paths(
    client: httpx.Client, project: Project, tmp_path: Path
) -> None:
    absolute = [str(tmp_path), str(project.root), str(Path.home())]
    bodies = [
        client.get("/v1/documents").text,
        client.get("/v1/documents/p1.md").text,
        client.get("/v1/search", params={"q": "P1 weight"}).text,
        client.post(CHAT, json=chat_body("How much does the P1 model weigh?", "rag")).text,
    ]
    with client.stream(
        "POST", CHAT, json=chat_body("How much does the P1 model weigh?", "rag", stream=True)
    ) as streamed:
        bodies.append(streamed.read().decode())
    for body in bodies:
        assert all(path not in body for path in absolute), body[:500]
    sources = [d["source"] for d in client.get("/v1/documents").json()["data"]]
    assert sources and all(s.startswith("docs/") for s in sources), sources


def test_report_404_is_json_for_api_clients(client: httpx.Client) -> None:
    response = client.get("/report")
    assert assert_error(response, 404, "no comparison report")["type"] == "not_found_error"
