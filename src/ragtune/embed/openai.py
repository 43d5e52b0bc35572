"""An OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, Ollama, TEI, llama.cpp)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import httpx
import numpy as np

from ragtune.embed.base import Embedder, normalize_rows
from ragtune.errors import BackendUnavailableError, ConfigError


class OpenAIEmbedder(Embedder):
    """Embeds through ``POST {base_url}/embeddings``.

    embedder = OpenAIEmbedder(model="text-embedding-3-small",
                              base_url="https://api.openai.com/v1")
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        batch_size: int = 64,
        dim: int | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 4,
    ) -> None:
        if not base_url:
            raise ConfigError("embed.base_url is required for embed.backend='openai'")
        self.model_name = model
        self.base_url = base_url.rstrip("/")
        self.batch_size = batch_size
        self.max_retries = max_retries
        key = os.environ.get(api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)
        self._dim = dim or int(self.embed_batch(["dimension probe"]).shape[1])

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        return f"openai:{self.base_url}:{self.model_name}:{self._dim}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        url = f"{self.base_url}/embeddings"
        payload = {"model": self.model_name, "input": list(texts)}
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.post(url, json=payload)
            except httpx.HTTPError as exc:
                if attempt == self.max_retries:
                    raise BackendUnavailableError(
                        f"embedding endpoint {url} unreachable: {exc}"
                    ) from exc
            else:
                if response.status_code < 400:
                    rows = sorted(response.json()["data"], key=lambda row: row["index"])
                    return normalize_rows(
                        np.array([row["embedding"] for row in rows], dtype=np.float32)
                    )
                if (
                    response.status_code != 429 and response.status_code < 500
                ) or attempt == self.max_retries:
                    raise BackendUnavailableError(
                        f"embedding endpoint {url} answered {response.status_code}: {response.text[:200]}"
                    )
            time.sleep(min(8.0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")
