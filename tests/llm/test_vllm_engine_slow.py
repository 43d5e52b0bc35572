"""The real vLLM server (slow tier): adapters trained by ``ragtune tune`` load there
unchanged, and all five arms are evaluated through it.

Skipped unless the vLLM virtualenv exists (``ragtune engine vllm install``; another one
by ``RAGTUNE_VLLM_VENV``). Starting the server takes one to five minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ragtune.llm import vllm_engine
from ragtune.project import Project
from tests.evaluate.conftest import tiny_questions, write_tiny_docs

pytestmark = [pytest.mark.slow, pytest.mark.integration]
ARMS = ["base", "rag", "ft", "ft+rag", "raft"]


def vllm_venv_or_skip() -> Path:
    venv = Path(os.environ.get("RAGTUNE_VLLM_VENV") or vllm_engine.default_venv())
    python = vllm_engine.venv_python(venv)
    if not python.exists() or not list(venv.glob("lib/python*/site-packages/vllm")):
        pytest.skip(f"no vLLM virtualenv at {venv} (run: ragtune engine vllm install)")
    return venv


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A tiny project on the default model with a one-step qa and raft adapter each."""
    from ragtune.synth import synthesize
    from ragtune.tune import train
    from tests.tune.conftest import default_model_or_skip

    vllm_venv_or_skip()
    default_model_or_skip()
    root = tmp_path_factory.mktemp("vllm")
    write_tiny_docs(root / "docs", 1)
    project = Project.init(root / "proj", {"embed": {"backend": "hash"}})
    project.ingest([root / "docs"])
    synthesize(project, source="corpus", paraphrases=0, raft=True)
    for mode in ("qa", "raft"):
        train(project, mode, max_steps=1, batch_size=2, max_seq_tokens=256)
    (project.data_dir / "heldout.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in tiny_questions())
    )
    return project


def test_every_arm_is_evaluated_through_the_real_server(trained_project: Project) -> None:
    from ragtune.experiment.compare import compare

    project = trained_project
    options = vllm_engine.EngineOptions(venv=vllm_venv_or_skip(), port=0, start_timeout_s=900)
    state = vllm_engine.start("default", project.available_adapters(), project.state_dir, options)
    try:
        assert set(vllm_engine.served_models(state.base_url) or []) >= {"default", "qa", "raft"}
        served = Project.open(project.root, state.llm_overrides())
        run, path = compare(served, ARMS, max_questions=12)
        assert path is not None
        for arm in ARMS:
            assert run.arms[arm].ok, (arm, run.arms[arm].reason)
            predictions = [r["prediction"] for r in run.arm_records(arm)]
            assert len(predictions) == 12 and any(p.strip() for p in predictions), arm
        assert run.config["llm"]["backend"] == "openai"
    finally:
        vllm_engine.stop(project.state_dir)
    assert vllm_engine.running(project.state_dir) is None
