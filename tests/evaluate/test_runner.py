"""``evaluate`` on a tiny project with test doubles: arms, records, run file, QA files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ragtune.errors import ConfigError, DataError
from ragtune.evaluate import evaluate, latest_run, list_runs, load_run
from ragtune.project import Project


@pytest.fixture(scope="module")
def run_and_path(tiny_project: Project):  # type: ignore[no-untyped-def]
    return evaluate(tiny_project, arms=["base", "rag", "ft"])


def test_rag_beats_base_and_the_difference_is_called(run_and_path) -> None:  # type: ignore[no-untyped-def]
    run, _ = run_and_path
    rag, base = run.arms["rag"].accuracy["contains"], run.arms["base"].accuracy["contains"]
    assert base.mean == 0.0 and rag.mean > 0.3
    assert rag.low <= rag.mean <= rag.high and rag.n == 12
    diff = run.comparison("rag", "base")
    assert diff is not None and diff.called and diff.mean > 0


def test_missing_adapter_arm_is_skipped_with_the_reason(run_and_path) -> None:  # type: ignore[no-untyped-def]
    run, _ = run_and_path
    assert run.arms["ft"].status == "skipped" and "ragtune tune --mode qa" in run.arms["ft"].reason
    assert run.ok_arms == ["base", "rag"]
    assert not run.arm_records("ft")


def test_records_have_retrieval_groundedness_and_timings(run_and_path) -> None:  # type: ignore[no-untyped-def]
    run, _ = run_and_path
    rag = run.arm_records("rag")
    assert len(rag) == 12 and all(r["retrieved"] for r in rag)
    assert all(r["retrieval"]["recall@4"] == 1.0 for r in rag)
    assert all(r["grounded"] is not None and r["cited"] for r in rag)
    assert all(set(r["latency"]) == {"retrieve", "generate", "total"} for r in rag)
    base = run.arm_records("base")
    assert all(r["grounded"] is None and not r["retrieved"] for r in base)
    summary = run.arms["rag"]
    assert set(summary.retrieval) >= {"recall@4", "mrr", "ndcg@10", "answer@k"}
    assert summary.groundedness.mean == 1.0
    assert summary.speed.single_latency_ms.total.p95 >= 0
    assert summary.speed.peak_rss_bytes > 0
    assert set(summary.by_split) == {"unseen_fact", "unseen_phrasing"}


def test_run_file_is_self_describing(run_and_path, tiny_project: Project) -> None:  # type: ignore[no-untyped-def]
    _, path = run_and_path
    assert path is not None and path.parent == tiny_project.runs_dir
    loaded = load_run(path)
    assert loaded.to_dict() == json.loads(path.read_text())
    assert loaded.environment["versions"]["ragtune"] and loaded.environment["machine"]["cpu_count"]
    assert loaded.config["llm"]["backend"] == "scripted"
    assert (
        loaded.data["questions"]["source"] == "heldout"
        and loaded.data["questions"]["n_questions"] == 12
    )
    assert loaded.costs.index.chunks == 6
    assert path in list_runs(tiny_project.runs_dir, "eval")
    latest = latest_run(tiny_project.runs_dir, "eval")
    assert latest is not None and latest.run_id == loaded.run_id


def test_max_questions_is_stratified(tiny_project: Project) -> None:
    run, _ = evaluate(tiny_project, arms=["base"], max_questions=5, write=False)
    splits = [r["split"] for r in run.records]
    assert len(splits) == 5 and set(splits) == {"unseen_fact", "unseen_phrasing"}


def test_unknown_arm_is_a_config_error(tiny_project: Project) -> None:
    with pytest.raises(ConfigError, match="unknown arm"):
        evaluate(tiny_project, arms=["gpt"], write=False)


def test_no_heldout_says_what_to_do(tmp_path: Path) -> None:
    project = Project.init(
        tmp_path / "empty", {"embed": {"backend": "hash"}, "llm": {"backend": "scripted"}}
    )
    with pytest.raises(DataError, match="ragtune synth"):
        evaluate(project, arms=["base"], write=False)


def _user_rows() -> list[dict[str, str]]:
    return [
        {"question": "Where is the P2 router assembled?", "answer": "Perth", "doc_ids": "p2.md"},
        {"question": "Where is the P3 router assembled?", "answer": "Quito", "doc_ids": "p3.md"},
        {"question": "How heavy is the P1?", "answer": "17 kilograms", "doc_ids": "p1.md"},
    ]


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_users_qa_file(tiny_project: Project, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"ours.{suffix}"
    rows = _user_rows()
    if suffix == "jsonl":
        path.write_text("".join(json.dumps({**r, "doc_ids": [r["doc_ids"]]}) + "\n" for r in rows))
    else:
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["question", "answer", "doc_ids"])
            writer.writeheader()
            writer.writerows(rows)
    run, _ = evaluate(tiny_project, arms=["base", "rag"], qa_path=path, write=False)
    assert (
        run.data["questions"]["source"] == "qa-file" and run.data["questions"]["n_questions"] == 3
    )
    rag = run.arm_records("rag")
    assert [r["doc_ids"] for r in rag] == [["p2.md"], ["p3.md"], ["p1.md"]]
    assert run.arms["rag"].accuracy["contains"].mean > run.arms["base"].accuracy["contains"].mean
