"""``ragtune compare`` on a small folder of a team's own kind of documents (settings and
their defaults), with test doubles through the registry: every stage runs, a re-run
redoes only what changed, ``--from`` forces a stage, a real SIGKILL in any stage
resumes, and bad input is one line naming the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import CONFIG_FILE
from ragtune.errors import DataError, RagtuneError
from ragtune.pipeline import CompareOptions, run_compare
from ragtune.project import Project

SETTINGS: dict[str, Any] = {
    "embed": {"backend": "hash"},
    "llm": {"backend": "scripted"},
    "corpus": {"tokenizer": "words", "chunk_size_tokens": 64, "chunk_overlap_tokens": 8},
    "eval": {"arms": ["base", "rag"], "bootstrap_samples": 200, "latency_probe": 0},
}
SET = [
    "--set",
    "embed.backend=hash",
    "--set",
    "llm.backend=scripted",
    "--set",
    "corpus.tokenizer=words",
    "--set",
    'eval.arms=["base","rag"]',
]
OPTIONS = ("cache_size", "timeout", "max_workers", "retry_limit")


def write_manual(folder: Path, version: int = 1) -> None:
    """Four pages of a fictional server's manual; version 2 changes two defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, option in enumerate(OPTIONS):
        default = (i + 1) * 16 + (100 if version == 2 and i < 2 else 0)
        (folder / f"{option}.md").write_text(
            f"# The {option} setting\n\n"
            f"The `{option}` setting defaults to {default}. "
            f"It was introduced in version {i + 2}.{i}.\n\n"
            f"Raise `{option}` when the server is busy; lower it on small machines.\n"
        )


def stages(result: Any) -> dict[str, str]:
    return {s["stage"]: s["status"] for s in result.stages}


@pytest.fixture
def manual(tmp_path: Path) -> tuple[Path, Path]:
    write_manual(tmp_path / "v1", 1)
    write_manual(tmp_path / "v2", 2)
    return tmp_path / "v1", tmp_path / "v2"


def test_every_stage_then_only_what_changed(tmp_path: Path, manual: tuple[Path, Path]) -> None:
    v1, v2 = manual
    project = Project.init(tmp_path / "proj", SETTINGS)
    options = CompareOptions([v1], update=[v2], max_questions=12)
    first = run_compare(project, options)
    assert stages(first) == {
        "ingest": "ran",
        "questions": "ran",
        "train qa": "skipped",
        "train raft": "skipped",
        "evaluate": "ran",
        "freshness": "ran",
        "report": "ran",
    }
    assert first.report_html is not None and first.report_html.is_file()
    assert set(first.accuracy) == {"base", "rag"} and first.recommendation in ("base", "rag")
    assert first.freshness_run is not None and first.eval_run is not None
    changes = (project.state_dir / "stages" / "changes.jsonl").read_text().splitlines()
    found = {tuple(json.loads(line)["new_answers"]) for line in changes}
    assert {("116",), ("132",)} <= found  # both changed defaults, found by diffing v1 and v2
    # After the freshness test the project is back on the compared documents.
    texts = {d.id: d.text for d in project.store.iter_documents()}
    assert "defaults to 16." in texts["cache_size.md"]

    again = run_compare(project, options)
    assert stages(again)["questions"] == stages(again)["evaluate"] == "cached"
    assert stages(again)["freshness"] == "cached" and again.eval_run == first.eval_run

    page = v1 / "timeout.md"
    page.write_text(page.read_text().replace("introduced in version 3.1", "introduced in 3.9"))
    edited = run_compare(project, options)
    assert stages(edited)["questions"] == stages(edited)["evaluate"] == "ran"
    assert edited.eval_run != first.eval_run

    forced = run_compare(
        project, CompareOptions([v1], update=[v2], max_questions=12, from_stage="evaluate")
    )
    assert stages(forced)["questions"] == "cached" and stages(forced)["evaluate"] == "ran"


def run_cli(
    args: list[str], cwd: Path, kill_in: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if kill_in:
        env["RAGTUNE_TEST_KILL_IN"] = kill_in
    return subprocess.run(
        [sys.executable, "-m", "tests.pipeline.killer", *args],
        cwd=Path(__file__).parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("stage", ["questions", "evaluate", "freshness"])
def test_a_killed_run_resumes(tmp_path: Path, manual: tuple[Path, Path], stage: str) -> None:
    v1, v2 = manual
    proj = tmp_path / "proj"
    args = ["compare", str(v1), "--update", str(v2), "-p", str(proj), "-n", "12", *SET, "--json"]
    killed = run_cli(args, tmp_path, kill_in=stage)
    assert killed.returncode == -9, killed.stderr  # a real SIGKILL, inside the stage
    assert (proj / CONFIG_FILE).is_file()
    resumed = run_cli(args, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    status = {s["stage"]: s["status"] for s in summary["stages"]}
    order = ["questions", "evaluate", "freshness"]
    for before in order[: order.index(stage)]:
        assert status[before] == "cached"  # finished stages are not redone
    assert status[stage] == "ran" and Path(summary["report"]).is_file()


def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, manual: tuple[Path, Path]) -> None:
    v1, _ = manual
    empty = tmp_path / "empty"
    empty.mkdir()
    project = Project.init(tmp_path / "proj", SETTINGS)
    with pytest.raises(DataError, match=r"no usable text in .*empty"):
        run_compare(project, CompareOptions([empty]))
    broken = tmp_path / "qa.jsonl"
    broken.write_text('{"question": "What does cache_size default to?", "answer": "16"}\n{oops\n')
    with pytest.raises(RagtuneError, match=r"qa\.jsonl:2"):
        run_compare(project, CompareOptions([v1], qa=broken))
    with pytest.raises(RagtuneError, match="--from 'evalute': choose one of"):
        run_compare(project, CompareOptions([v1], from_stage="evalute"))
    # Nothing computed before the bad input was lost: the index is still there.
    assert project.store.stats()["documents"] == len(OPTIONS)


def test_an_edit_without_facts_leaves_the_training_rows_and_their_key(
    tmp_path: Path, manual: tuple[Path, Path]
) -> None:
    """Each adapter's training is keyed by its own rows: a sentence with no fact added
    to a page re-synthesizes, but the closed-book training rows come out the same."""
    from ragtune.pipeline.compare import ComparePipeline
    from ragtune.progress import Progress
    from ragtune.synth import files

    v1, _ = manual
    project = Project.init(tmp_path / "proj", SETTINGS)

    def data_files() -> dict[str, str]:
        pipeline = ComparePipeline(project, CompareOptions([v1]), Progress(), lambda m: None)
        pipeline.ingest()
        pipeline.questions()
        return pipeline.data_files

    before = data_files()
    page = v1 / "timeout.md"
    page.write_text(page.read_text() + "\nSee the operations guide for more.\n")
    after = data_files()
    assert after[files.QA_SFT] == before[files.QA_SFT]


def test_a_run_killed_on_vllm_leaves_no_server_and_resumes(
    tmp_path: Path, manual: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--engine vllm`` starts a server for the run; a SIGKILL of the run ends that
    server too (it would otherwise hold its gigabytes), and the resumed run starts its
    own, answers through it, and stops it."""
    import time

    from ragtune.evaluate.records import load_eval_run
    from ragtune.llm import vllm_engine
    from ragtune.testing.fake_vllm import make_fake_venv

    v1, v2 = manual
    make_fake_venv(tmp_path / "cache" / "vllm-venv")
    monkeypatch.setenv("RAGTUNE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "model").mkdir()
    proj = tmp_path / "proj"
    args = ["compare", str(v1), "--update", str(v2), "-p", str(proj), "-n", "12", *SET]
    args += ["--set", f"llm.model={tmp_path / 'model'}", "--engine", "vllm", "--json"]
    killed = run_cli(args, tmp_path, kill_in="evaluate")
    assert killed.returncode == -9, killed.stderr
    state = vllm_engine.EngineState.read(vllm_engine.state_path(proj / ".ragtune"))
    assert state is not None  # the killed run had started a server
    deadline = time.monotonic() + 60  # a bound on waiting for the exit, not a measurement
    while vllm_engine.pid_alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not vllm_engine.pid_alive(state.pid)

    resumed = run_cli(args, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    status = {s["stage"]: s["status"] for s in summary["stages"]}
    assert status["questions"] == "cached" and status["evaluate"] == "ran"
    run = load_eval_run(Path(summary["eval_run"]))
    assert all(r["prediction"].startswith(f"[{tmp_path / 'model'}]") for r in run.records)
    assert vllm_engine.running(proj / ".ragtune") is None
    # A server on another port serves the same model: nothing is redone.
    again = json.loads(run_cli(args, tmp_path).stdout)
    assert {s["stage"]: s["status"] for s in again["stages"]}["evaluate"] == "cached"


@pytest.fixture
def answer_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake clock for the plan's probe: the generator's first call costs 100 s (loading
    it), every later one 1 s."""
    from ragtune.pipeline import compare as pipeline_module
    from ragtune.testing.scripted_generator import ScriptedGenerator

    clock = {"now": 0.0, "calls": 0}
    real_generate = ScriptedGenerator.generate

    def generate(self: ScriptedGenerator, *args: Any, **kwargs: Any) -> Any:
        clock["now"] += 100.0 if clock["calls"] == 0 else 1.0
        clock["calls"] += 1
        return real_generate(self, *args, **kwargs)

    monkeypatch.setattr(ScriptedGenerator, "generate", generate)
    monkeypatch.setattr(pipeline_module.time, "perf_counter", lambda: clock["now"])


def test_the_plans_probe_times_an_answer_not_the_model_load(
    tmp_path: Path, manual: tuple[Path, Path], answer_clock: None
) -> None:
    """The first call of a generator pays for loading it; the plan's per-answer probe
    must not (it once read 10.2 s for a 1.2 s answer and planned 70.9 min for 6.6)."""
    from ragtune.pipeline.compare import ComparePipeline
    from ragtune.progress import Progress

    v1, _ = manual
    said: list[str] = []
    project = Project.init(tmp_path / "proj", SETTINGS)
    pipeline = ComparePipeline(project, CompareOptions([v1]), Progress(), said.append)
    pipeline.ingest()
    pipeline.plan()
    assert any("generator probe 1.0 s per answer" in line for line in said), said


def test_the_plan_counts_what_the_run_will_do(
    tmp_path: Path, manual: tuple[Path, Path], answer_clock: None
) -> None:
    """The plan comes after the questions stage and reads what the run will do: each
    adapter's training rows, the update's changed facts, and, as an upper bound, the
    retraining of every adapter a full run may do after it (the stage once held only the
    answers, half the real stage on Hatch, where both adapters were retrained)."""
    from ragtune.pipeline.compare import ComparePipeline
    from ragtune.pipeline.plan import BATCHED_CLOSED_BOOK, BATCHED_WITH_PASSAGES
    from ragtune.progress import Progress

    v1, v2 = manual
    arms = {**SETTINGS["eval"], "arms": ["base", "rag", "ft", "raft"]}
    project = Project.init(tmp_path / "proj", {**SETTINGS, "eval": arms})

    def estimates(retrain: bool) -> Any:
        options = CompareOptions([v1], update=[v2], retrain=retrain)
        said: list[str] = []
        pipeline = ComparePipeline(project, options, Progress(), said.append)
        pipeline.ingest()
        pipeline.questions()
        pipeline.plan()
        assert any(" qa rows, " in line and "2 changed facts" in line for line in said), said
        return pipeline.estimates()

    retrained, kept = estimates(True), estimates(False)
    assert retrained.changed_facts == kept.changed_facts == 2
    seconds = retrained.seconds
    # RAFT rows carry their passages: the same questions cost more to train on.
    assert 0 < seconds["train qa"] < seconds["train raft"]
    # Retraining: both adapters, then ft (closed-book) and raft asked the 2 changed-fact
    # questions and 30 unchanged controls again (1 s probes).
    extra = seconds["freshness"] - kept.seconds["freshness"]
    training = seconds["train qa"] + seconds["train raft"]
    assert extra == pytest.approx(training + 32 * (BATCHED_CLOSED_BOOK + BATCHED_WITH_PASSAGES))


def test_a_long_full_plan_says_how_to_run_a_shorter_one(
    tmp_path: Path, manual: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragtune.pipeline.compare import ComparePipeline
    from ragtune.pipeline.plan import PlanEstimate
    from ragtune.progress import Progress

    v1, _ = manual
    project = Project.init(tmp_path / "proj", SETTINGS)
    hint = "A long plan for this machine: --quick"
    for quick, hours, shown in ((False, 0.1, False), (False, 2.0, True), (True, 2.0, False)):
        said: list[str] = []
        pipeline = ComparePipeline(
            project, CompareOptions([v1], quick=quick), Progress(), said.append
        )
        estimate = PlanEstimate(4, 1.0, {"evaluate": hours * 3600})
        monkeypatch.setattr(pipeline, "estimates", lambda e=estimate: e)
        pipeline.plan()
        assert any(hint in line for line in said) == shown, (quick, hours)
