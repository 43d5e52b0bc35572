"""``evaluate``: every arm on the same questions, scored, timed, written as one run file.

    from ragtune import Project
    from ragtune.evaluate import evaluate

    project = Project.open("acme-kb")
    run, path = evaluate(project, arms=["base", "rag"], max_questions=60)
    run.arms["rag"].accuracy["contains"]        # Interval(mean=.., low=.., high=.., n=60)
    run.comparisons                              # paired differences, .called when CI excludes 0

An arm that cannot be built (no adapter yet) is recorded as skipped with the reason;
the others still run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import RagtuneError
from ragtune.evaluate.aggregate import compare_arms, summarize_accuracy, summarize_speed
from ragtune.evaluate.costs import one_off_costs
from ragtune.evaluate.questions import check_unique_ids, load_questions, select_questions, split_of
from ragtune.evaluate.records import (
    EvalRun,
    QuestionRecord,
    environment,
    new_run_id,
    utc_now,
    write_run,
)
from ragtune.evaluate.resources import PeakMemory, Stopwatch
from ragtune.evaluate.results import ArmSummary, Comparison, OneOffCosts
from ragtune.evaluate.scoring import add_semantic_similarity, score
from ragtune.progress import Progress
from ragtune.synth import files
from ragtune.tune.manifest import MANIFEST_FILE
from ragtune.types import QAExample

if TYPE_CHECKING:
    from ragtune.project import Project


@dataclass
class ArmResult:
    """One arm's pass over the questions (or why it was skipped)."""

    arm: str
    status: str = "ok"
    reason: str = ""
    records: list[QuestionRecord] = field(default_factory=list)
    probe_seconds: list[dict[str, float]] = field(default_factory=list)
    peak_rss_bytes: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def run_arm(
    project: Project,
    arm: str,
    questions: Sequence[QAExample],
    progress: Progress | None = None,
    latency_probe: int = 0,
    seed: int = 0,
    label: str | None = None,
) -> ArmResult:
    """Answer ``questions`` with ``arm`` in generator-sized batches; score every answer.

    ``latency_probe`` more questions (the first ones again) are answered one at a time,
    so latency is also measured as a single user would see it, not only in batches.
    """
    from ragtune.registry import arms
    from ragtune.systems import build_system

    progress = progress or Progress()
    try:
        system = build_system(project, arm)
    except RagtuneError as exc:
        return ArmResult(arm, status="skipped", reason=str(exc))
    result = ArmResult(arm)
    batch = max(1, project.config.llm.batch_size)
    k = project.config.retrieve.top_k
    retrieves = arms.get(arm).retrieves
    with PeakMemory() as peak, Stopwatch() as watch:
        with progress.task(label or f"eval {arm}", total=len(questions), unit="q") as advance:
            for start in range(0, len(questions), batch):
                group = questions[start : start + batch]
                answers = system.answer_batch([q.question for q in group])
                for example, answer in zip(group, answers, strict=True):
                    record = score(example, answer, k, split=split_of(example), retrieves=retrieves)
                    record.seed = seed
                    result.records.append(record)
                advance(len(group))
        for example in questions[:latency_probe]:
            started = time.perf_counter()
            answer = system.answer(example.question)
            result.probe_seconds.append(
                {
                    "retrieve": answer.timings.get("retrieve", 0.0),
                    "generate": answer.timings.get("generate", 0.0),
                    "total": time.perf_counter() - started,
                }
            )
    result.peak_rss_bytes, result.seconds, result.cpu_seconds = (
        peak.bytes,
        watch.seconds,
        watch.cpu_seconds,
    )
    return result


def summarize_result(result: ArmResult, samples: int, seed: int = 0) -> ArmSummary:
    """The ``arms[arm]`` entry of a run file."""
    if result.status != "ok":
        return ArmSummary(status=result.status, reason=result.reason)
    rows = [r.to_dict() for r in result.records]
    probe = [{"latency": p} for p in result.probe_seconds]
    speed = summarize_speed(rows, probe, result.peak_rss_bytes, result.seconds)
    speed["cpu_seconds"] = result.cpu_seconds
    speed["single_latency_s"] = [round(p["total"], 4) for p in result.probe_seconds]
    from ragtune.registry import arms

    return ArmSummary.model_validate(
        {
            "status": "ok",
            "spec": arms.get(result.arm).to_dict(),
            **summarize_accuracy(rows, samples, seed),
            "speed": speed,
        }
    )


def judge_config(project: Project) -> dict[str, Any] | None:
    config = project.config.eval
    if not config.judge:
        return None
    return {
        "backend": config.judge,
        "model": config.judge_model or "default",
        "base_url": config.judge_base_url,
    }


def evaluate(
    project: Project,
    arms: Sequence[str] | None = None,
    qa_path: Path | str | None = None,
    questions: Sequence[QAExample] | None = None,
    max_questions: int | None = None,
    progress: Progress | None = None,
    write: bool = True,
    notes: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> tuple[EvalRun, Path | None]:
    """Run ``arms`` (default ``eval.arms``) on the same questions; return the run and its file.

    Questions: ``questions`` if given, else ``qa_path`` (a user's JSONL/CSV), else the
    project's held-out split. ``max_questions`` (default ``eval.max_questions``) draws a
    stratified, seeded subset so that every arm answers exactly the same ones.
    """
    from ragtune.registry import arms as registered

    settings = project.config.eval
    arms = registered.check(arms or settings.arms)
    progress = progress or Progress()
    started = time.perf_counter()
    if questions is None:
        rows, source = load_questions(project, qa_path)
    else:
        rows, source = list(questions), {"source": "given"}
    check_unique_ids(rows)
    limit = max_questions or settings.max_questions
    selected = select_questions(rows, limit, seed=settings.seed)
    source.update(n_available=len(rows), n_questions=len(selected))
    progress.log(f"Evaluating {', '.join(arms)} on {len(selected)} questions ({source['source']})")

    results = [
        run_arm(project, arm, selected, progress, latency_probe=settings.latency_probe)
        for arm in arms
    ]
    records = [r for result in results for r in result.records]
    semantic = add_semantic_similarity(records, project.embedder) if records else 0
    judge = judge_config(project)
    if judge is not None and records:
        from ragtune.evaluate.judge import judge_records

        judge.update(judge_records(records, project.config.eval, progress))

    samples = settings.bootstrap_samples
    run = EvalRun(
        run_id=new_run_id("eval"),
        created=utc_now(),
        environment=environment(),
        config=project.config.model_dump(),
        data={
            "questions": source,
            "semantic_scored": semantic,
            "judge": judge,
            "project": str(project.root),
            "generator": getattr(project.loaded_generator, "name", project.config.llm.model),
            "manifests": _manifests(project),
        },
        costs=OneOffCosts.model_validate(one_off_costs(project)),
        notes=list(notes),
    )
    by_arm = {}
    for result in results:
        run.arms[result.arm] = summarize_result(result, samples)
        if result.status == "ok":
            by_arm[result.arm] = [r.to_dict() for r in result.records]
        else:
            progress.log(f"skipped {result.arm}: {result.reason}")
    run.records = [row for rows in by_arm.values() for row in rows]
    run.comparisons = [Comparison.model_validate(c) for c in compare_arms(by_arm, samples=samples)]
    run.data.update(extra or {})
    run.seconds = round(time.perf_counter() - started, 3)
    path = write_run(project.runs_dir, run) if write else None
    return run, path


def _manifests(project: Project) -> dict[str, Any]:
    """The data and adapter manifests the arms were built from, verbatim."""
    import json

    out: dict[str, Any] = {}
    data_manifest = project.data_dir / files.MANIFEST
    if data_manifest.is_file():
        out["data"] = json.loads(data_manifest.read_text(encoding="utf-8"))
    for name, folder in project.available_adapters().items():
        manifest = Path(folder) / MANIFEST_FILE
        if manifest.is_file():
            loaded = json.loads(manifest.read_text(encoding="utf-8"))
            loaded.pop("loss_history", None)
            out[f"adapter:{name}"] = loaded
    return out
