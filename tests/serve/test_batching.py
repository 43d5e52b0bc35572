"""Concurrent chat requests share model batches; a bad question fails alone."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from ragtune.llm.base import ChatMessage, Generation, GenerationParams
from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.batching import BatchQueue, QueueFullError, QueueStoppedError
from ragtune.serve.server import BackgroundServer
from ragtune.testing.scripted_generator import ScriptedGenerator
from tests.serve.conftest import AUTH, KEY


class Recorder:
    """answer_batch double: records each batch, takes ``seconds`` per batch."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.batches: list[tuple[Any, list[str]]] = []
        self.seconds = seconds
        self.lock = threading.Lock()

    def __call__(self, key: Any, questions: Sequence[str]) -> list[str]:
        with self.lock:
            self.batches.append((key, list(questions)))
        time.sleep(self.seconds)
        if any(q == "boom" for q in questions):
            raise ValueError("boom is not a question")
        return [f"{key}:{q}" for q in questions]


async def gather(queue: BatchQueue, items: list[tuple[Any, str]]) -> list[Any]:
    return await asyncio.gather(*(queue.answer(k, q) for k, q in items), return_exceptions=True)


def run_queue(recorder: Recorder, items: list[tuple[Any, str]], **kwargs: Any) -> list[Any]:
    queue: BatchQueue = BatchQueue(recorder, **kwargs)
    queue.start()
    try:
        return asyncio.run(gather(queue, items))
    finally:
        queue.stop()


def test_concurrent_requests_share_a_batch_in_order() -> None:
    recorder = Recorder()
    items = [("rag", f"q{i}") for i in range(10)]
    results = run_queue(recorder, items, window_s=0.05, max_batch=32)
    assert results == [f"rag:q{i}" for i in range(10)]
    assert len(recorder.batches) == 1 and recorder.batches[0][1] == [f"q{i}" for i in range(10)]


def test_max_batch_caps_and_keys_never_mix() -> None:
    recorder = Recorder()
    items = [("rag" if i % 2 else "base", f"q{i}") for i in range(12)]
    results = run_queue(recorder, items, window_s=0.05, max_batch=4)
    assert results == [f"{k}:{q}" for k, q in items]
    assert all(len(qs) <= 4 for _, qs in recorder.batches)
    for key, questions in recorder.batches:
        assert all((key, q) in items for q in questions)
    assert len(recorder.batches) == 4  # 6 + 6 questions in batches of at most 4


def test_max_batch_one_is_one_at_a_time() -> None:
    recorder = Recorder(seconds=0.0)
    run_queue(recorder, [("rag", f"q{i}") for i in range(5)], window_s=0.01, max_batch=1)
    assert [len(qs) for _, qs in recorder.batches] == [1] * 5


def test_a_failing_question_fails_alone() -> None:
    recorder = Recorder(seconds=0.0)
    results = run_queue(
        recorder, [("rag", "a"), ("rag", "boom"), ("rag", "c")], window_s=0.05, max_batch=8
    )
    assert results[0] == "rag:a" and results[2] == "rag:c"
    assert isinstance(results[1], ValueError)


def test_full_and_stopped_queues_refuse() -> None:
    queue: BatchQueue = BatchQueue(Recorder(seconds=0.5), window_s=0.0, max_batch=1, max_queue=1)
    with pytest.raises(QueueStoppedError):
        queue.submit("rag", "before start")
    queue.start()
    first = queue.submit("rag", "runs")
    time.sleep(0.1)  # the worker takes it
    queue.submit("rag", "waits")
    with pytest.raises(QueueFullError):
        queue.submit("rag", "one too many")
    queue.stop()
    assert first.result() == "rag:runs"


class SlowScripted(ScriptedGenerator):
    """Scripted answers, but each model batch takes 0.2 s, as a real model's would."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []

    def _generate_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
    ) -> list[Generation]:
        self.batch_sizes.append(len(conversations))
        time.sleep(0.2)
        return super()._generate_batch(conversations, params, adapter)


@pytest.mark.parametrize(("max_batch", "most_batches"), [(32, 4), (1, 16)])
def test_the_server_batches_concurrent_chat_requests(
    project: Project, max_batch: int, most_batches: int
) -> None:
    project.config.serve.max_batch = max_batch
    project.config.llm.batch_size = 32
    generator = SlowScripted()
    project.generator = generator
    with (
        BackgroundServer(create_app(project, api_key=KEY)) as server,
        httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client,
    ):

        def one(i: int) -> dict:
            response = client.post(
                "/v1/chat/completions",
                json={
                    "model": "rag",
                    "messages": [
                        {"role": "user", "content": f"How much does the P{i % 4} model weigh?"}
                    ],
                },
            )
            response.raise_for_status()
            return response.json()

        with ThreadPoolExecutor(16) as pool:
            bodies = list(pool.map(one, range(16)))
    assert [b["citations"][0]["doc_id"] for b in bodies] == [f"p{i % 4}.md" for i in range(16)]
    assert sum(generator.batch_sizes) == 16
    assert len(generator.batch_sizes) <= most_batches
    if max_batch > 1:
        assert max(generator.batch_sizes) >= 6
    else:
        assert generator.batch_sizes == [1] * 16
