"""``ragtune tune`` under ``accelerate launch`` with 2 CPU processes (gloo), for real:
the adapter folder and manifest have the one-process format, rank 0 alone writes and
prints, and a launcher killed with SIGKILL takes its workers along and resumes from the
last complete checkpoint. A tiny random Llama keeps each run to seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ragtune.project import Project
from ragtune.tune.manifest import MANIFEST_FILE, list_adapters
from ragtune.tune.trainer import last_complete_checkpoint

pytestmark = pytest.mark.integration

CPU_MULTI = Path(__file__).resolve().parents[2] / "configs" / "accelerate" / "cpu_multi.yaml"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("accelerate")
    from ragtune.testing.tiny_models import build_tiny_causal_lm
    from tests.tune.conftest import default_model_or_skip

    default_model_or_skip()
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-llama"))


def make_project(root: Path, model: Path) -> Project:
    from ragtune.synth import synthesize
    from tests.tune.conftest import FACTS

    qa = root / "qa.jsonl"
    root.mkdir(parents=True, exist_ok=True)
    qa.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in FACTS))
    project = Project.init(
        root / "proj", {"embed": {"backend": "hash"}, "llm": {"model": str(model)}}
    )
    synthesize(project, source="qa-file", path=qa, paraphrases=0, raft=False)
    return project


def tune_args(project: Project, *extra: str) -> list[str]:
    return [
        "-m",
        "ragtune.cli.main",
        "tune",
        "--mode",
        "qa",
        "--set",
        "tune.batch_size=1",
        "--set",
        "tune.logging_steps=1",
        "-p",
        str(project.root),
        "--json",
        *extra,
    ]


def launch(project: Project, *extra: str) -> list[str]:
    """``accelerate launch --config_file configs/accelerate/cpu_multi.yaml -m ragtune.cli.main tune ...``"""
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(CPU_MULTI),
        *tune_args(project, *extra),
    ]


def shape_of(value: Any) -> Any:
    """The keys (recursively) and value types of a manifest: its format, not its figures."""
    if isinstance(value, dict):
        return {k: shape_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape_of(value[0])] if value else []
    return (
        "number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else type(value).__name__
    )


def manifest_format(manifest: dict[str, Any]) -> Any:
    """:func:`shape_of` a manifest; ``distributed_backend`` is ``None`` in one process."""
    hyperparameters = {**manifest["hyperparameters"], "distributed_backend": "str or None"}
    return shape_of({**manifest, "hyperparameters": hyperparameters})


def tensor_shapes(adapter: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    from safetensors import safe_open

    with safe_open(str(adapter / "adapter_model.safetensors"), "pt") as f:
        names = list(f.keys())
        return {k: (tuple(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype()) for k in names}


def peft_config(adapter: Path) -> dict[str, Any]:
    """``adapter_config.json``; PEFT writes ``target_modules`` from a set, in hash order."""
    config = json.loads((adapter / "adapter_config.json").read_text())
    return {**config, "target_modules": sorted(config["target_modules"])}


def worker_pids(project: Project) -> list[int]:
    """The launcher's workers: processes running ragtune on the project, not the launcher."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(project.root).encode() in cmdline and b"accelerate" not in cmdline:
                pids.append(int(entry.name))
    return pids


def test_two_processes_write_the_one_process_format(tmp_path: Path, tiny_model: Path) -> None:
    one = make_project(tmp_path / "one", tiny_model)
    two = make_project(tmp_path / "two", tiny_model)
    # Both at once: the test is about the format, and the 2-core machine has time for it.
    runs = [
        subprocess.Popen(
            [sys.executable, *tune_args(one, "--max-steps", "2")],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        subprocess.Popen(
            launch(two, "--max-steps", "2"),
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    ]
    (out1, err1), (out2, err2) = (run.communicate(timeout=300) for run in runs)
    assert runs[0].returncode == 0, err1[-3000:]
    assert runs[1].returncode == 0, err2[-3000:]
    single, multi = json.loads(out1), json.loads(out2)  # rank 1 prints nothing

    assert single["hyperparameters"]["world_size"] == 1
    assert multi["hyperparameters"]["world_size"] == 2
    assert [s["processes"] for s in single["sessions"]] == [1]
    assert [s["processes"] for s in multi["sessions"]] == [2]
    assert multi["hyperparameters"]["threads"] == max(1, (os.cpu_count() or 1) // 2)
    assert single["steps"] == multi["steps"] == 2
    assert multi["tokens_seen"] > 0 and multi["cpu_seconds"] > 0 and multi["final_loss"]
    assert multi["sessions"][0]["peak_rss_mb_total"] > multi["peak_rss_mb"] > 100
    assert [single["hyperparameters"][k] for k in ("distributed_type", "distributed_backend")] == [
        "NO",
        None,
    ]
    assert [multi["hyperparameters"][k] for k in ("distributed_type", "distributed_backend")] == [
        "MULTI_CPU",
        "gloo",
    ]
    assert manifest_format(multi) == manifest_format(single)

    a, b = one.adapters_dir / "qa", two.adapters_dir / "qa"
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    assert json.loads((a / MANIFEST_FILE).read_text()) == single
    assert json.loads((b / MANIFEST_FILE).read_text()) == multi
    assert peft_config(a) == peft_config(b)
    assert tensor_shapes(a) == tensor_shapes(b)
    assert [m.mode for m in list_adapters(two.adapters_dir)] == ["qa"]
    assert sorted(p.name for p in two.adapters_dir.iterdir()) == [".checkpoints", "qa"]
    assert not (two.adapters_dir / ".checkpoints" / "qa").exists()


@pytest.mark.slow
def test_sigkill_of_the_launcher_then_resume(tmp_path: Path, tiny_model: Path) -> None:
    project = make_project(tmp_path, tiny_model)
    checkpoints = project.adapters_dir / ".checkpoints" / "qa"
    command = launch(project, "--epochs", "6", "--save-steps", "1")
    first = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marker = checkpoints / "checkpoint-1" / "ragtune_cost.json"
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert first.poll() is None, first.communicate()[1].decode()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint within the time limit"
        time.sleep(0.1)
    assert len(worker_pids(project)) >= 2
    first.send_signal(signal.SIGKILL)  # the launcher only, as the OOM killer would
    first.wait(30)
    assert first.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while worker_pids(project):  # the workers die with their launcher, not train on
        assert time.monotonic() < deadline, f"orphaned workers: {worker_pids(project)}"
        time.sleep(0.2)
    assert not (project.adapters_dir / "qa" / MANIFEST_FILE).exists()
    last = last_complete_checkpoint(checkpoints)
    assert last is not None
    state = json.loads((last / "trainer_state.json").read_text())
    assert state["global_step"] < state["max_steps"]
    assert {"rng_state_0.pth", "rng_state_1.pth"} <= {p.name for p in last.iterdir()}

    resumed = subprocess.run(
        [*command, "--resume"], env=ENV, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    manifest = json.loads(resumed.stdout)
    assert manifest["steps"] == manifest["hyperparameters"]["planned_steps"] == state["max_steps"]
    assert manifest["hyperparameters"]["world_size"] == 2
    sessions = manifest["sessions"]
    assert len(sessions) == 2 and [s["processes"] for s in sessions] == [2, 2]
    assert sessions[0]["end_step"] >= 1 and sessions[1]["start_step"] == sessions[0]["end_step"]
    assert sessions[1]["end_step"] == state["max_steps"]
    assert manifest["cpu_seconds"] == pytest.approx(
        sum(s["cpu_seconds"] for s in sessions), abs=0.01
    )
    assert not checkpoints.exists()
    adapter = project.adapters_dir / "qa"
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == project.config.tune.lora_rank
