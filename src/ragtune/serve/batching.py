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

Streams go through the same queue: ``submit(key, question, on_piece=...)``. A stream
that leaves alone is generated piece by piece through ``stream_one`` (each piece
handed to ``on_piece`` as it comes); one that finds company of the same key is
answered in the batch and its ``Answer`` is its only piece. Either way the model does
one thing at a time and the waiting line is bounded by ``max_queue``.

A client that hangs up calls ``ticket.abandon()``: a waiting request is dropped before
it costs any compute, and a running stream stops at its next piece (``stream_one``
gets ``abandoned`` to poll). A batch already on the model runs to its end; its other
requests still want their answers.
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
# stream_one(key, question, on_piece, abandoned) -> the final result
StreamOne = Callable[[Hashable, str, Callable[[str], None], Callable[[], bool]], R]


class QueueFullError(RuntimeError):
    """More requests are waiting than ``max_queue`` allows; the client should retry later."""


class QueueStoppedError(RuntimeError):
    """The server is shutting down."""


class Ticket(concurrent.futures.Future[R]):
    """The future of one queued question, which its client can abandon.

    ``abandon()`` cancels it if it is still waiting and tells a running stream to stop;
    ``abandoned`` says whether it was called.
    """

    def __init__(self) -> None:
        super().__init__()
        self._abandoned = threading.Event()

    def abandon(self) -> None:
        self._abandoned.set()
        self.cancel()

    @property
    def abandoned(self) -> bool:
        return self._abandoned.is_set()


@dataclass
class _Request(Generic[R]):
    key: Hashable
    question: str
    on_piece: Callable[[str], None] | None = None
    future: Ticket[R] = field(default_factory=Ticket)
    enqueued: float = field(default_factory=time.monotonic)


class BatchQueue(Generic[R]):
    """A queue of questions answered in batches by ``answer_batch(key, questions)``.

    ``stream_one`` runs a lone stream piece by piece (without it, streams are answered
    whole). ``on_batch(key, size, seconds)`` is called after each batch and
    ``on_abandoned(key, stage)`` for each request whose client left, ``stage`` being
    ``"queued"`` (dropped before any compute) or ``"running"`` (left mid-answer).
    ``precheck(key, question)`` runs on the worker for each request before its batch;
    one that raises fails alone and the rest of the batch goes on (the worker thread is
    the model's, so a check that needs the tokenizer never races generation for it).
    """

    def __init__(
        self,
        answer_batch: AnswerBatch[R],
        window_s: float = 0.01,
        max_batch: int = 32,
        max_queue: int = 4096,
        on_batch: Callable[[Hashable, int, float], None] | None = None,
        stream_one: StreamOne[R] | None = None,
        on_abandoned: Callable[[Hashable, str], None] | None = None,
        precheck: Callable[[Hashable, str], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1 (got {max_batch})")
        self._answer_batch = answer_batch
        self._precheck = precheck
        self._stream_one = stream_one
        self._on_abandoned = on_abandoned
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
    def submit(
        self, key: Hashable, question: str, on_piece: Callable[[str], None] | None = None
    ) -> Ticket[R]:
        """Queue one question; the ticket resolves to its answer (or its error).

        With ``on_piece`` it is a stream: pieces of text may be handed to ``on_piece``
        (on the worker thread) before the ticket resolves.
        """
        request: _Request[R] = _Request(key, question, on_piece)
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
        """``await`` the answer without blocking the event loop; cancelling the awaiting
        task abandons the request."""
        ticket = self.submit(key, question)
        try:
            return await asyncio.wrap_future(ticket)
        except asyncio.CancelledError:
            ticket.abandon()
            raise

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
        kept_batch = []
        for request in batch:
            if request.future.set_running_or_notify_cancel():
                kept_batch.append(request)
            else:
                self._abandoned(request, "queued")
        return kept_batch

    def _abandoned(self, request: _Request[R], stage: str) -> None:
        if self._on_abandoned is not None:
            try:
                self._on_abandoned(request.key, stage)
            except Exception:  # metrics must never take the worker down
                logger.exception("on_abandoned failed")

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

    def _passes_precheck(self, request: _Request[R]) -> bool:
        if self._precheck is None:
            return True
        try:
            self._precheck(request.key, request.question)
        except Exception as exc:
            request.future.set_exception(exc)
            return False
        return True

    def _run_batch(self, batch: list[_Request[R]]) -> None:
        batch = [request for request in batch if self._passes_precheck(request)]
        if not batch:
            return
        key = batch[0].key
        lone = batch[0]
        if len(batch) == 1 and lone.on_piece is not None and self._stream_one is not None:
            self._run_stream(lone)
            return
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
            if request.future.abandoned:
                self._abandoned(request, "running")
            request.future.set_result(result)
        if self._on_batch is not None:
            self._on_batch(key, len(batch), seconds)

    def _run_stream(self, request: _Request[R]) -> None:
        assert self._stream_one is not None and request.on_piece is not None
        started = time.perf_counter()
        try:
            result = self._stream_one(
                request.key, request.question, request.on_piece, lambda: request.future.abandoned
            )
        except Exception as exc:
            request.future.set_exception(exc)
            return
        finally:
            self.batches_run += 1
        if request.future.abandoned:
            self._abandoned(request, "running")
        request.future.set_result(result)
        if self._on_batch is not None:
            self._on_batch(request.key, 1, time.perf_counter() - started)

    def _run_one(self, request: _Request[R]) -> None:
        try:
            [result] = self._answer_batch(request.key, [request.question])
        except Exception as exc:
            request.future.set_exception(exc)
        else:
            request.future.set_result(result)
