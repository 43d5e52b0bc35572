"""A generator behind any OpenAI-compatible ``/chat/completions`` endpoint.

vLLM, llama.cpp's server, Ollama, TGI and OpenAI itself all speak it. Requests for a
batch run concurrently (at most ``batch_size`` in flight); 429 and 5xx answers and
connection errors are retried with exponential backoff, honouring ``Retry-After``::

    from ragtune.llm.openai import OpenAIGenerator

    llm = OpenAIGenerator("Qwen/Qwen2.5-7B-Instruct", base_url="http://localhost:8000/v1")
    llm.complete("Say hi.").text
    llm.generate(convs, adapter="ft")   # vLLM --lora-modules ft=...: adapters are models

``adapters`` names what the server serves besides the model (``{name: local folder}``,
as ``Project.generator`` passes the project's adapters); a request for another adapter is
an error before it is sent. With ``load_adapters=True`` (a vLLM server with runtime LoRA
updating, as ``ragtune engine vllm start`` runs it) each one is (re)loaded into the
server by path when the generator is built, so a retrained adapter is served fresh.

Token counts come from the response's ``usage``; when a server leaves it out they are
estimated (~4 characters per token).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from ragtune.errors import BackendUnavailableError, ConfigError
from ragtune.llm.base import (
    ChatMessage,
    Conversation,
    FinishReason,
    Generation,
    GenerationError,
    GenerationParams,
    Generator,
    Retryable,
    RetryPolicy,
    as_conversation,
    stream_until_stop,
)

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class OpenAIGenerator(Generator):
    """Chat completions over HTTP; ``adapter`` is sent as the ``model`` name.

    ``base_url`` is the API root that ends in ``/v1`` (``{base_url}/chat/completions``
    is posted to). The API key, if any, is read from the env var ``api_key_env``.
    """

    def __init__(
        self,
        model: str = "default",
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 120.0,
        max_retries: int = 4,
        batch_size: int = 16,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        context_tokens: int | None = None,
        backoff_s: float = 0.5,
        adapters: dict[str, str] | None = None,
        load_adapters: bool = False,
    ) -> None:
        super().__init__(
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            batch_size=batch_size,
            context_tokens=context_tokens,
        )
        if not base_url:
            raise ConfigError(
                "llm.base_url is required for the openai backend (e.g. http://localhost:8000/v1)"
            )
        self.model = model
        self.name = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.context_window = context_tokens or 4096
        self.timeout_s = timeout_s
        self.retry = RetryPolicy(max_retries=max_retries, backoff_s=backoff_s)
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(api_key_env)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=batch_size, max_keepalive_connections=batch_size),
        )
        self.adapters: dict[str, str] = dict(adapters or {})
        if load_adapters:
            for name in sorted(self.adapters):
                self.load_adapter(name, self.adapters[name])

    # -- adapters -------------------------------------------------------------------
    def load_adapter(self, name: str, path: str) -> None:
        """(Re)load the LoRA adapter folder ``path`` into a vLLM server as model ``name``
        (``/v1/unload_lora_adapter`` then ``/v1/load_lora_adapter``; the server must run
        with ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``). The path is the server's: it
        must be on the server's machine."""
        root = self.base_url
        try:
            # A fresh load (not in place) gives the adapter a new id, so the server
            # drops the old weights and any prefix cache computed with them.
            self._client.post(f"{root}/unload_lora_adapter", json={"lora_name": name})
            response = self._client.post(
                f"{root}/load_lora_adapter",
                json={"lora_name": name, "lora_path": str(Path(path).resolve())},
            )
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(
                f"cannot reach {root} to load adapter {name!r}: {exc}"
            ) from exc
        if response.status_code == 404 and "lora" not in response.text.lower():
            raise BackendUnavailableError(
                f"{root} cannot load adapters at run time (no /load_lora_adapter); start the "
                f"server with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, or set llm.load_adapters = false"
            )
        if response.status_code >= 400:
            raise GenerationError(
                f"{root} could not load adapter {name!r} from {path}: HTTP "
                f"{response.status_code} {response.text[:300]}"
            )
        self.adapters[name] = str(path)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> OpenAIGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------
    def _payload(
        self,
        conversation: list[ChatMessage],
        params: GenerationParams,
        adapter: str | None,
        stream: bool,
    ) -> dict[str, Any]:
        if adapter is not None and self.adapters and adapter not in self.adapters:
            known = ", ".join(sorted(self.adapters))
            raise ConfigError(f"unknown adapter {adapter!r}; known: {known}")
        body: dict[str, Any] = {
            "model": adapter or self.model,
            "messages": [m.to_dict() for m in conversation],
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": stream,
        }
        if params.stop:
            body["stop"] = list(params.stop)[:4]  # the API takes at most 4; the rest are cut after
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    def _transport_error(self, exc: httpx.HTTPError) -> Retryable:
        if isinstance(exc, httpx.TimeoutException):
            reason = f"no response from {self.url} within {self.timeout_s:g} s"
        else:
            reason = f"cannot reach {self.url}: {exc}"
        return Retryable(
            BackendUnavailableError(f"{reason} (after {self.retry.max_retries + 1} attempts)")
        )

    def _check(self, response: httpx.Response) -> None:
        """Raise ``Retryable`` for 429/5xx, ``GenerationError`` for other failures."""
        status = response.status_code
        if status < 400:
            return
        detail = response.text[:500]
        if status == 404 and "does not exist" in detail:
            raise GenerationError(self._not_served(response))
        if status in _RETRY_STATUS:
            final = BackendUnavailableError(
                f"{self.url} answered HTTP {status} after {self.retry.max_retries + 1} attempts: {detail}"
            )
            raise Retryable(final, parse_retry_after(response.headers.get("retry-after")))
        raise GenerationError(f"{self.url} answered HTTP {status}: {detail}")

    def _not_served(self, response: httpx.Response) -> str:
        """The one line for a model the server does not serve (vLLM: HTTP 404)."""
        try:
            name = json.loads(response.request.content or b"{}").get("model")
        except (ValueError, RuntimeError, AttributeError):
            name = None
        if name and name in self.adapters:
            return (
                f"{self.base_url} does not serve LoRA module {name!r} (adapter {name}); "
                f"restart it with the adapter (ragtune engine vllm start) or set llm.load_adapters = true"
            )
        return f"{self.base_url} does not serve model {name!r} (HTTP 404): {response.text[:200]}"

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            try:
                response = self._client.post(self.url, json=body)
            except httpx.HTTPError as exc:
                raise self._transport_error(exc) from exc
            self._check(response)
            try:
                return dict(response.json())
            except ValueError as exc:
                raise GenerationError(
                    f"{self.url} answered with invalid JSON: {response.text[:200]}"
                ) from exc

        return self.retry.run(attempt)

    def _estimate_prompt_tokens(self, conversation: list[ChatMessage]) -> int:
        return sum(self.count_tokens(m.content) + 4 for m in conversation)

    def _one(
        self, conversation: list[ChatMessage], params: GenerationParams, adapter: str | None
    ) -> Generation:
        start = time.perf_counter()
        data = self._post(self._payload(conversation, params, adapter, stream=False))
        try:
            choice = data["choices"][0]
        except (KeyError, IndexError, TypeError) as exc:
            raise GenerationError(
                f"{self.url}: no choices in the response: {str(data)[:200]}"
            ) from exc
        text = (choice.get("message") or {}).get("content") or ""
        usage = data.get("usage") or {}
        finish: FinishReason = "length" if choice.get("finish_reason") == "length" else "stop"
        return Generation(
            text=text,
            prompt_tokens=int(
                usage.get("prompt_tokens") or self._estimate_prompt_tokens(conversation)
            ),
            completion_tokens=int(usage.get("completion_tokens") or self.count_tokens(text)),
            finish_reason=finish,
            seconds=time.perf_counter() - start,
        )

    # -- the verb -------------------------------------------------------------------
    def plan_batches(self, conversations: list[list[ChatMessage]]) -> list[list[int]]:
        # One batch: the thread pool keeps batch_size requests in flight without
        # waiting for the slowest request of each group.
        return [list(range(len(conversations)))] if conversations else []

    def _generate_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
    ) -> list[Generation]:
        if len(conversations) == 1:
            return [self._one(conversations[0], params, adapter)]
        in_flight = min(self.batch_size, len(conversations))
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            generations = list(pool.map(lambda c: self._one(c, params, adapter), conversations))
        # Each request's wall time was shared with the others in flight: a query's share
        # of the server's compute is its latency over how many ran beside it.
        for generation in generations:
            generation.batch_size = in_flight
        return generations

    def stream(
        self,
        conversation: str | Conversation,
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> Iterator[str]:
        """Yield the answer as the server streams it (server-sent events).

        Retries apply until the response starts; a failure mid-stream is raised.
        """
        params = params or self.default_params
        body = self._payload(as_conversation(conversation), params, adapter, stream=True)

        def open_stream() -> httpx.Response:
            request = self._client.build_request("POST", self.url, json=body)
            try:
                response = self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise self._transport_error(exc) from exc
            if response.status_code >= 400:
                response.read()
                response.close()
                self._check(response)
            return response

        response = self.retry.run(open_stream)
        try:
            yield from stream_until_stop(self._deltas(response), params.stop)
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(f"the stream from {self.url} broke off: {exc!r}") from exc
        finally:
            response.close()

    def _deltas(self, response: httpx.Response) -> Iterator[str]:
        """The text deltas in an SSE stream of chat-completion chunks."""
        data_lines: list[str] = []
        for line in [*response.iter_lines(), ""]:
            if line.startswith("data:"):
                data_lines.append(line[5:].lstrip())
                continue
            if line or not data_lines:
                continue  # comments (": keep-alive"), event names, blank keep-alives
            data, data_lines = "\n".join(data_lines), []
            if data.strip() == "[DONE]":
                return
            try:
                event = json.loads(data)
            except ValueError as exc:
                raise GenerationError(f"{self.url}: malformed stream event: {data[:200]}") from exc
            if "error" in event:
                raise GenerationError(f"{self.url}: stream error: {event['error']}")
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    yield piece
