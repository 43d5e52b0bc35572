"""``create_embedder`` passes a backend the config fields its constructor declares, as
``create_generator`` does: a plugin embedder registered here gets its options."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ragtune.config import EmbedConfig
from ragtune.embed import Embedder, create_embedder
from ragtune.registry import embedders
from ragtune.testing.hash_embedder import HashEmbedder


class PluginEmbedder(HashEmbedder):
    """A plugin that declares ``device`` and ``dim`` (and nothing about endpoints)."""

    def __init__(self, model: str, dim: int = 32, device: str | None = "plugin-default") -> None:
        super().__init__(model=model, dim=dim)
        self.device = device


class KeywordsEmbedder(Embedder):
    """A plugin that takes ``**options``: it is handed every field that is set."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    @property
    def dim(self) -> int:
        return 4

    @property
    def fingerprint(self) -> str:
        return "keywords"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), 4), dtype=np.float32) / 2.0


embedders.register("test-plugin-embedder", PluginEmbedder)
embedders.register("test-keywords-embedder", KeywordsEmbedder)


def test_a_plugin_gets_the_fields_it_declares() -> None:
    config = EmbedConfig(backend="test-plugin-embedder", model="m", dim=12, device="cuda:1")
    embedder = create_embedder(config)
    assert isinstance(embedder, PluginEmbedder)
    assert (embedder.model_name, embedder.dim, embedder.device) == ("m", 12, "cuda:1")
    # batch_size, base_url, api_key_env are not in its signature: not passed, no TypeError.
    assert embedder.batch_size == 256


def test_unset_fields_leave_the_backend_default() -> None:
    embedder = create_embedder(EmbedConfig(backend="test-plugin-embedder", model="m"))
    assert isinstance(embedder, PluginEmbedder)
    assert (embedder.dim, embedder.device) == (32, "plugin-default")


def test_a_keyword_plugin_gets_every_set_field() -> None:
    embedder = create_embedder(EmbedConfig(backend="test-keywords-embedder", batch_size=8))
    assert isinstance(embedder, KeywordsEmbedder)
    assert embedder.options == {
        "model": "default",
        "batch_size": 8,
        "api_key_env": "OPENAI_API_KEY",
    }


def test_built_in_hash_backend_keeps_its_options() -> None:
    embedder = create_embedder(EmbedConfig(backend="hash", dim=64, batch_size=16))
    assert isinstance(embedder, HashEmbedder)
    assert (embedder.dim, embedder.batch_size, embedder.model_name) == (64, 16, "default")
    assert create_embedder(EmbedConfig(backend="hash")).dim == 256
