"""The parts of tuning that need no model: batch shapes, data rows, checkpoints, manifests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.config import TuneConfig
from ragtune.errors import DataError
from ragtune.tune.data import split_prompt_completion
from ragtune.tune.manifest import AdapterManifest, list_adapters, read_manifest


def test_batch_shape_packs_short_rows_and_accumulates_long_ones() -> None:
    from ragtune.tune.trainer import batch_shape

    assert batch_shape(TuneConfig(batch_size=16), [60] * 300, 8192) == (960, 1, 1)
    assert batch_shape(TuneConfig(batch_size=16), [700] * 300, 8192) == (1024, 1, 11)
    # The longest example always fits whole: its answer is never truncated away.
    assert batch_shape(TuneConfig(batch_size=2, max_seq_tokens=256), [60, 1500], 8192)[0] == 1536
    assert batch_shape(TuneConfig(batch_size=8, packing=False), [60] * 10, 8192) == (1024, 8, 1)


def test_prompt_completion_rows() -> None:
    row = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a"},
        ]
    }
    out = split_prompt_completion(row)
    assert [m["role"] for m in out["prompt"]] == ["system", "user"] and out["completion"][0][
        "content"
    ] == "a"
    with pytest.raises(DataError):
        split_prompt_completion({"messages": [{"role": "user", "content": "q"}]})


def test_last_complete_checkpoint_skips_half_written_ones(tmp_path: Path) -> None:
    from ragtune.tune.trainer import last_complete_checkpoint

    for step, complete in ((2, True), (4, True), (6, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "trainer_state.json").write_text("{}")
        if complete:
            (folder / "ragtune_cost.json").write_text("{}")
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert last_complete_checkpoint(tmp_path / "nope") is None


def test_manifests_list_and_hand_copied_adapters(tmp_path: Path) -> None:
    qa = tmp_path / "qa"
    qa.mkdir()
    (qa / "adapter_config.json").write_text("{}")
    AdapterManifest("qa", "lora", "base", str(qa), 10, 3.0, 20, 1234, 5.0, 9.0, 800.0, 0.5).write(
        qa
    )
    other = tmp_path / "theirs"
    other.mkdir()
    (other / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": "m"})
    )
    (tmp_path / ".checkpoints").mkdir()
    listed = list_adapters(tmp_path)
    assert [(m.mode, m.method, m.steps) for m in listed] == [
        ("qa", "lora", 10),
        ("theirs", "lora", 0),
    ]
    assert read_manifest(qa) == listed[0]


def test_importing_synth_and_tune_does_not_import_torch() -> None:
    code = (
        "import sys, ragtune.synth, ragtune.tune, ragtune.cli.main; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_bad_mode_and_overrides_are_config_errors(tmp_path: Path) -> None:
    from ragtune.errors import ConfigError
    from ragtune.project import Project
    from ragtune.tune import train

    project = Project.init(tmp_path / "p", {"embed": {"backend": "hash"}})
    with pytest.raises(ConfigError, match="unknown tuning mode 'chat'"):
        train(project, "chat")
    with pytest.raises(ConfigError, match=r"tune\.lora_rnak"):
        train(project, "qa", lora_rnak=8)
    with pytest.raises(ConfigError, match=r"tune\.epochs"):
        train(project, "qa", epochs=-1)
