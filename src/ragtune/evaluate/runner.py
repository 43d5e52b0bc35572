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

import contextlib
import time
from collections.abc import Mapping, Sequence
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
from ragtune.evaluate.results import ArmSummary, OneOffCosts
from ragtune.evaluate.scoring import add_semantic_similarity, score
from ragtune.llm.answer_cache import CachedGenerator
from ragtune.machine import LoadMeter
from ragtune.progress import Progress
from ragtune.synth import files
from ragtune.tune.manifest import MANIFEST_FILE
from ragtune.types import QAExample

if TYPE_CHECKING:
    from ragtune.config import EvalConfig
    from ragtune.embed.base import Embedder
    from ragtune.llm.base import Generator
    from ragtune.project import Project
    from ragtune.systems.base import System


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
    load: dict[str, Any] = field(default_factory=dict)
    # Answers read back from the answer cache (their latency is as first measured), and
    # whether the arm's probe and load were too (every answer was an earlier run's).
    reused_answers: int = 0
    latency_reused: bool = False


def run_arm(
    project: Project,
    arm: str,
    questions: Sequence[QAExample],
    progress: Progress | None = None,
    latency_probe: int = 0,
    seed: int = 0,
    label: str | None = None,
) -> ArmResult:
    """``arm`` built over ``project`` and run by :func:`run_system`; skipped (with the
    reason) when it cannot be built, e.g. its adapter is not trained yet."""
    from ragtune.systems import build_system

    try:
        generator = project.evaluation_generator()
        system = build_system(project, arm, generator)
    except RagtuneError as exc:
        return ArmResult(arm, status="skipped", reason=str(exc))
    return run_system(
        system,
        arm,
        questions,
        batch_size=project.config.llm.batch_size,
        top_k=project.config.retrieve.top_k,
        progress=progress,
        latency_probe=latency_probe,
        seed=seed,
        label=label,
        generator=generator,
    )


def run_system(
    system: System,
    arm: str,
    questions: Sequence[QAExample],
    *,
    batch_size: int,
    top_k: int,
    progress: Progress | None = None,
    latency_probe: int = 0,
    seed: int = 0,
    label: str | None = None,
    generator: Generator | None = None,
) -> ArmResult:
    """Answer ``questions`` with ``system`` (the registered arm ``arm``) in batches of
    ``batch_size``; score every answer (retrieval at ``top_k`` for retrieving arms).

    ``latency_probe`` more questions (the first ones again) are answered one at a time,
    so latency is also measured as a single user would see it, not only in batches;
    ``generator``, the one ``system`` answers with, when known: the probe runs inside its
    ``uncached()`` so a reused answer never stands in for a measurement, and the answers
    its cache gave back are counted (``reused_answers``). When all of them were, the arm
    is exactly an earlier run's and that run's probe and load are reused with them.
    """
    from ragtune.registry import arms

    progress = progress or Progress()
    result = ArmResult(arm)
    span = generator.span() if isinstance(generator, CachedGenerator) else None
    batch = max(1, batch_size)
    retrieves = arms.get(arm).retrieves
    meter = LoadMeter()
    with PeakMemory() as peak, Stopwatch() as watch:
        with progress.task(label or f"eval {arm}", total=len(questions), unit="q") as advance:
            for start in range(0, len(questions), batch):
                group = questions[start : start + batch]
                answers = system.answer_batch([q.question for q in group])
                for example, answer in zip(group, answers, strict=True):
                    record = score(
                        example, answer, top_k, split=split_of(example), retrieves=retrieves
                    )
                    record.seed = seed
                    result.records.append(record)
                advance(len(group))
                meter.sample()
        result.load = meter.to_dict()
        # Every answer an earlier run's: so are its probe and the load it ran under.
        label = f"{arm} probe {latency_probe}"
        kept = span.measurement(label) if span else None
        if kept is not None:
            result.probe_seconds, result.load = kept["probe_seconds"], kept["load"]
            result.latency_reused = True
        else:
            result.probe_seconds = _probe(system, questions[:latency_probe], generator)
            if span:
                span.keep_measurement(
                    label, {"probe_seconds": result.probe_seconds, "load": result.load}
                )
        result.reused_answers = span.reused if span else 0
    result.peak_rss_bytes, result.seconds, result.cpu_seconds = (
        peak.bytes,
        watch.seconds,
        watch.cpu_seconds,
    )
    return result


def _probe(
    system: System, questions: Sequence[QAExample], generator: Generator | None
) -> list[dict[str, float]]:
    """Each question answered alone, timed (inside the generator's ``uncached()``)."""
    out = []
    with generator.uncached() if generator else contextlib.nullcontext():
        for example in questions:
            started = time.perf_counter()
            answer = system.answer(example.question)
            out.append(
                {
                    "retrieve": answer.timings.get("retrieve", 0.0),
                    "generate": answer.timings.get("generate", 0.0),
                    "total": time.perf_counter() - started,
                }
            )
    return out


def summarize_result(result: ArmResult, samples: int, seed: int = 0) -> ArmSummary:
    """The ``arms[arm]`` entry of a run file."""
    if result.status != "ok":
        return ArmSummary(status=result.status, reason=result.reason)
    rows = [r.to_dict() for r in result.records]
    probe = [{"latency": p} for p in result.probe_seconds]
    speed = summarize_speed(rows, probe, result.peak_rss_bytes, result.seconds)
    speed["cpu_seconds"] = result.cpu_seconds
    speed["load"] = result.load
    speed["reused_answers"] = result.reused_answers
    speed["latency_reused"] = result.latency_reused
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


def judge_settings(config: EvalConfig) -> dict[str, Any] | None:
    """The LLM judge ``config`` names (backend, model, endpoint), or ``None``."""
    if not config.judge:
        return None
    return {
        "backend": config.judge,
        "model": config.judge_model or "default",
        "base_url": config.judge_base_url,
    }


def evaluate_systems(
    systems: Mapping[str, System | str],
    questions: Sequence[QAExample],
    settings: EvalConfig,
    *,
    batch_size: int,
    top_k: int,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    generator: Generator | None = None,
) -> EvalRun:
    """Every system on the same ``questions``: scored records, a summary per arm with
    intervals, paired comparisons. No project needed::

        run = evaluate_systems({"base": ClosedBookSystem(llm), "rag": RAGSystem(retriever, llm)},
                               questions, EvalConfig(), batch_size=16, top_k=4)

    ``systems`` maps a registered arm name to its system, or to the reason it could
    not be built (recorded as skipped). ``embedder`` adds the semantic-similarity score;
    ``generator``, the one the systems share, lets :func:`run_system` probe it uncached.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    results = [
        run_system(
            system,
            arm,
            questions,
            batch_size=batch_size,
            top_k=top_k,
            progress=progress,
            latency_probe=settings.latency_probe,
            generator=generator,
        )
        if not isinstance(system, str)
        else ArmResult(arm, status="skipped", reason=system)
        for arm, system in systems.items()
    ]
    records = [r for result in results for r in result.records]
    semantic = add_semantic_similarity(records, embedder) if records and embedder else 0
    judge = judge_settings(settings)
    if judge is not None and records:
        from ragtune.evaluate.judge import judge_records

        judge.update(judge_records(records, settings, progress))
    samples = settings.bootstrap_samples
    run = EvalRun(
        run_id=new_run_id("eval"),
        created=utc_now(),
        environment=environment(),
        data={"questions": {"n_questions": len(questions)}, "semantic_scored": semantic},
    )
    if judge is not None:
        run.data["judge"] = judge
    by_arm = {}
    for result in results:
        run.arms[result.arm] = summarize_result(result, samples)
        if result.status == "ok":
            by_arm[result.arm] = [r.to_dict() for r in result.records]
        else:
            progress.log(f"skipped {result.arm}: {result.reason}")
    run.records = [row for rows in by_arm.values() for row in rows]
    run.comparisons = compare_arms(by_arm, samples=samples)
    run.seconds = round(time.perf_counter() - started, 3)
    return run


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
    latency_probe: int | None = None,
) -> tuple[EvalRun, Path | None]:
    """Run ``arms`` (default ``eval.arms``) on the same questions; return the run and its file.

    Questions: ``questions`` if given, else ``qa_path`` (a user's JSONL/CSV), else the
    project's held-out split. ``max_questions`` (default ``eval.max_questions``) draws a
    stratified, seeded subset so that every arm answers exactly the same ones. The
    project supplies the inputs of :func:`evaluate_systems` and its folder the records.
    ``latency_probe`` overrides ``eval.latency_probe`` (0: no one-at-a-time answers).
    """
    from ragtune.registry import arms as registered
    from ragtune.systems import build_system

    settings = project.config.eval
    if latency_probe is not None:
        settings = settings.model_copy(update={"latency_probe": latency_probe})
    arms = registered.check(arms or settings.arms)
    progress = progress or Progress()
    if questions is None:
        rows, source = load_questions(project, qa_path)
    else:
        rows, source = list(questions), {"source": "given"}
    check_unique_ids(rows)
    selected = select_questions(rows, max_questions or settings.max_questions, seed=settings.seed)
    source.update(n_available=len(rows), n_questions=len(selected))
    progress.log(f"Evaluating {', '.join(arms)} on {len(selected)} questions ({source['source']})")
    systems: dict[str, System | str] = {}
    try:
        generator: Generator | None = project.evaluation_generator()
    except RagtuneError:
        generator = None  # every arm then records why it could not be built
    for arm in arms:
        try:
            systems[arm] = build_system(project, arm, generator)
        except RagtuneError as exc:
            systems[arm] = str(exc)
    run = evaluate_systems(
        systems,
        selected,
        settings,
        batch_size=project.config.llm.batch_size,
        top_k=project.config.retrieve.top_k,
        embedder=project.embedder,
        progress=progress,
        generator=generator,
    )
    run.config = project.config.model_dump()
    run.data.update(
        questions=source,
        judge=run.data.get("judge"),
        project=str(project.root),
        generator=getattr(project.loaded_generator, "name", project.config.llm.model),
        manifests=_manifests(project),
        **(extra or {}),
    )
    run.costs = OneOffCosts.model_validate(one_off_costs(project))
    run.notes = list(notes)
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
