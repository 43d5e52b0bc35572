"""The OpenAI-compatible embedder against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from ragtune.errors import BackendUnavailableError
from ragtune.project import Project
from ragtune.registry import embedders
from ragtune.testing.hash_embedder import HashEmbedder
from tests.test_ingest import write_docs

REFERENCE = HashEmbedder(dim=48)


class EmbeddingsServer(BaseHTTPRequestHandler):
    failures_left = 0
    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **body}
        )
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        vectors = REFERENCE.embed(body["input"])
        data = [
            {"object": "embedding", "index": i, "embedding": (v * 3).tolist()}
            for i, v in enumerate(vectors)
        ]
        payload = json.dumps(
            {"object": "list", "data": data[::-1], "model": body["model"]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    EmbeddingsServer.failures_left = 0
    EmbeddingsServer.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_embeds_in_order_normalized_with_key(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sekret")
    embedder = embedders.create(
        "openai", model="text-embed", base_url=server, api_key_env="MY_KEY", batch_size=2
    )
    vectors = embedder.embed(["alpha beta", "gamma", "delta epsilon"])
    assert vectors.shape == (3, 48) and embedder.dim == 48
    np.testing.assert_allclose(
        vectors, REFERENCE.embed(["alpha beta", "gamma", "delta epsilon"]), atol=1e-6
    )
    assert EmbeddingsServer.requests[-1]["auth"] == "Bearer sekret"
    assert EmbeddingsServer.requests[-1]["path"] == "/v1/embeddings"
    assert embedder.fingerprint == f"openai:{server}:text-embed:48"


def test_retries_on_503(server: str) -> None:
    embedder = embedders.create("openai", model="m", base_url=server, dim=48, max_retries=3)
    EmbeddingsServer.failures_left = 2
    assert embedder.embed(["x"]).shape == (1, 48)


def test_unreachable_endpoint_names_the_url() -> None:
    with pytest.raises(BackendUnavailableError, match=r"http://127.0.0.1:9/v1/embeddings"):
        embedders.create("openai", model="m", base_url="http://127.0.0.1:9/v1", max_retries=0)


def test_project_indexes_through_the_endpoint(server: str, tmp_path: Path) -> None:
    project = Project.init(
        tmp_path / "proj",
        {
            "embed": {"backend": "openai", "model": "m", "base_url": server},
            "corpus": {"tokenizer": "words"},
        },
    )
    write_docs(tmp_path / "docs", 3)
    assert project.ingest([tmp_path / "docs"]).added == 3
    assert project.search("P2 kilograms Oslo", k=1, mode="dense")[0].chunk.doc_id == "p2.md"
