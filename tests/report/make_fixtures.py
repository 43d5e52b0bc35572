"""Regenerate the report fixtures: ``python -m tests.report.make_fixtures``.

An eval run of all five arms and a freshness run on the tiny two-version project, with
the scripted test doubles (the ``qa`` adapter "remembers" version-1 facts, so ``ft`` is
right on trained facts and stale after the update). Timings are real but tiny.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from ragtune.evaluate import evaluate
from ragtune.experiment.freshness import run_freshness
from ragtune.project import Project
from tests.evaluate.conftest import SCRIPTED, tiny_questions, write_tiny_docs
from tests.experiment.conftest import MemorizingGenerator, fake_adapter, memory_for, write_changes

FIXTURES = Path(__file__).parent / "fixtures"


def build(root: Path) -> tuple[Path, Path]:
    write_tiny_docs(root / "v1" / "docs", version=1)
    write_tiny_docs(root / "v2" / "docs", version=2)
    write_changes(root / "v2" / "changes.jsonl")
    project = Project.init(root / "proj", SCRIPTED)
    project.ingest([root / "v1" / "docs"])
    rows = tiny_questions()
    (project.data_dir / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    trained = [r for r in rows if r["meta"]["split"] == "unseen_phrasing"]  # type: ignore[index]
    (project.data_dir / "train_qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in trained))
    for name in ("qa", "raft"):
        fake_adapter(project, name)
    memory = {k: v for k, v in memory_for(1).items() if not k.startswith(("P4", "P5"))}
    project.generator = MemorizingGenerator(memory)
    _, eval_path = evaluate(project)
    _, fresh_path = run_freshness(project, root / "v2", retrain_arms=False)
    assert eval_path is not None and fresh_path is not None
    return eval_path, fresh_path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        eval_path, fresh_path = build(Path(tmp))
        FIXTURES.mkdir(exist_ok=True)
        shutil.copy(eval_path, FIXTURES / "eval_run.json")
        shutil.copy(fresh_path, FIXTURES / "freshness_run.json")
    print(f"wrote {FIXTURES}/eval_run.json and freshness_run.json")


if __name__ == "__main__":
    main()
