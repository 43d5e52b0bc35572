"""What the routes call: a project's arms behind the batch queue, and its documents.

The routes stay thin: they parse HTTP, call one method here (or one ``Project``
method), and format the result. This class owns the serving state: which arms the
project can serve, the built systems (one per arm and generation settings), and the
batch queue in front of the model::

    service = ServeService(Project.open("acme-kb"))
    service.start()
    answer = await service.answer("rag", "Who runs the Oslo office?")
    service.models()   # ["base", "rag"] (+ "ft", "ft+rag", "raft" once their adapters exist)
    service.stop()
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from typing import TYPE_CHECKING, cast

from ragtune.config import ServeConfig
from ragtune.registry import arms as registered_arms
from ragtune.serve.batching import BatchQueue
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


class ServeService:
    """The serving state of one project (see the module docstring)."""

    def __init__(
        self, project: Project, metrics: Metrics | None = None, max_systems: int = 32
    ) -> None:
        self.project = project
        self.settings: ServeConfig = project.config.serve
        self.metrics = metrics or Metrics()
        self.queue: BatchQueue[Answer] = BatchQueue(
            self._answer_batch,
            window_s=self.settings.batch_window_ms / 1000,
            max_batch=self.settings.max_batch,
            max_queue=self.settings.max_queue,
            on_batch=self._on_batch,
        )
        self._systems: OrderedDict[BatchKey, System] = OrderedDict()
        self._max_systems = max_systems
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
        """The arm built with these generation settings (cached; building retrieves nothing)."""
        key: BatchKey = (arm, params)
        with self._lock:
            cached = self._systems.get(key)
            if cached is not None:
                self._systems.move_to_end(key)
                return cached
            self._load_adapter_if_new(arm)
            system = build_system(self.project, arm)
            system.params = params  # type: ignore[attr-defined]  # every arm class has .params
            self._systems[key] = system
            while len(self._systems) > self._max_systems:
                self._systems.popitem(last=False)
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

    async def answer(
        self, arm: str, question: str, params: GenerationParams | None = None
    ) -> Answer:
        """One question through the batch queue."""
        params = params or self.default_params()
        # Build (or fetch) the arm first, off the event loop: a missing index or adapter
        # fails this request alone instead of the batch it would have joined.
        await asyncio.to_thread(self.system, arm, params)
        return await self.queue.answer((arm, params), question)

    def stream(
        self, arm: str, question: str, params: GenerationParams | None = None
    ) -> Iterator[str | Answer]:
        """Text pieces as they are generated, then the ``Answer`` (blocking; run it in a thread).

        Retrieval arms stream token by token; a closed-book arm without a streaming form
        is answered through the batch queue and sent as one piece.
        """
        params = params or self.default_params()
        system = self.system(arm, params)
        streamer = getattr(system, "stream", None)
        if streamer is None:
            answer = self.queue.submit((arm, params), question).result()
            yield answer.text
            yield answer
            return
        for item in streamer(question):
            if isinstance(item, Answer):
                self.metrics.observe_answer(arm, item.prompt_tokens, item.completion_tokens)
            yield item

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
