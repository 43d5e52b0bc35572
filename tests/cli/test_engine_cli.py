"""``ragtune engine vllm`` and ``ragtune eval --engine vllm`` over the fake vLLM server:
every arm goes through the server, the fine-tuned ones by their adapter's LoRA module."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.evaluate.records import load_eval_run
from ragtune.llm import vllm_engine
from ragtune.project import Project
from ragtune.testing.fake_vllm import make_fake_venv
from tests.evaluate.conftest import SCRIPTED, tiny_questions, write_tiny_docs
from tests.llm.test_vllm_engine import write_adapter

runner = CliRunner()
ARMS = ["base", "rag", "ft", "ft+rag", "raft"]


def _project(tmp_path: Path) -> Project:
    write_tiny_docs(tmp_path / "docs", 1)
    (tmp_path / "model").mkdir()
    config = {**SCRIPTED, "llm": {"backend": "scripted", "model": str(tmp_path / "model")}}
    project = Project.init(tmp_path / "proj", config)
    project.ingest([tmp_path / "docs"])
    (project.data_dir / "heldout.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in tiny_questions())
    )
    for name in ("qa", "raft"):
        write_adapter(project.adapters_dir / name)
    return project


def _answers_by_arm(run_file: Path) -> dict[str, set[str]]:
    """The model tag each arm's answers carry (the fake server answers '[model] ...')."""
    run = load_eval_run(run_file)
    tags: dict[str, set[str]] = {}
    for record in run.records:
        tags.setdefault(record["arm"], set()).add(record["prediction"].split("]")[0].lstrip("["))
    return tags


def test_start_eval_every_arm_status_stop(tmp_path: Path) -> None:
    project = _project(tmp_path)
    root, venv = str(project.root), str(make_fake_venv(tmp_path / "venv"))
    result = runner.invoke(
        app, ["engine", "vllm", "start", "-p", root, "--venv", venv, "--port", "0"]
    )
    assert result.exit_code == 0, result.output
    assert 'backend = "openai"' in result.output and "LoRA modules: qa, raft" in result.output
    try:
        result = runner.invoke(app, ["engine", "vllm", "status", "-p", root, "--json"])
        assert json.loads(result.output)["models"] == [
            str(tmp_path / "model"),
            "model",
            "qa",
            "raft",
        ]
        result = runner.invoke(
            app, ["eval", "-p", root, "--engine", "vllm", "--arm", ",".join(ARMS), "--json"]
        )
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert all(out["arms"][arm]["status"] == "ok" for arm in ARMS), out["arms"]
        tags = _answers_by_arm(Path(out["run_file"]))
        model = str(tmp_path / "model")
        assert tags == {
            "base": {model},
            "rag": {model},
            "ft": {"qa"},
            "ft+rag": {"qa"},
            "raft": {"raft"},
        }
    finally:
        result = runner.invoke(app, ["engine", "vllm", "stop", "-p", root])
    assert result.exit_code == 0 and "stopped the vLLM server" in result.output
    result = runner.invoke(app, ["engine", "vllm", "status", "-p", root])
    assert "no vLLM server runs" in result.output


def test_eval_engine_vllm_starts_a_server_for_the_run_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    make_fake_venv(tmp_path / "cache" / "vllm-venv")
    monkeypatch.setenv("RAGTUNE_CACHE", str(tmp_path / "cache"))
    result = runner.invoke(
        app, ["eval", "-p", str(project.root), "--engine", "vllm", "--arm", "ft"]
    )
    assert result.exit_code == 0, result.output
    assert "starting a vLLM server for this run" in result.output
    assert vllm_engine.running(project.state_dir) is None


def test_engine_errors_are_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    missing = str(tmp_path / "no-venv")
    result = runner.invoke(
        app, ["engine", "vllm", "start", "-p", str(project.root), "--venv", missing]
    )
    assert result.exit_code == 1
    assert "run: ragtune engine vllm install" in str(result.exception)
    result = runner.invoke(app, ["eval", "-p", str(project.root), "--engine", "tgi"])
    assert "choose builtin or vllm" in str(result.exception)


@pytest.mark.integration
def test_serve_engine_vllm_answers_every_arm_through_it_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ragtune serve --engine vllm`` as a real subprocess: each arm's chat completion is
    answered by the server (the fine-tuned ones by their LoRA module), and the server
    started for it stops with it — on SIGTERM, and on SIGKILL too."""
    import signal

    import httpx

    from tests.serve.test_cli import free_port, ragtune, wait_healthy

    project = _project(tmp_path)
    make_fake_venv(tmp_path / "cache" / "vllm-venv")
    env = {"RAGTUNE_CACHE": str(tmp_path / "cache"), "RAGTUNE_API_KEY": "k"}
    auth = {"Authorization": "Bearer k"}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = ["serve", "-p", str(project.root), "--port", str(port), "--engine", "vllm"]
        server = ragtune(*args, "--log-level", "warning", env=env)
        try:
            wait_healthy(url, server)
            engine = vllm_engine.running(project.state_dir)
            assert engine is not None
            models = httpx.get(url + "/v1/models", headers=auth).json()["data"]
            assert [m["id"] for m in models] == ARMS
            tags = {}
            for arm in ARMS:
                reply = httpx.post(
                    url + "/v1/chat/completions",
                    headers=auth,
                    timeout=30,
                    json={"model": arm, "messages": [{"role": "user", "content": "Hello?"}]},
                ).json()
                tags[arm] = reply["choices"][0]["message"]["content"].split("]")[0][1:]
            model = str(tmp_path / "model")
            assert tags == {"base": model, "rag": model, "ft": "qa", "ft+rag": "qa", "raft": "raft"}
        finally:
            server.send_signal(sig)
            server.wait(60)
        deadline = time.monotonic() + 60  # a bound on waiting for the exit, not a measurement
        while vllm_engine.pid_alive(engine.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not vllm_engine.pid_alive(engine.pid), sig


def test_demo_engine_vllm_answers_through_it_and_keeps_it_out_of_ragtune_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server started for ``demo --engine vllm`` is gone after the run: its address
    must not become the demo project's generator (a later ``serve`` would find nothing)."""
    make_fake_venv(tmp_path / "cache" / "vllm-venv")
    monkeypatch.setenv("RAGTUNE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "model").mkdir()
    folder = tmp_path / "demo"
    sets = ["embed.backend=hash", "corpus.tokenizer=words", f"llm.model={tmp_path / 'model'}"]
    args = ["demo", str(folder), "--quick", "--no-train", "-n", "8", "--engine", "vllm"]
    result = runner.invoke(app, [*args, *(f"--set={s}" for s in sets), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output[result.output.index("{") :])
    tags = _answers_by_arm(Path(out["eval_run"]))
    assert tags == {"base": {str(tmp_path / "model")}, "rag": {str(tmp_path / "model")}}
    written = (folder / "ragtune.toml").read_text()
    assert 'backend = "hash"' in written and "base_url" not in written
    assert 'backend = "openai"' not in written
    assert vllm_engine.running(folder / ".ragtune") is None
