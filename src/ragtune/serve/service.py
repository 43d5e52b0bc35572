"""What the routes call: a project's arms behind the batch queue, and its documents.

The routes stay thin: they parse HTTP, call one method here (or one ``Project``
method), and format the result. This class owns the serving state: which arms the
project can serve, the built systems (one per arm; each request gets a shallow copy
carrying its generation settings, so nothing is cached per ``stop`` string or seed),
and the batch queue in front of the model, which streams go through too::

    service = ServeService(Project.open("acme-kb"))
    service.start()
    answer = await service.answer("rag", "Who runs the Oslo office?")
    async for item in service.stream("rag", "Who runs the Oslo office?"):
        ...  # text pieces, then the Answer
    service.models()   # ["base", "rag"] (+ "ft", "ft+rag", "raft" once their adapters exist)
    service.stop()

A question is measured against the context window twice: before it is queued, by
characters (``MAX_CHARS_PER_TOKEN`` per token of room, no tokenizer call), and on the
batch worker just before its batch, by the model's tokenizer over the prompt the arm
would build around it (on the model's own thread: fast tokenizers must not be called
from two threads while one of them pads a batch). Too long is a 400
``context_length_exceeded``, as OpenAI answers, and fails that request alone.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Hashable, Sequence
from typing import TYPE_CHECKING, cast

from ragtune.config import ServeConfig
from ragtune.errors import RagtuneError
from ragtune.registry import arms as registered_arms
from ragtune.serve.batching import BatchQueue, Ticket
from ragtune.serve.errors import ApiError
from ragtune.serve.metrics import Metrics
from ragtune.systems.build import build_system
from ragtune.types import Answer

if TYPE_CHECKING:
    from ragtune.llm.base import GenerationParams
    from ragtune.project import Project
    from ragtune.systems.base import System

logger = logging.getLogger("ragtune.serve")

BatchKey = tuple[str, "GenerationParams"]

# No tokenizer packs more than this many characters into a token on real text, so a
# question longer than room * MAX_CHARS_PER_TOKEN cannot fit and is refused unread.
MAX_CHARS_PER_TOKEN = 16
# Chat-template wrapping costs a few tokens per message (as in ragtune.prompts).
TEMPLATE_MARGIN_TOKENS = 24
_PIECES_DONE = object()


def context_length_error(message: str) -> ApiError:
    """OpenAI's answer to a prompt longer than the model's context window."""
    return ApiError(400, message, code="context_length_exceeded", param="messages")


class ServeService:
    """The serving state of one project (see the module docstring)."""

    def __init__(self, project: Project, metrics: Metrics | None = None) -> None:
        self.project = project
        self.settings: ServeConfig = project.config.serve
        self.metrics = metrics or Metrics()
        self.queue: BatchQueue[Answer] = BatchQueue(
            self._answer_batch,
            window_s=self.settings.batch_window_ms / 1000,
            max_batch=self.settings.max_batch,
            max_queue=self.settings.max_queue,
            on_batch=self._on_batch,
            stream_one=self._stream_one,
            on_abandoned=self._on_abandoned,
            precheck=self._precheck,
        )
        self._systems: dict[str, System] = {}
        self._lock = threading.RLock()
        self.ready = False

    @property
    def max_upload_bytes(self) -> int:
        return int(self.settings.max_upload_mb * 2**20)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        self.queue.start()

    def warm(self) -> None:
        """Open the store and load the embedder and generator now, not on the first request."""
        _ = self.project.store
        _ = self.project.embedder
        _ = self.project.generator
        self.ready = True

    def stop(self) -> None:
        self.queue.stop()

    # -- models ---------------------------------------------------------------------
    def models(self) -> list[str]:
        """The arms this project can serve now, then the configured aliases of those."""
        adapters = self.project.available_adapters()
        arms = [
            spec.name
            for spec in registered_arms.specs()
            if spec.adapter is None or spec.adapter in adapters
        ]
        aliases = [
            name for name, arm in self.settings.aliases.items() if arm in arms and name not in arms
        ]
        return arms + aliases

    def resolve_model(self, model: str) -> str:
        """The arm that ``model`` (an arm or an alias) names, or a 404 listing the choices."""
        arm = self.settings.aliases.get(model, model)
        available = self.models()
        if arm not in available:
            spec = registered_arms.find(arm)
            if spec is not None:
                message = (
                    f"model {model!r} needs the fine-tuned {spec.adapter!r} adapter, which this project "
                    f"does not have yet (run: ragtune synth && ragtune tune --mode {spec.adapter}); "
                    f"available: {', '.join(available)}"
                )
            else:
                message = f"unknown model {model!r}; available: {', '.join(available)}"
            raise ApiError(404, message, code="model_not_found", param="model")
        return arm

    # -- answering ------------------------------------------------------------------
    def system(self, arm: str, params: GenerationParams) -> System:
        """The arm with these generation settings: a shallow copy of the arm built once
        (building retrieves nothing), so no state is kept per setting."""
        with self._lock:
            built = self._systems.get(arm)
            if built is None or getattr(built, "generator", None) is not self.project.generator:
                self._load_adapter_if_new(arm)
                built = build_system(self.project, arm)
                self._systems[arm] = built
        system = copy.copy(built)
        system.params = params  # type: ignore[attr-defined]  # every arm class has .params
        return system

    def _load_adapter_if_new(self, arm: str) -> None:
        """An adapter trained after the server started is loaded into the running generator."""
        adapter = registered_arms.get(arm).adapter
        generator = self.project.generator
        loaded = getattr(generator, "adapters", None)
        if adapter is None or loaded is None or adapter in loaded:
            return
        path = self.project.available_adapters().get(adapter)
        if path is not None and hasattr(generator, "load_adapter"):
            generator.load_adapter(adapter, path)

    def check_length(self, question: str, params: GenerationParams) -> None:
        """Refuse a question that cannot fit the context window by its length alone (400
        ``context_length_exceeded``), without calling the tokenizer."""
        generator = self.project.generator
        room = generator.prompt_budget - params.max_new_tokens
        if room < 1:
            raise context_length_error(
                f"max_tokens {params.max_new_tokens} leaves no room for a prompt in the "
                f"{generator.prompt_budget}-token context window; ask for fewer tokens"
            )
        if len(question) > room * MAX_CHARS_PER_TOKEN:
            raise context_length_error(
                f"the question is {len(question)} characters; with {params.max_new_tokens} new "
                f"tokens, a {generator.prompt_budget}-token context window takes at most "
                f"{room * MAX_CHARS_PER_TOKEN}; shorten the question"
            )

    def check_tokens(self, arm: str, question: str, params: GenerationParams) -> None:
        """Refuse a question whose prompt (as ``arm`` builds it, before passages) does not
        fit the context window by the model's tokenizer (400 ``context_length_exceeded``).
        Call it after :meth:`check_length`, on the batch worker."""
        from ragtune.prompts import closed_book_messages, rag_messages

        generator = self.project.generator
        room = generator.prompt_budget - params.max_new_tokens
        if registered_arms.get(arm).retrieves:
            try:
                rag_messages(question, [], generator, params.max_new_tokens)
            except RagtuneError as exc:
                raise context_length_error(str(exc)) from None
            return
        used = sum(generator.count_tokens(m.content) for m in closed_book_messages(question))
        if used + TEMPLATE_MARGIN_TOKENS > room:
            raise context_length_error(
                f"the prompt needs ~{used + TEMPLATE_MARGIN_TOKENS} tokens but the prompt budget "
                f"is {room} (context window {generator.prompt_budget}, {params.max_new_tokens} "
                "new tokens); shorten the question"
            )

    def prepare(self, arm: str, question: str, params: GenerationParams) -> None:
        """What can fail this request alone before it is queued: the arm builds (index,
        adapter) and the question is not too long by characters."""
        self.system(arm, params)
        self.check_length(question, params)

    def _precheck(self, key: Hashable, question: str) -> None:
        arm, params = cast(BatchKey, key)
        self.check_tokens(arm, question, params)

    async def answer(
        self, arm: str, question: str, params: GenerationParams | None = None
    ) -> Answer:
        """One question through the batch queue; cancelling the awaiting task (the client
        left) drops it from the queue."""
        params = params or self.default_params()
        await asyncio.to_thread(self.prepare, arm, question, params)
        return await self.queue.answer((arm, params), question)

    async def stream(
        self, arm: str, question: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[str | Answer, None]:
        """Text pieces as they are generated, then the ``Answer``, through the batch queue.

        A stream answered in a batch (it found company) or by a closed-book arm comes
        as the ``Answer`` alone; the caller sends its text. Closing the iterator early
        (the client left) abandons the request: dropped if waiting, stopped at the next
        piece if streaming.
        """
        params = params or self.default_params()
        await asyncio.to_thread(self.prepare, arm, question, params)
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[object] = asyncio.Queue()

        def on_piece(piece: str) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, piece)

        ticket: Ticket[Answer] = self.queue.submit((arm, params), question, on_piece)
        # Scheduled after every piece the worker sent before resolving the ticket.
        done = asyncio.wrap_future(ticket)
        done.add_done_callback(lambda _: pieces.put_nowait(_PIECES_DONE))
        try:
            while True:
                item = await pieces.get()
                if item is _PIECES_DONE:
                    break
                yield cast(str, item)
            yield done.result()
        finally:
            if not ticket.done():
                ticket.abandon()

    def _stream_one(
        self,
        key: Hashable,
        question: str,
        on_piece: Callable[[str], None],
        abandoned: Callable[[], bool],
    ) -> Answer:
        """Run one stream on the batch worker, stopping when its client has left."""
        arm, params = cast(BatchKey, key)
        system = self.system(arm, params)
        streamer = getattr(system, "stream", None)
        if streamer is None:
            return self._answer_batch(key, [question])[0]
        generator = self.project.generator
        pieces: list[str] = []
        answer: Answer | None = None
        items = streamer(question)
        try:
            for item in items:
                if isinstance(item, Answer):
                    answer = item
                    break
                if abandoned():
                    break
                pieces.append(item)
                on_piece(item)
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a backend's own cleanup (HTTP stream, thread) runs now
                close()
            if answer is None:  # stopped early or failed: count what was generated
                generated = generator.count_tokens("".join(pieces))
                self.metrics.observe_answer(arm, 0, generated)
        if answer is None:
            return Answer(question=question, text="".join(pieces), arm=arm, model=generator.name)
        self.metrics.observe_answer(arm, answer.prompt_tokens, answer.completion_tokens)
        return answer

    def default_params(self) -> GenerationParams:
        from ragtune.llm.base import GenerationParams

        llm = self.project.config.llm
        return GenerationParams(max_new_tokens=llm.max_new_tokens, temperature=llm.temperature)

    def _answer_batch(self, key: Hashable, questions: Sequence[str]) -> list[Answer]:
        arm, params = cast(BatchKey, key)
        answers = self.system(arm, params).answer_batch(questions)
        for answer in answers:
            self.metrics.observe_answer(arm, answer.prompt_tokens, answer.completion_tokens)
        return answers

    def _on_batch(self, key: Hashable, size: int, seconds: float) -> None:
        self.metrics.observe_batch(cast(BatchKey, key)[0], size, seconds)

    def _on_abandoned(self, key: Hashable, stage: str) -> None:
        self.metrics.observe_abandoned(cast(BatchKey, key)[0], stage)
