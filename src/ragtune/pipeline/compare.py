"""``ragtune compare``: the whole comparison on a team's own folder, as cached stages.

    ingest → questions (a QA file, or synthesized from the documents) → train qa →
    train raft → evaluate every arm → freshness (with an update) → recommend + report

Each stage is recorded under ``.ragtune/stages/`` with the key of its inputs (see
:mod:`ragtune.pipeline.stages`); a re-run does only what changed, and a killed run
resumes at the first unfinished stage (training itself resumes from its last complete
checkpoint)::

    from ragtune.pipeline import CompareOptions, run_compare
    result = run_compare(project, CompareOptions([Path("docs")], update=[Path("docs-v2")]))
    result.recommendation, result.report_html, result.summary()
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import DataError, RagtuneError
from ragtune.pipeline import plan as estimate
from ragtune.pipeline.plan import PlanEstimate
from ragtune.pipeline.stages import StageCache, StageRecord, file_fingerprint, fingerprint
from ragtune.progress import Progress
from ragtune.registry import arms as registered_arms

if TYPE_CHECKING:
    from ragtune.project import Project

Say = Callable[[str], None]
STAGES = ("ingest", "questions", "train qa", "train raft", "evaluate", "freshness", "report")


# Past this estimate the plan says how to run a shorter comparison.
LONG_PLAN_S = 40 * 60


@dataclass
class CompareOptions:
    """What to compare on: the documents, an optional QA file and update, the plan size.

    ``quick`` evaluates fewer questions, trains only the ``qa`` adapter (fewer steps),
    trains each adapter with one seed instead of three, and estimates retraining in the
    freshness test instead of running it. Fields left ``None`` follow ``quick``.
    """

    docs: list[Path]
    qa: Path | None = None
    update: list[Path] = field(default_factory=list)
    changes: Path | None = None
    quick: bool = False
    from_stage: str | None = None
    train: bool = True
    max_questions: int | None = None
    # Training seeds of the fine-tuned arms: their accuracy interval covers seed variance.
    seeds: int | None = None
    # Per adapter mode, [tune] overrides for every training of it (e.g. a shorter RAFT run).
    train_overrides: dict[str, dict[str, Any]] | None = None
    retrain: bool | None = None
    measure_before: bool | None = None
    freshness_questions: int | None = None
    # The QA file retraining reads after the update (default: re-synthesized; see run_freshness).
    retrain_qa: Path | None = None

    @property
    def eval_questions(self) -> int:
        return self.max_questions or (20 if self.quick else 60)

    def freshness_limit(self, configured: int | None) -> int:
        """Changed-fact questions per arm in the freshness test (half as many unchanged
        controls): the option, else ``eval.freshness_questions``, else the eval size."""
        return self.freshness_questions or configured or self.eval_questions

    @property
    def seed_count(self) -> int:
        return self.seeds or (1 if self.quick else 3)

    @property
    def retraining(self) -> bool:
        return (not self.quick) if self.retrain is None else self.retrain

    @property
    def measuring_before(self) -> bool:
        return (not self.quick) if self.measure_before is None else self.measure_before

    def overrides_for(self, mode: str) -> dict[str, Any]:
        """The [tune] overrides of ``mode``'s training."""
        if self.train_overrides is not None:
            return dict(self.train_overrides.get(mode, {}))
        return {"max_steps": 30} if self.quick else {}


@dataclass
class CompareResult:
    """What ``run_compare`` produced and how each stage went (run, cached or skipped)."""

    project_root: Path
    stages: list[dict[str, Any]] = field(default_factory=list)
    eval_run: Path | None = None
    freshness_run: Path | None = None
    report_html: Path | None = None
    report_markdown: Path | None = None
    recommendation: str | None = None
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The ``--json`` summary: recommendation, accuracies with intervals, report path."""
        return {
            "recommendation": self.recommendation,
            "accuracy": self.accuracy,
            "report": str(self.report_html) if self.report_html else None,
            "report_markdown": str(self.report_markdown) if self.report_markdown else None,
            "eval_run": str(self.eval_run) if self.eval_run else None,
            "freshness_run": str(self.freshness_run) if self.freshness_run else None,
            "stages": self.stages,
            "seconds": self.seconds,
        }


class ComparePipeline:
    """The stages over one project; each is skipped when its record is current."""

    def __init__(
        self, project: Project, options: CompareOptions, progress: Progress, say: Say
    ) -> None:
        self.project, self.options, self.progress, self.say = project, options, progress, say
        self.cache = StageCache(project.state_dir / "stages")
        self.result = CompareResult(project.root)
        self.keys: dict[str, str] = {}
        if options.from_stage is not None:
            if options.from_stage not in STAGES:
                raise RagtuneError(
                    f"--from {options.from_stage!r}: choose one of {', '.join(STAGES)}"
                )
            self.cache.invalidate(STAGES[STAGES.index(options.from_stage) :])

    # -- bookkeeping ----------------------------------------------------------------
    def _run(
        self, stage: str, key: str, work: Callable[[], dict[str, Any]], valid: bool = True
    ) -> StageRecord:
        """``work`` unless the stage's record is current (and ``valid``: its outputs exist)."""
        self.keys[stage] = key
        record = self.cache.current(stage, key)
        if record is not None and valid:
            self.result.stages.append(
                {"stage": stage, "status": "cached", "seconds": 0.0, "ran_seconds": record.seconds}
            )
            self.say(f"[{stage}] up to date (cached {record.seconds:,.1f} s of work)")
            return record
        self.say(f"[{stage}] running …")
        started = time.perf_counter()
        output = work()
        seconds = time.perf_counter() - started
        record = self.cache.save(stage, key, output, seconds)
        self.result.stages.append({"stage": stage, "status": "ran", "seconds": round(seconds, 1)})
        self.say(f"[{stage}] done in {seconds:,.1f} s")
        return record

    def _skip(self, stage: str, reason: str) -> None:
        self.result.stages.append({"stage": stage, "status": "skipped", "reason": reason})
        self.say(f"[{stage}] skipped: {reason}")

    def _arms(self) -> list[str]:
        return registered_arms.check(self.project.config.eval.arms)

    # -- stages ---------------------------------------------------------------------
    def ingest(self) -> None:
        """Always runs (it is incremental by content hash); its key is the index's content."""
        from ragtune.evaluate.costs import log_ingest

        project = self.project
        first = not project.has_index()
        report = project.ingest(self.options.docs, mirror=True, progress=self.progress)
        if report.added or report.updated or report.deleted or first:
            log_ingest(project, report, [str(p) for p in self.options.docs], "build")
        documents = project.store.document_hashes()
        if not documents:
            failures = "; ".join(f"{f['path']}: {f['reason']}" for f in report.failures[:3])
            raise DataError(
                f"no usable text in {', '.join(map(str, self.options.docs))}"
                + (f" ({report.failed} files failed: {failures})" if report.failed else "")
            )
        self.keys["ingest"] = fingerprint(sorted(documents.items()), project.index_key)
        self.result.stages.append(
            {"stage": "ingest", "status": "ran", "seconds": report.seconds, **report.to_dict()}
        )
        self.say(
            f"[ingest] {len(documents)} documents ({report.added} added, {report.updated} "
            f"updated, {report.deleted} deleted, {report.failed} failed) in {report.seconds:,.1f} s"
        )

    def plan(self) -> None:
        """Say what will run and about how long: a stage that ran before is shown with the
        seconds it took then; the others are estimated (see :meth:`estimates`)."""
        plan = self.estimates()
        total = 0.0
        lines = []
        for stage, guess in plan.seconds.items():
            last = self.cache.load(stage)
            seconds = last.seconds if last is not None else guess
            total += seconds
            how = "last run" if last is not None else "estimate"
            lines.append(f"    {stage:<11} {seconds / 60:6.1f} min ({how})")
        rows = "".join(f", {n:,} {m} rows" for m, n in sorted(plan.training_rows.items()))
        changed = f", {plan.changed_facts} changed facts" if self.options.update else ""
        self.say(
            f"Plan: {plan.chunks:,} chunks{rows}, "
            f"{self.options.eval_questions} questions × {len(self._arms())} arms{changed}; "
            f"generator probe {plan.probe:.1f} s per answer{_load_note()}. "
            f"Up to {total / 60:,.1f} min; up-to-date stages are skipped:"
        )
        for line in lines:
            self.say(line)
        if not self.options.quick and total > LONG_PLAN_S:
            self.say(
                "    A long plan for this machine: --quick asks fewer questions with one seed "
                "and only the qa adapter; --seeds 1 keeps the rest. Finished stages are kept."
            )

    def _training_rows(self) -> dict[str, estimate.TrainingRows]:
        """The rows each adapter this run trains will read (written by the questions stage)."""
        from ragtune.tune.data import MODE_FILES

        if not self.options.train:
            return {}
        modes = {
            str(spec.adapter) for a in self._arms() if (spec := registered_arms.get(a)).adapter
        }
        if self.options.quick:
            modes.discard("raft")
        found = {
            m: estimate.TrainingRows.read(self.project.data_dir / MODE_FILES[m]) for m in modes
        }
        return {m: rows for m, rows in found.items() if rows is not None}

    def _changed_facts(self) -> int:
        """How many facts the update changes: the changes file's rows, or the diff's."""
        from ragtune.experiment.diff import changed_facts, load_documents
        from ragtune.experiment.freshness import resolve_update

        if not self.options.update:
            return 0
        update_docs, changes_file = resolve_update(self.options.update[0], self.options.changes)
        if changes_file is not None:
            return sum(1 for line in changes_file.open(encoding="utf-8") if line.strip())
        new_docs = load_documents([update_docs], self.project.config.corpus.include)
        return len(changed_facts(self.project.store.iter_documents(), new_docs))

    def estimates(self) -> PlanEstimate:
        """Each stage's estimated seconds (:mod:`ragtune.pipeline.plan`): from the training
        rows, the questions, the changed facts, and a probe of the generator (one answer;
        none after a first evaluation): rough upper bounds."""
        from ragtune.llm.base import ChatMessage, GenerationParams

        project, options = self.project, self.options
        chunks = int(project.store.stats().get("chunks", 0))
        probe = 0.0
        if self.cache.load("evaluate") is None:  # measured figures exist after a first run
            # Loading the model and its first call are not per-answer costs: a probe that
            # included them once read 10.2 s (1.2 s usually) and planned 70.9 min for ~8.
            generator = project.generator
            question = [[ChatMessage("user", "What does this setting do?")]]
            generator.generate(question, GenerationParams(1))
            started = time.perf_counter()
            generator.generate(question, GenerationParams(8))
            probe = time.perf_counter() - started
        speed = estimate.machine_speed(probe)
        rows = self._training_rows()
        training = {
            mode: estimate.training_seconds(
                found, project.config.tune, options.overrides_for(mode), speed
            )
            for mode, found in rows.items()
        }
        specs = [registered_arms.get(a) for a in self._arms()]
        tuned = [spec for spec in specs if spec.fine_tuned]

        def answers(questions: int, arms: list[Any]) -> float:
            return sum(estimate.answers_seconds(questions, s.retrieves, probe) for s in arms)

        latency = project.config.eval.latency_probe * len(specs) * estimate.ALONE * probe
        # Every extra training seed retrains the adapters and re-asks the tuned arms.
        seeds = (options.seed_count - 1) * (
            sum(training.values()) + answers(options.eval_questions, tuned)
        )
        changed = self._changed_facts()
        freshness = 0.0
        if changed:
            limit = options.freshness_limit(project.config.eval.freshness_questions)
            asked = min(changed, limit) + max(1, limit // 2)  # and unchanged controls
            phases = 2 if options.measuring_before else 1
            freshness = phases * answers(asked, specs)
            if options.retraining:
                # Every adapter whose arms stay stale after re-indexing is retrained and its
                # arms asked again: a closed-book arm always is; on Hatch the RAFT arm was too.
                freshness += sum(training.values()) + answers(asked, tuned)
        seconds = {
            "train qa": training.get("qa", 0.0),
            "train raft": training.get("raft", 0.0),
            "evaluate": answers(options.eval_questions, specs) + latency + seeds,
            "freshness": freshness,
        }
        return PlanEstimate(chunks, probe, seconds, changed, {m: r.rows for m, r in rows.items()})

    def questions(self) -> None:
        """The QA file, or questions synthesized from the documents; split by fact."""
        from ragtune.synth import files, synthesize

        project, qa = self.project, self.options.qa
        source = file_fingerprint(qa) if qa else self.keys["ingest"]
        key = fingerprint(
            "questions",
            source,
            project.config.synth.model_dump(),
            project.config.project.model_dump(),
        )
        data = project.data_dir

        def work() -> dict[str, Any]:
            manifest = synthesize(
                project,
                source="qa-file" if qa else "corpus",
                path=qa,
                raft=any(registered_arms.get(a).adapter == "raft" for a in self._arms()),
                progress=self.progress,
            )
            return {"counts": manifest.counts.to_dict(), "files": self._data_files()}

        held_out = data / files.HELDOUT
        record = self._run("questions", key, work, valid=held_out.is_file())
        if record.output.get("files") != self._data_files():
            record = self.cache.save("questions", key, work(), record.seconds)
        # What follows reads these files only, so each training is keyed by its own file:
        # an edit that leaves a mode's training rows as they were (a typo fixed, a
        # sentence with no fact) does not retrain that adapter; the evaluation still
        # re-runs (the index changed).
        self.data_files: dict[str, str] = dict(record.output.get("files") or {})
        self.keys["questions"] = fingerprint(self.data_files)

    def _data_files(self) -> dict[str, str]:
        from ragtune.synth import files

        names = (files.TRAIN_QA, files.HELDOUT, files.QA_SFT, files.RAFT_TRAIN)
        return {n: file_fingerprint(self.project.data_dir / n) for n in names}

    def train(self) -> None:
        """One stage per adapter the evaluated arms need (``qa``, ``raft``)."""
        from ragtune.experiment.refresh import training_available
        from ragtune.synth import files
        from ragtune.tune import read_manifest, train

        project = self.project
        needed = registered_arms.adapters_for(self._arms())
        reason = training_available() if self.options.train else "skipped on request (--no-train)"
        for mode in ("qa", "raft"):
            stage = f"train {mode}"
            if mode not in needed:
                self._skip(stage, "no evaluated arm uses this adapter")
                continue
            if reason:
                self._skip(stage, reason)
                continue
            if self.options.quick and mode == "raft":
                self._skip(stage, "--quick trains only the qa adapter; the full run trains it")
                continue
            rows = files.QA_SFT if mode == "qa" else files.RAFT_TRAIN
            key = fingerprint(
                stage,
                self.data_files.get(rows),
                project.config.tune.model_dump(),
                project.config.llm.model,
                self.options.overrides_for(mode),
            )
            folder = project.adapters_dir / mode

            def work(mode: str = mode) -> dict[str, Any]:
                manifest = train(
                    project,
                    mode,
                    resume=True,
                    progress=self.progress,
                    **self.options.overrides_for(mode),
                )
                return {"created_at": manifest.created_at, "steps": manifest.steps}

            recorded = self.cache.load(stage)
            on_disk = read_manifest(folder) if (folder / "adapter_config.json").is_file() else None
            # The adapter on disk must be the one this stage made (not a retrained one).
            valid = bool(
                on_disk and recorded and on_disk.created_at == recorded.output.get("created_at")
            )
            record = self._run(stage, key, work, valid=valid)
            self.keys[stage] = fingerprint(key, record.output.get("created_at"))
        project.reload_generator()

    def evaluate(self) -> None:
        from ragtune.evaluate.records import load_eval_run
        from ragtune.experiment.compare import compare
        from ragtune.llm.vllm_engine import answer_settings

        project = self.project
        key = fingerprint(
            "evaluate",
            [self.keys.get(s) for s in ("ingest", "questions", "train qa", "train raft")],
            {k: project.config.model_dump()[k] for k in ("retrieve", "eval", "project")},
            answer_settings(project.config.llm.model_dump(), project.state_dir),
            self.options.eval_questions,
            self.options.seed_count,
            {mode: self.options.overrides_for(mode) for mode in ("qa", "raft")},
        )

        def work() -> dict[str, Any]:
            _, path = compare(
                project,
                max_questions=self.options.eval_questions,
                seeds=self.options.seed_count,
                progress=self.progress,
                train_overrides={m: self.options.overrides_for(m) for m in ("qa", "raft")},
            )
            return {"run": str(path)}

        recorded = self.cache.load("evaluate")
        valid = bool(recorded and Path(str(recorded.output.get("run"))).is_file())
        record = self._run("evaluate", key, work, valid=valid)
        self.result.eval_run = Path(record.output["run"])
        run = load_eval_run(self.result.eval_run)
        for arm in run.ok_arms:
            interval = run.arms[arm].accuracy.get("contains")
            if interval is not None:
                self.result.accuracy[arm] = {
                    "mean": interval.mean,
                    "low": interval.low,
                    "high": interval.high,
                    "n": interval.n,
                }
        self.ok_arms = run.ok_arms

    def freshness(self) -> None:
        """With ``--update``: the changed facts (a changes file, or found by diffing the
        versions), then every arm measured before and after the update; the project is
        put back on the compared documents and adapters afterwards."""
        from ragtune.experiment.diff import changed_facts, load_documents, write_changes_file
        from ragtune.experiment.freshness import resolve_update

        if not self.options.update:
            self._skip("freshness", "no --update given")
            return
        project, update = self.project, self.options.update[0]
        update_docs, changes_file = resolve_update(update, self.options.changes)
        new_docs = load_documents([update_docs], project.config.corpus.include)
        key = fingerprint(
            "freshness",
            self.keys.get("evaluate"),
            sorted((d.id, d.hash) for d in new_docs),
            file_fingerprint(changes_file) if changes_file else None,
            self.options.retraining,
            self.options.measuring_before,
            self.options.freshness_limit(project.config.eval.freshness_questions),
            file_fingerprint(self.options.retrain_qa) if self.options.retrain_qa else None,
        )
        recorded = self.cache.load("freshness")
        valid = bool(recorded and Path(str(recorded.output.get("run"))).is_file())

        def work() -> dict[str, Any]:
            changes = changes_file
            if changes is None:
                found = changed_facts(project.store.iter_documents(), new_docs)
                if not found:
                    return {"run": None, "changes": 0}
                changes = write_changes_file(found, project.state_dir / "stages" / "changes.jsonl")
                self.say(f"[freshness] {len(found)} changed facts found by diffing the versions")
            return {
                "run": str(self._measure_freshness(update_docs, changes)),
                "changes": str(changes),
            }

        record = self._run("freshness", key, work, valid=valid)
        if record.output.get("run"):
            self.result.freshness_run = Path(record.output["run"])
        else:
            self.say("[freshness] the versions state no different facts: nothing to measure")

    def _measure_freshness(self, update_docs: Path, changes: Path) -> Path | None:
        from ragtune.experiment.freshness import run_freshness

        project = self.project
        with tempfile.TemporaryDirectory(prefix="ragtune-adapters-") as backup:
            saved = Path(backup) / "adapters"
            if project.adapters_dir.is_dir():
                shutil.copytree(project.adapters_dir, saved)
            try:
                _, path = run_freshness(
                    project,
                    update_docs,
                    self.ok_arms,
                    changes=changes,
                    retrain_arms=self.options.retraining,
                    measure_before=self.options.measuring_before,
                    limit=self.options.freshness_limit(project.config.eval.freshness_questions),
                    progress=self.progress,
                    retrain_qa=self.options.retrain_qa,
                )
            finally:
                # The project stays what `compare DOCS` describes: its documents, its adapters.
                if saved.is_dir():
                    shutil.rmtree(project.adapters_dir, ignore_errors=True)
                    shutil.copytree(saved, project.adapters_dir)
                project.ingest(self.options.docs, mirror=True, progress=self.progress)
                project.reload_generator()
        return path

    def report(self) -> None:
        """The recommendation and the report, from this comparison's run files only."""
        from ragtune.evaluate.records import load_eval_run, load_freshness_run
        from ragtune.experiment.recommend import recommend
        from ragtune.report import write_report

        assert self.result.eval_run is not None  # the evaluate stage ran or was cached
        eval_run = load_eval_run(self.result.eval_run)
        fresh = self.result.freshness_run
        fresh_run = load_freshness_run(fresh) if fresh else None
        rec = (
            recommend(eval_run, fresh_run, self.project.config.recommend)
            if eval_run.ok_arms
            else None
        )
        paths = write_report(
            self.project.runs_dir,
            rec,
            eval_path=self.result.eval_run,
            freshness_path=fresh,
            latest_freshness=False,
        )
        self.result.report_html, self.result.report_markdown = paths.html, paths.markdown
        self.result.recommendation = rec.arm if rec else None
        self.result.stages.append({"stage": "report", "status": "ran"})


def _load_note() -> str:
    """The load the probe was timed under: the estimates scale with it."""
    from ragtune.machine import load_average

    load = load_average()
    return f" (load {load:.1f} on {os.cpu_count() or 1} cores)" if load is not None else ""


def run_compare(
    project: Project,
    options: CompareOptions,
    progress: Progress | None = None,
    say: Say | None = None,
) -> CompareResult:
    """Run (or resume) every stage of the comparison; returns what it made."""
    started = time.perf_counter()
    progress = progress or Progress()
    pipeline = ComparePipeline(project, options, progress, say or (lambda message: None))
    steps = (
        pipeline.ingest,
        pipeline.questions,
        pipeline.plan,
        pipeline.train,
        pipeline.evaluate,
        pipeline.freshness,
        pipeline.report,
    )
    with progress.task("compare", total=len(steps), unit="stages") as advance:
        for step in steps:
            step()
            advance(1)
    pipeline.result.seconds = round(time.perf_counter() - started, 1)
    return pipeline.result
