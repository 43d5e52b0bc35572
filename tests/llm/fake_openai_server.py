"""A small real OpenAI-compatible chat server for tests (FastAPI + uvicorn in a thread).

It answers ``echo: <last user message>``, one word per token, honours ``max_tokens``
and ``stop``, streams server-sent events, and can be told to fail::

    with FakeOpenAIServer() as server:
        server.fail_next(503, 503)        # the next two requests get HTTP 503
        server.delay_s = 2.0              # or: answer slowly
        OpenAIGenerator("m", base_url=server.base_url).complete("hi").text  # 'echo: hi'
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.failures: list[tuple[int, str | None]] = []
        self.delay_s = 0.0
        self.include_usage = True
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._chat)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        config = uvicorn.Config(self.app, log_level="warning", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def fail_next(self, *statuses: int, retry_after: str | None = None) -> None:
        """Answer the next requests with these HTTP statuses, in order."""
        self.failures.extend((status, retry_after) for status in statuses)

    def reset(self) -> None:
        self.failures.clear()
        self.requests.clear()
        self.delay_s = 0.0
        self.include_usage = True

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()

    # -- the endpoint ---------------------------------------------------------------
    @staticmethod
    def answer(body: dict[str, Any]) -> tuple[list[str], str]:
        """The words of the reply and its finish reason."""
        last_user = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        text = f"echo: {last_user}"
        finish = "stop"
        for stop in body.get("stop") or []:
            if stop in text:
                text = text[: text.index(stop)]
        words = text.split()
        if len(words) > body.get("max_tokens", 10**6):
            words, finish = words[: body["max_tokens"]], "length"
        return words, finish

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if self.failures:
            status, retry_after = self.failures.pop(0)
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return JSONResponse(
                {"error": {"message": f"injected {status}"}}, status, headers=headers
            )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        words, finish = self.answer(body)
        if body.get("stream"):
            return StreamingResponse(
                self._events(body, words, finish), media_type="text/event-stream"
            )
        data: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": " ".join(words)},
                    "finish_reason": finish,
                }
            ],
        }
        if self.include_usage:
            prompt_words = sum(len(m["content"].split()) for m in body["messages"])
            data["usage"] = {"prompt_tokens": prompt_words, "completion_tokens": len(words)}
        return JSONResponse(data)

    async def _events(
        self, body: dict[str, Any], words: list[str], finish: str
    ) -> AsyncIterator[str]:
        yield ": keep-alive\n\n"
        for i, word in enumerate(words):
            chunk = {
                "choices": [{"index": 0, "delta": {"content": word if i == 0 else f" {word}"}}]
            }
            yield f"data: {json.dumps(chunk)}\n\n"
            await asyncio.sleep(0)
        yield f"data: {json.dumps({'choices': [{'index': 0, 'delta': {}, 'finish_reason': finish}]})}\n\n"
        yield "data: [DONE]\n\n"
