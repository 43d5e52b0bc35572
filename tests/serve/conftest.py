"""A scripted project (hash embedder, scripted generator: no model) served by a real
uvicorn server on a free loopback port, and clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")

from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer
from tests.test_ingest import FAST, write_docs

KEY = "test-key-0123"
SCRIPTED: dict[str, Any] = {**FAST, "llm": {"backend": "scripted"}}
AUTH = {"Authorization": f"Bearer {KEY}"}


def make_project(root: Path, overrides: dict[str, Any] | None = None, n_docs: int = 4) -> Project:
    """A project over ``n_docs`` product pages (P0..Pn: weight, shipping city)."""
    from ragtune.config import _deep_merge

    project = Project.init(root / "proj", _deep_merge(SCRIPTED, overrides or {}))
    write_docs(root / "docs", n_docs)
    project.ingest([root / "docs"])
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


@pytest.fixture
def server(project: Project) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(project, api_key=KEY)) as running:
        yield running


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        yield http


@pytest.fixture
def openai_client(server: BackgroundServer) -> Any:
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0, timeout=30)


def ask(client: httpx.Client, question: str, model: str = "rag", **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": question}], **extra},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
