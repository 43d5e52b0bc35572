"""End to end on the real default models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2), through
the openai client: one short question, a few new tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer

pytestmark = pytest.mark.integration


def test_real_model_answers_through_the_openai_client(tmp_path: Path) -> None:
    openai = pytest.importorskip("openai")
    pytest.importorskip("transformers")
    pytest.importorskip("sentence_transformers")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "oslo.md").write_text(
        "# Oslo office\n\nThe Oslo office is managed by Ingrid Solberg since 2021.\n"
    )
    (docs / "bergen.md").write_text(
        "# Bergen office\n\nThe Bergen office is managed by Lars Hovland.\n"
    )
    project = Project.init(tmp_path / "proj", {"llm": {"max_new_tokens": 12}})
    project.ingest([docs])
    with BackgroundServer(create_app(project, api_key="k")) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0, timeout=300)
        reply = client.chat.completions.create(
            model="rag",
            max_tokens=12,
            messages=[{"role": "user", "content": "Who manages the Oslo office?"}],
        )
    assert reply.choices[0].message.content.strip()
    assert 0 < reply.usage.completion_tokens <= 12
    assert reply.model_extra["ragtune"]["model"] == "SmolLM2-135M-Instruct"
    assert reply.model_extra["ragtune"]["hits"][0]["doc_id"] == "oslo.md"
    assert "Solberg" in reply.choices[0].message.content or reply.model_extra["citations"]
