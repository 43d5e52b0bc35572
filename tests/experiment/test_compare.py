"""``compare`` with training seeds: fine-tuned arms repeated, spread recorded, adapters restored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ragtune.evaluate import load_run
from ragtune.experiment import compare as compare_module
from ragtune.experiment.compare import compare
from ragtune.project import Project


def test_seeds_repeat_fine_tuned_arms(
    two_version_project: tuple[Project, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _ = two_version_project
    generator = project.generator
    trained: list[tuple[str, int]] = []

    def fake_train(
        project: Project, mode: str, progress: Any = None, **overrides: Any
    ) -> dict[str, Any]:
        trained.append((mode, overrides["seed"]))
        (project.adapters_dir / mode / "adapter_config.json").write_text(
            json.dumps({"seed": overrides["seed"]})
        )
        # Another seed "remembers" fewer facts.
        generator.memory = {k: v for k, v in generator.memory.items() if "P0" not in k}
        return {}

    monkeypatch.setattr(compare_module, "train_adapter", fake_train)
    monkeypatch.setattr(compare_module, "training_available", lambda: None)
    monkeypatch.setattr(compare_module, "reload_generator", lambda project: None)
    probes: list[int | None] = []
    real_evaluate = compare_module.evaluate

    def evaluate(*args: Any, **kwargs: Any) -> Any:
        run, path = real_evaluate(*args, **kwargs)
        probes.append(kwargs.get("latency_probe"))
        assert {a.speed.single_latency_ms is not None for a in run.arms.values()} == {
            probes[-1] != 0
        }
        return run, path

    monkeypatch.setattr(compare_module, "evaluate", evaluate)
    run, path = compare(project, ["base", "ft"], seeds=2)
    assert trained == [("qa", 1)]
    # The repeat answers no one-at-a-time latency probe: latency is the first seed's.
    assert probes == [None, 0] and run.arms["ft"].speed.single_latency_ms is not None
    spread = run.arms["ft"].seeds
    assert spread.seeds == [0, 1] and spread.values[0] > spread.values[1] and spread.std > 0
    assert run.arms["base"].seeds is None
    # The headline accuracy is the mean over seeds, its interval a bootstrap over both.
    accuracy = run.arms["ft"].accuracy["contains"]
    assert accuracy.mean == pytest.approx(sum(spread.values) / 2, abs=1e-3)
    assert accuracy.low <= spread.values[1] < spread.values[0] <= accuracy.high
    assert any("bootstrap over questions and seeds" in note for note in run.notes)
    assert path is not None and load_run(path).arms["ft"].seeds == spread
    # The project's own adapter is back.
    assert (project.adapters_dir / "qa" / "adapter_config.json").read_text() == "{}"


def test_seeds_without_fine_tuned_arms_are_noted(two_version_project: tuple[Project, Path]) -> None:
    project, _ = two_version_project
    run, _ = compare(project, ["base", "rag"], seeds=3)
    assert any("--seeds 3 not applied" in note for note in run.notes)
