"""``/v1/chat/completions`` and ``/v1/models``: OpenAI's API with ``model`` naming an arm.

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=os.environ["RAGTUNE_API_KEY"])
    reply = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "..."}])
    reply.choices[0].message.content, reply.model_extra["citations"]

The question is the last user message: earlier turns and system messages are ignored,
because every arm answers one self-contained question with its own prompt (the arms
are measured that way, so the server serves them that way).

Both forms go through the batch queue (see :mod:`ragtune.serve.service`), and both stop
costing compute when the client hangs up: a waiting request is dropped, a running
stream stops at its next piece, and ``/metrics`` counts what was generated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ragtune.errors import ConfigError, RagtuneError
from ragtune.llm.base import GenerationParams
from ragtune.serve.errors import ApiError, error_body, from_ragtune_error
from ragtune.serve.render import (
    chunk_event,
    citation_json,
    completion_body,
    finish_reason,
    new_completion_id,
    ragtune_json,
    sse,
    usage_json,
)
from ragtune.serve.schemas import ChatCompletionRequest
from ragtune.serve.service import ServeService
from ragtune.types import Answer

logger = logging.getLogger("ragtune.serve")
router = APIRouter(tags=["chat"])
T = TypeVar("T")


def get_service(request: Request) -> ServeService:
    service: ServeService = request.app.state.service
    return service


@router.get("/v1/models")
async def list_models(request: Request) -> dict[str, Any]:
    """The arms this project can serve (fine-tuned arms once their adapter exists), then aliases."""
    service = get_service(request)
    return {
        "object": "list",
        "data": [
            {
                "id": name,
                "object": "model",
                "created": 0,
                "owned_by": "ragtune",
                "arm": service.settings.aliases.get(name, name),
            }
            for name in service.models()
        ],
    }


def generation_params(body: ChatCompletionRequest, default: GenerationParams) -> GenerationParams:
    """The request's sampling settings over the project's defaults."""
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    try:
        return GenerationParams(
            max_new_tokens=body.max_completion_tokens or body.max_tokens or default.max_new_tokens,
            temperature=default.temperature if body.temperature is None else body.temperature,
            top_p=1.0 if body.top_p is None else body.top_p,
            stop=stop,
            seed=body.seed,
        )
    except ConfigError as exc:
        raise ApiError(400, str(exc), code="invalid_value") from None


async def until_disconnected(request: Request) -> None:
    """Return once the client has hung up (the body is already read by then)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """``await work``, cancelling it if the client hangs up first (its request is then
    dropped from the batch queue, or its stream stopped)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(until_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise ApiError(499, "the client closed the request", code="client_closed_request")
    return task.result()


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, request: Request
) -> dict[str, Any] | StreamingResponse:
    """Answer the last user message with the arm that ``model`` names; ``stream`` for SSE."""
    service = get_service(request)
    arm = service.resolve_model(body.model)
    try:
        question = body.question()
    except ValueError as exc:
        raise ApiError(400, str(exc), code="invalid_request", param="messages") from None
    params = generation_params(body, service.default_params())
    if not body.stream:
        answer = await unless_disconnected(request, service.answer(arm, question, params))
        return completion_body(answer, body.model, params.max_new_tokens, root=service.project.root)
    return await _stream(request, service, arm, question, params, body)


async def _stream(
    request: Request,
    service: ServeService,
    arm: str,
    question: str,
    params: GenerationParams,
    body: ChatCompletionRequest,
) -> StreamingResponse:
    model, root = body.model, service.project.root
    items = service.stream(arm, question, params)
    # The first item is awaited before the response starts, so a request that fails at
    # once (no index, a full queue) still gets its proper status code.
    try:
        first = await unless_disconnected(request, anext(items))
    except BaseException:
        await items.aclose()
        raise
    completion_id, created = new_completion_id(), int(time.time())
    answer_box: list[Answer] = []

    async def events() -> AsyncIterator[str]:
        # Starlette cancels this generator when the client disconnects; closing ``items``
        # then abandons the request (a running stream stops at its next piece).
        try:
            async for event in _events(
                items, first, completion_id, created, model, params, root, answer_box
            ):
                yield event
            if body.include_usage() and answer_box:
                yield sse(
                    {
                        "id": completion_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage_json(answer_box[0]),
                    }
                )
            yield sse("[DONE]")
        finally:
            await items.aclose()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    items: AsyncIterator[str | Answer],
    first: str | Answer,
    completion_id: str,
    created: int,
    model: str,
    params: GenerationParams,
    root: Path,
    answer_box: list[Answer],
) -> AsyncIterator[str]:
    """The chunk events of one streamed answer; the final :class:`Answer` lands in ``answer_box``."""
    yield chunk_event(completion_id, model, created, {"role": "assistant", "content": ""})
    item: str | Answer = first
    sent_text = False
    while True:
        if isinstance(item, Answer):
            answer_box.append(item)
            break
        if item:
            sent_text = True
            yield chunk_event(completion_id, model, created, {"content": item})
        try:
            item = await anext(items)
        except StopAsyncIteration:
            break
        except Exception as exc:  # headers are sent: report in-band, as OpenAI does
            logger.exception("stream failed")
            api_error = from_ragtune_error(exc) if isinstance(exc, RagtuneError) else None
            message = (
                api_error.message
                if api_error
                else "generation failed (details are in the server log)"
            )
            yield sse(error_body(message, "api_error", "stream_failed"))
            return
    extra: dict[str, Any] = {}
    finish = "stop"
    if answer_box:
        answer = answer_box[0]
        if not sent_text and answer.text:  # answered in a batch: the text in one piece
            yield chunk_event(completion_id, model, created, {"content": answer.text})
        finish = finish_reason(answer, params.max_new_tokens)
        extra = {
            "citations": [citation_json(c, answer.hits, root) for c in answer.citations],
            "ragtune": ragtune_json(answer, root),
        }
    yield chunk_event(completion_id, model, created, {}, finish, **extra)
