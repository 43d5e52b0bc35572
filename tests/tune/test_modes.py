"""The other modes and outputs on the real model: continued pre-training on the indexed
documents, full fine-tuning, and a merged model folder. Tiny data, one or two steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.project import Project

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_continued_pretraining_on_documents(tmp_path: Path) -> None:
    from ragtune.tune import train
    from tests.tune.conftest import default_model_or_skip

    default_model_or_skip()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Zorvex\nThe Zorvex panel is teal and weighs 3.2 kg. " * 20)
    (docs / "b.md").write_text(
        "# Quillmark\nQuillmark Labs was founded by Odette Raskin in 2011. " * 20
    )
    project = Project.init(tmp_path / "proj", {"embed": {"backend": "hash"}})
    project.ingest([docs])
    manifest = train(project, "continued", max_steps=2, batch_size=1, max_seq_tokens=128)
    assert manifest.steps == 2 and manifest.data["kind"] == "language-modeling"
    assert manifest.data["manifest"]["documents"] == 2
    assert (project.adapters_dir / "continued" / "adapter_model.safetensors").is_file()


def test_merge_writes_a_plain_model_folder(tiny_project: Project) -> None:
    from ragtune.tune import merge_adapter, train

    train(tiny_project, "qa", max_steps=1, batch_size=2)
    merged = merge_adapter(tiny_project, "qa")
    assert (merged / "config.json").is_file() and (merged / "model.safetensors").is_file()
    assert not (merged / "adapter_config.json").exists()
    assert json.loads((merged / "ragtune_manifest.json").read_text())["merged_path"] == str(merged)
    assert set(tiny_project.available_adapters()) == {"qa"}  # the merged folder is not an adapter
