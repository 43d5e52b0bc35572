"""Issue 14's load problems, as outcomes rather than timings: work stops when a client
hangs up, streams wait in the same bounded queue as plain requests, a full queue is a
429, and /healthz and /metrics answer while the model is busy."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragtune.llm.base import ChatMessage, Conversation, GenerationParams
from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer
from ragtune.testing.scripted_generator import ScriptedGenerator
from tests.serve.conftest import AUTH, KEY, make_project
from tests.serve.test_bad_input import assert_error
from tests.serve.test_runs_metrics import parse_metrics

CHAT = "/v1/chat/completions"
REPO = Path(__file__).resolve().parents[2]


def chat_body(question: str, model: str = "base", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": question}], **extra}


class Gate:
    """A responder for the scripted generator: a question containing HOLD blocks the
    model (the batch worker) until ``release``; every question answered is recorded."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.released = threading.Event()
        self.answered: list[str] = []

    def __call__(self, conversation: list[ChatMessage]) -> str:
        question = conversation[-1].content
        if "HOLD" in question:
            self.holding.set()
            assert self.released.wait(60), "the test never released the model"
        self.answered.append(question)
        return "The answer is here."

    def release(self) -> None:
        self.released.set()


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Poll until ``condition()``; the timeout only bounds a failing test."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def metric(client: httpx.Client, name: str, **labels: str) -> float:
    samples = parse_metrics(client.get("/metrics").text)
    return sum(
        value
        for (sample_name, sample_labels), value in samples.items()
        if sample_name == name and set(labels.items()) <= sample_labels
    )


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[tuple[httpx.Client, BackgroundServer, Gate]]:
    project = make_project(tmp_path, {"serve": {"max_queue": 4, "batch_window_ms": 0}})
    gate = Gate()
    project.generator = ScriptedGenerator(gate)
    with (
        BackgroundServer(create_app(project, api_key=KEY, metrics_backend="plain")) as server,
        httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as client,
    ):
        try:
            yield client, server, gate
        finally:
            gate.release()


def hold_the_model(pool: ThreadPoolExecutor, client: httpx.Client, gate: Gate) -> Any:
    held = pool.submit(client.post, CHAT, json=chat_body("HOLD the model"))
    assert gate.holding.wait(30)
    return held


def test_a_queued_request_whose_client_left_costs_no_compute(
    gated: tuple[httpx.Client, BackgroundServer, Gate],
) -> None:
    client, server, gate = gated
    with ThreadPoolExecutor(2) as pool:
        held = hold_the_model(pool, client, gate)
        with pytest.raises(httpx.ReadTimeout):  # the client gives up and closes the connection
            httpx.post(
                server.url + CHAT, json=chat_body("GONE before its turn"), headers=AUTH, timeout=0.5
            )
        # The server saw the hang-up (it logs a 499 for the request) while the model was busy.
        wait_for(
            lambda: metric(client, "ragtune_http_requests_total", status="499") == 1,
            "the hang-up to be noticed",
        )
        assert client.get("/healthz").json()["status"] == "ok"  # answered while the model is held
        gate.release()
        assert held.result().status_code == 200
    wait_for(
        lambda: metric(client, "ragtune_abandoned_requests_total", stage="queued") == 1,
        "the abandoned request to be dropped",
    )
    assert all("GONE" not in question for question in gate.answered)
    assert client.post(CHAT, json=chat_body("And the next one?")).status_code == 200


class DrippingScripted(ScriptedGenerator):
    """Streams 400 words, one every 10 ms, and records how many were pulled."""

    def __init__(self) -> None:
        super().__init__()
        self.pulled = 0
        self.closed = threading.Event()

    def stream(
        self,
        conversation: str | Conversation,
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> Iterator[str]:
        try:
            for i in range(400):
                time.sleep(0.01)
                self.pulled += 1
                yield f" w{i}"
        finally:
            self.closed.set()


def test_a_stream_whose_client_left_stops_and_its_tokens_are_counted(project: Project) -> None:
    generator = DrippingScripted()
    project.generator = generator
    with (
        BackgroundServer(create_app(project, api_key=KEY, metrics_backend="plain")) as server,
        httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as client,
    ):
        body = chat_body("Where?", "rag", stream=True)
        with (
            httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as leaver,
            leaver.stream("POST", CHAT, json=body) as r,
        ):
            assert r.status_code == 200
            pieces = 0
            for line in r.iter_lines():
                pieces += '"content": " w' in line
                if pieces == 3:
                    break  # hang up mid-stream
        assert generator.closed.wait(30)
        assert 3 <= generator.pulled < 400  # stopped early, not run to the end
        wait_for(
            lambda: metric(client, "ragtune_abandoned_requests_total", stage="running") == 1,
            "the stopped stream to be counted",
        )
        assert metric(client, "ragtune_generated_tokens_total", arm="rag") >= 3
        assert client.post(CHAT, json=chat_body("Next?", "base")).status_code == 200


def test_streams_wait_in_the_bounded_queue_and_a_full_queue_is_a_429(
    gated: tuple[httpx.Client, BackgroundServer, Gate],
) -> None:
    client, server, gate = gated
    service = server.app.state.service

    def stream_lines(i: int) -> list[str]:
        body = chat_body(f"Where does P{i} ship from?", "rag", stream=True)
        with client.stream("POST", CHAT, json=body) as response:
            assert response.status_code == 200
            return [line for line in response.iter_lines() if line]

    with ThreadPoolExecutor(6) as pool:
        held = hold_the_model(pool, client, gate)
        streams = [pool.submit(stream_lines, i) for i in range(4)]
        wait_for(lambda: service.queue.depth == 4, "four streams to wait in the queue")
        # The queue (serve.max_queue = 4) is full: streams and plain requests get a 429.
        for body in (chat_body("One more", "rag", stream=True), chat_body("One more")):
            response = client.post(CHAT, json=body)
            assert assert_error(response, 429, "server busy")["code"] == "queue_full"
            assert response.headers["retry-after"] == "1"
        # Health and metrics answer though the model is held and the queue is full.
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200
        gate.release()
        assert held.result().status_code == 200
        for future in streams:
            lines = future.result()
            assert lines[-1] == "data: [DONE]"
            assert any("The answer is here." in line for line in lines)
    assert service.queue.depth == 0


def load_benchmark() -> Any:
    spec = importlib.util.spec_from_file_location(
        "serve_hardening", REPO / "benchmarks" / "serve_hardening.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_64_mixed_clients_get_no_errors_and_health_always_answers(project: Project) -> None:
    """The load benchmark, CI-sized: scripted model, one round of 64 clients."""
    benchmark = load_benchmark()
    questions = [f"How much does the P{i % 4} model weigh?" for i in range(8)]
    with BackgroundServer(create_app(project, api_key=KEY)) as server:
        result = asyncio.run(benchmark.run_load(server.url, questions, key=KEY, clients=64))
        assert server.app.state.service.queue.depth == 0
    summary = result.summary()
    assert summary["errors"] == 0, summary["first_errors"]
    assert summary["requests"] == 64 and summary["hung_up"] == 8
    assert summary["health_probes"] >= 1 and summary["health_failures"] == 0
    assert project.store.check().ok
