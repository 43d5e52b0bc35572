"""The OpenAI-compatible backend against a real local HTTP server (no client mocks)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from ragtune.errors import BackendUnavailableError
from ragtune.llm import ChatMessage, GenerationError, GenerationParams, Generator
from ragtune.llm.openai import OpenAIGenerator, parse_retry_after
from ragtune.testing.generator_contract import GeneratorContract

from .fake_openai_server import FakeOpenAIServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def llm(server: FakeOpenAIServer) -> Iterator[OpenAIGenerator]:
    server.reset()
    with OpenAIGenerator(
        "served-model", base_url=server.base_url, timeout_s=5, backoff_s=0.01
    ) as gen:
        yield gen


class TestOpenAIContract(GeneratorContract):
    @pytest.fixture
    def generator(self, llm: OpenAIGenerator) -> Generator:
        return llm


def test_plain_completion_uses_usage_counts(llm: OpenAIGenerator, server: FakeOpenAIServer) -> None:
    gen = llm.complete("what is up", GenerationParams(max_new_tokens=10), system="be nice")
    assert gen.text == "echo: what is up"
    assert (gen.prompt_tokens, gen.completion_tokens, gen.finish_reason) == (5, 4, "stop")
    sent = server.requests[-1]
    assert sent["model"] == "served-model" and sent["max_tokens"] == 10 and sent["stream"] is False
    assert sent["messages"][0] == {"role": "system", "content": "be nice"}


def test_missing_usage_falls_back_to_an_estimate(
    llm: OpenAIGenerator, server: FakeOpenAIServer
) -> None:
    server.include_usage = False
    gen = llm.complete("a b c")
    assert gen.prompt_tokens > 0 and gen.completion_tokens > 0


def test_adapter_is_sent_as_the_model_name(llm: OpenAIGenerator, server: FakeOpenAIServer) -> None:
    llm.generate([[ChatMessage("user", "x")]], adapter="ft-lora")
    assert server.requests[-1]["model"] == "ft-lora"


def test_streaming(llm: OpenAIGenerator, server: FakeOpenAIServer) -> None:
    pieces = list(llm.stream("one two three", GenerationParams(max_new_tokens=10)))
    assert pieces[0] == "echo:" and "".join(pieces) == "echo: one two three"
    assert server.requests[-1]["stream"] is True
    cut = "".join(llm.stream("one two three", GenerationParams(stop=("nope", "two"))))
    assert cut == "echo: one"
    # The API takes 4 stop strings; the client cuts at the ones it could not send.
    many = GenerationParams(stop=("#a", "#b", "#c", "#d", "three"))
    assert "".join(llm.stream("one two three", many)) == "echo: one two "
    assert llm.complete("one two three", many).text == "echo: one two"
    assert server.requests[-1]["stop"] == ["#a", "#b", "#c", "#d"]


def test_retries_after_503_then_succeeds(llm: OpenAIGenerator, server: FakeOpenAIServer) -> None:
    server.fail_next(503, 503)
    assert llm.complete("again").text == "echo: again"
    assert len(server.requests) == 3
    server.fail_next(503)
    assert "".join(llm.stream("streamed")) == "echo: streamed"


def test_429_honours_retry_after(llm: OpenAIGenerator, server: FakeOpenAIServer) -> None:
    server.fail_next(429, retry_after="0.3")
    start = time.perf_counter()
    assert llm.complete("slow down").text == "echo: slow down"
    assert time.perf_counter() - start >= 0.3


def test_gives_up_after_max_retries(server: FakeOpenAIServer) -> None:
    server.reset()
    server.fail_next(503, 503, 503)
    llm = OpenAIGenerator("m", base_url=server.base_url, max_retries=2, backoff_s=0.01)
    with llm, pytest.raises(BackendUnavailableError, match="HTTP 503 after 3 attempts"):
        llm.complete("x")


def test_client_errors_are_not_retried(llm: OpenAIGenerator, server: FakeOpenAIServer) -> None:
    server.fail_next(400, 400)
    with pytest.raises(GenerationError, match="HTTP 400"):
        llm.complete("bad")
    assert len(server.requests) == 1


def test_a_batch_runs_concurrently(server: FakeOpenAIServer) -> None:
    server.reset()
    server.delay_s = 0.3
    with OpenAIGenerator("m", base_url=server.base_url, batch_size=8) as llm:
        start = time.perf_counter()
        out = llm.generate([f"q{i}" for i in range(8)])
        elapsed = time.perf_counter() - start
    assert [g.text for g in out] == [f"echo: q{i}" for i in range(8)]
    assert elapsed < 1.5  # 8 x 0.3 s one after another would be 2.4 s
    # Each answer's latency was shared by the 8 in flight: its compute share is an eighth.
    assert {g.batch_size for g in out} == {8}
    with OpenAIGenerator("m", base_url=server.base_url, batch_size=4) as llm:
        assert {g.batch_size for g in llm.generate(["a", "b", "c", "d", "e"])} == {4}
        assert llm.generate(["alone"])[0].batch_size == 1


def test_unreachable_url_names_the_url() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with OpenAIGenerator("m", base_url=url, max_retries=1, backoff_s=0.01) as llm:
        with pytest.raises(BackendUnavailableError, match=f"cannot reach {url}/chat/completions"):
            llm.complete("hello")
        with pytest.raises(BackendUnavailableError, match=f"127.0.0.1:{port}"):
            list(llm.stream("hello"))


def test_timeout(server: FakeOpenAIServer) -> None:
    server.reset()
    server.delay_s = 2.0
    with OpenAIGenerator(
        "m", base_url=server.base_url, timeout_s=0.2, max_retries=1, backoff_s=0.01
    ) as llm:
        start = time.perf_counter()
        with pytest.raises(BackendUnavailableError, match=r"within 0.2 s \(after 2 attempts\)"):
            llm.complete("too slow")
        assert time.perf_counter() - start < 1.5
    assert len(server.requests) == 2


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
