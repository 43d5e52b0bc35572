"""``/v1/chat/completions`` and ``/v1/models``: OpenAI's API with ``model`` naming an arm.

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=os.environ["RAGTUNE_API_KEY"])
    reply = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "..."}])
    reply.choices[0].message.content, reply.model_extra["citations"]

The question is the last user message: earlier turns and system messages are ignored,
because every arm answers one self-contained question with its own prompt (the arms
are measured that way, so the server serves them that way).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

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


def get_service(request: Request) -> ServeService:
    service: ServeService = request.app.state.service
    return service


@router.get("/v1/models")
def list_models(request: Request) -> dict[str, Any]:
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
        answer = await service.answer(arm, question, params)
        return completion_body(answer, body.model, params.max_new_tokens)
    return await _stream(service, arm, question, params, body.model, body.include_usage())


async def _stream(
    service: ServeService,
    arm: str,
    question: str,
    params: GenerationParams,
    model: str,
    include_usage: bool,
) -> StreamingResponse:
    items = iterate_in_threadpool(service.stream(arm, question, params))
    # The first item is awaited before the response starts, so a request that fails at
    # once (no index, prompt too long) still gets its proper status code.
    first = await anext(items)
    completion_id, created = new_completion_id(), int(time.time())

    async def events() -> AsyncIterator[str]:
        yield chunk_event(completion_id, model, created, {"role": "assistant", "content": ""})
        item: str | Answer = first
        answer: Answer | None = None
        while True:
            if isinstance(item, Answer):
                answer = item
                break
            if item:
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
                yield sse("[DONE]")
                return
        extra: dict[str, Any] = {}
        finish = "stop"
        if answer is not None:
            finish = finish_reason(answer, params.max_new_tokens)
            extra = {
                "citations": [citation_json(c, answer.hits) for c in answer.citations],
                "ragtune": ragtune_json(answer),
            }
        yield chunk_event(completion_id, model, created, {}, finish, **extra)
        if include_usage and answer is not None:
            yield sse(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage_json(answer),
                }
            )
        yield sse("[DONE]")

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
