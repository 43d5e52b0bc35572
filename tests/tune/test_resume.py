"""A training run killed with SIGKILL resumes from its last complete checkpoint and ends
at the step count it planned; the adapter it writes loads in PEFT. Real model, real kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragtune.project import Project
from ragtune.tune.manifest import MANIFEST_FILE, list_adapters

pytestmark = pytest.mark.integration


def tune_command(project: Project, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ragtune.cli.main",
        "tune",
        "--mode",
        "qa",
        "--epochs",
        "1",
        "--save-steps",
        "1",
        "--set",
        "tune.batch_size=1",
        "--set",
        "tune.logging_steps=1",
        "-p",
        str(project.root),
        "--json",
        *extra,
    ]


def test_sigkill_then_resume_ends_at_the_planned_step(tiny_project: Project) -> None:
    checkpoints = tiny_project.adapters_dir / ".checkpoints" / "qa"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    first = subprocess.Popen(
        tune_command(tiny_project), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 400
    marker = checkpoints / "checkpoint-1" / "ragtune_cost.json"
    while not marker.exists():
        assert first.poll() is None, first.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within the time limit"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    assert first.returncode == -signal.SIGKILL
    assert not (tiny_project.adapters_dir / "qa" / MANIFEST_FILE).exists()
    planned = json.loads((checkpoints / "checkpoint-1" / "trainer_state.json").read_text())[
        "max_steps"
    ]

    resumed = subprocess.run(
        tune_command(tiny_project, "--resume"), env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    manifest = json.loads(resumed.stdout)
    assert manifest["steps"] == manifest["hyperparameters"]["planned_steps"] == planned
    sessions = manifest["sessions"]
    assert len(sessions) == 2 and sessions[0]["end_step"] >= 1 and sessions[1]["start_step"] >= 1
    assert sessions[1]["end_step"] == planned
    assert manifest["train_seconds"] >= sessions[1]["seconds"] and manifest["cpu_seconds"] > 0
    assert (
        manifest["tokens_seen"] > 0
        and manifest["peak_rss_mb"] > 100
        and manifest["final_loss"] is not None
    )
    assert not checkpoints.exists()  # a finished run leaves no stale checkpoints behind

    adapter = tiny_project.adapters_dir / "qa"
    assert (adapter / "adapter_config.json").is_file() and (
        adapter / "adapter_model.safetensors"
    ).is_file()
    assert tiny_project.available_adapters() == {"qa": str(adapter)}
    assert [m.mode for m in list_adapters(tiny_project.adapters_dir)] == ["qa"]
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == tiny_project.config.tune.lora_rank
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ragtune.cli.main",
            "adapters",
            "list",
            "-p",
            str(tiny_project.root),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(listed.stdout)[0]["steps"] == planned
    Path(adapter).exists()
