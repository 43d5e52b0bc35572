"""The OpenAI client, unchanged, against a real server: answers, streams, models, citations."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer
from tests.serve.conftest import AUTH, KEY, ask, make_project

QUESTION = "How much does the P2 model weigh?"


def test_models_lists_the_arms_without_adapters(openai_client) -> None:
    ids = [m.id for m in openai_client.models.list()]
    assert ids == ["base", "rag"]  # no fine-tuned adapter yet: no ft, ft+rag, raft


def test_chat_completion_answers_with_citations(openai_client, project: Project) -> None:
    reply = openai_client.chat.completions.create(
        model="rag",
        messages=[{"role": "system", "content": "ignored"}, {"role": "user", "content": QUESTION}],
    )
    assert reply.object == "chat.completion" and reply.model == "rag"
    text = reply.choices[0].message.content
    assert "20 kilograms" in text and reply.choices[0].finish_reason in ("stop", "length")
    citations = reply.model_extra["citations"]
    assert citations and citations[0]["doc_id"] == "p2.md"
    document = project.store.get_document("p2.md")
    assert document is not None
    assert (
        citations[0]["text"] == document.text[citations[0]["start_char"] : citations[0]["end_char"]]
    )
    assert reply.choices[0].message.model_extra["citations"] == citations
    assert reply.usage.completion_tokens > 0 and reply.usage.prompt_tokens > 0


def test_base_arm_is_closed_book(openai_client) -> None:
    reply = openai_client.chat.completions.create(
        model="base", messages=[{"role": "user", "content": QUESTION}]
    )
    assert reply.choices[0].message.content == "I don't know."
    assert reply.model_extra["citations"] == []


def test_question_is_the_last_user_message(client: httpx.Client) -> None:
    body = client.post(
        "/v1/chat/completions",
        json={
            "model": "rag",
            "messages": [
                {"role": "user", "content": "Where does the P0 ship from?"},
                {"role": "assistant", "content": "Oslo."},
                {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
            ],
        },
    ).json()
    assert body["citations"][0]["doc_id"] == "p2.md"


def test_stream_sends_chunks_then_done(openai_client) -> None:
    stream = openai_client.chat.completions.create(
        model="rag",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "20 kilograms" in text
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].model_extra["citations"][0]["doc_id"] == "p2.md"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_stream_raw_format_ends_with_done(client: httpx.Client) -> None:
    payload = {"model": "base", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    with client.stream("POST", "/v1/chat/completions", json=payload) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"


def test_max_tokens_is_honoured(openai_client) -> None:
    reply = openai_client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": QUESTION}], max_tokens=3
    )
    assert len(reply.choices[0].message.content.split()) == 3
    assert reply.choices[0].finish_reason == "length"


def test_aliases_and_fine_tuned_arms_appear_when_their_adapter_exists(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"serve": {"aliases": {"company-bot": "rag", "tuned": "ft"}}})
    adapter = project.adapters_dir / "qa"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(
        "{}"
    )  # the scripted generator only records the name
    with (
        BackgroundServer(create_app(project, api_key=KEY)) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as client,
    ):
        ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
        assert ids == ["base", "rag", "ft", "ft+rag", "company-bot", "tuned"]
        assert ask(client, QUESTION, model="company-bot")["ragtune"]["arm"] == "rag"
        assert ask(client, QUESTION, model="ft+rag")["citations"][0]["doc_id"] == "p2.md"
        missing = client.post(
            "/v1/chat/completions",
            json={"model": "raft", "messages": [{"role": "user", "content": QUESTION}]},
        )
        assert (
            missing.status_code == 404
            and "ragtune tune --mode raft" in missing.json()["error"]["message"]
        )


def test_unknown_model_raises_openai_not_found(openai_client) -> None:
    openai = pytest.importorskip("openai")
    with pytest.raises(openai.NotFoundError, match="available: base, rag"):
        openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
        )


def test_wrong_key_raises_openai_authentication_error(server: BackgroundServer) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=KEY + "x", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_search_returns_hits_with_scores_and_sources(client: httpx.Client) -> None:
    body = client.get("/v1/search", params={"q": "P3 model weighs", "k": 3}).json()
    assert len(body["data"]) == 3
    top = body["data"][0]
    assert top["doc_id"] == "p3.md" and top["score"] > 0 and top["source"].endswith("p3.md")
    assert top["text"] and top["rank"] == 1
    assert client.get("/v1/search", params={"q": ""}).status_code == 400
    assert client.get("/v1/search", params={"q": "x", "k": 0}).status_code == 400
