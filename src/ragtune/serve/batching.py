"""Group concurrent chat requests into one ``answer_batch`` call on the model.

A CPU (or GPU) generates for 16 prompts at once in little more time than for one, so
the server queues requests and answers them in batches instead of one by one. One
worker thread runs the batches, so the event loop never blocks and the model is never
asked to run two batches at the same time::

    queue = BatchQueue(lambda key, questions: systems[key].answer_batch(questions),
                       window_s=0.01, max_batch=32)
    queue.start()
    answer = await queue.answer(("rag", params), "Who runs the Oslo office?")
    queue.stop()

Batching rule: the oldest waiting request picks the key (arm + generation settings,
which must match within a batch); up to ``max_batch`` waiting requests with that key
go with it, in arrival order. While the queue is idle a new request waits at most
``window_s`` for company; a request that waited through the previous batch leaves at
once with whoever else arrived meanwhile. ``max_batch=1`` gives the one-at-a-time
server that the load benchmark compares against.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

logger = logging.getLogger("ragtune.serve")

R = TypeVar("R")
AnswerBatch = Callable[[Hashable, Sequence[str]], Sequence[R]]


class QueueFullError(RuntimeError):
    """More requests are waiting than ``max_queue`` allows; the client should retry later."""


class QueueStoppedError(RuntimeError):
    """The server is shutting down."""


@dataclass
class _Request(Generic[R]):
    key: Hashable
    question: str
    future: concurrent.futures.Future[R] = field(default_factory=concurrent.futures.Future)
    enqueued: float = field(default_factory=time.monotonic)


class BatchQueue(Generic[R]):
    """A queue of questions answered in batches by ``answer_batch(key, questions)``.

    ``on_batch(key, size, seconds)`` is called after each batch (for metrics).
    """

    def __init__(
        self,
        answer_batch: AnswerBatch[R],
        window_s: float = 0.01,
        max_batch: int = 32,
        max_queue: int = 4096,
        on_batch: Callable[[Hashable, int, float], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1 (got {max_batch})")
        self._answer_batch = answer_batch
        self.window_s = max(0.0, window_s)
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._on_batch = on_batch
        self._pending: deque[_Request[R]] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._worker: threading.Thread | None = None
        self.batches_run = 0

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._worker is not None:
                return
            self._stopping = False
            self._worker = threading.Thread(target=self._run, name="ragtune-batcher", daemon=True)
            self._worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in flight, fail the ones still waiting, end the worker."""
        with self._cond:
            self._stopping = True
            waiting = list(self._pending)
            self._pending.clear()
            self._cond.notify_all()
            worker, self._worker = self._worker, None
        for request in waiting:
            if request.future.set_running_or_notify_cancel():
                request.future.set_exception(QueueStoppedError("the server is shutting down"))
        if worker is not None:
            worker.join(timeout)

    @property
    def depth(self) -> int:
        """Requests waiting (not counting the batch in flight)."""
        return len(self._pending)

    # -- submitting -----------------------------------------------------------------
    def submit(self, key: Hashable, question: str) -> concurrent.futures.Future[R]:
        """Queue one question; the future resolves to its answer (or its error)."""
        request: _Request[R] = _Request(key, question)
        with self._cond:
            if self._stopping or self._worker is None:
                raise QueueStoppedError("the batch queue is not running")
            if len(self._pending) >= self.max_queue:
                raise QueueFullError(
                    f"{len(self._pending)} requests are already waiting (serve.max_queue)"
                )
            self._pending.append(request)
            self._cond.notify_all()
        return request.future

    async def answer(self, key: Hashable, question: str) -> R:
        """``await`` the answer without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(key, question))

    # -- the worker -----------------------------------------------------------------
    def _take_batch(self) -> list[_Request[R]] | None:
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            first = self._pending[0]
            deadline = first.enqueued + self.window_s
            while not self._stopping and self._count(first.key) < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch: list[_Request[R]] = []
            kept: deque[_Request[R]] = deque()
            for request in self._pending:
                if request.key == first.key and len(batch) < self.max_batch:
                    batch.append(request)
                else:
                    kept.append(request)
            self._pending = kept
        # A request whose client went away was cancelled: drop it before spending compute.
        return [r for r in batch if r.future.set_running_or_notify_cancel()]

    def _count(self, key: Hashable) -> int:
        return sum(1 for r in self._pending if r.key == key)

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            try:
                self._run_batch(batch)
            except Exception as exc:  # keep the worker alive whatever a batch does
                logger.exception("batch failed")
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)

    def _run_batch(self, batch: list[_Request[R]]) -> None:
        if not batch:
            return
        key = batch[0].key
        started = time.perf_counter()
        try:
            results = list(self._answer_batch(key, [r.question for r in batch]))
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            # One bad question (say, too long for the context) must not fail its neighbours:
            # answer each alone, so only the culprit gets the error.
            logger.info("batch of %d failed (%s); answering one by one", len(batch), exc)
            for request in batch:
                self._run_one(request)
            return
        finally:
            self.batches_run += 1
        seconds = time.perf_counter() - started
        for request, result in zip(batch, results, strict=True):
            request.future.set_result(result)
        if self._on_batch is not None:
            self._on_batch(key, len(batch), seconds)

    def _run_one(self, request: _Request[R]) -> None:
        try:
            [result] = self._answer_batch(request.key, [request.question])
        except Exception as exc:
            request.future.set_exception(exc)
        else:
            request.future.set_result(result)
