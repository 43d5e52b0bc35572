"""The freshness test: change the documents, then measure who answers with the NEW facts.

RAG adapts as soon as the index mirrors the new documents; a fine-tuned model keeps
answering from its weights until it is retrained. Phases, each on the same questions
(one per changed fact, plus held-out questions about facts that did not change):

- ``before``: the old documents and adapters (answers should be the OLD ones);
- ``updated``: after ``project.ingest(update, mirror=True)``, adapters untouched;
- ``retrained``: after re-synthesis and retraining (fine-tuned arms; skipped with
  ``retrain=False``, which reports them as stale).

::

    run, path = run_freshness(project, "corpus-v2", arms=["base", "rag", "ft"])
    run.arms["rag"].time_to_fresh.seconds, run.arms["ft"].phases["updated"].changed_old.mean
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import RagtuneError
from ragtune.evaluate.bootstrap import bootstrap_mean, paired_difference
from ragtune.evaluate.costs import log_ingest, one_off_costs
from ragtune.evaluate.metrics import contains_answer
from ragtune.evaluate.records import FreshnessRun, environment, new_run_id, utc_now, write_run
from ragtune.evaluate.results import (
    FreshnessArm,
    FreshnessDetails,
    IngestFigures,
    Interval,
    OneOffCosts,
    PhaseSummary,
    Retraining,
    TimeToFresh,
)
from ragtune.evaluate.runner import ArmResult, run_arm
from ragtune.experiment.changes import ChangedFact, freshness_questions, load_changes_file
from ragtune.experiment.refresh import modes_for, retrain, training_available
from ragtune.progress import Progress
from ragtune.registry import arms as registered_arms
from ragtune.synth import files
from ragtune.types import QAExample

if TYPE_CHECKING:
    from ragtune.project import Project

PHASES = ("before", "updated", "retrained")


def resolve_update(
    update: Path | str, changes: Path | str | None = None
) -> tuple[Path, Path | None]:
    """(documents folder, changes file) of an update: a demo corpus folder holds
    ``docs/`` and ``changes.jsonl``; any other folder is the documents themselves."""
    root = Path(update).expanduser()
    if not root.exists():
        raise RagtuneError(f"{root}: no such update folder")
    docs = root / "docs" if (root / "docs").is_dir() else root
    if changes is not None:
        return docs, Path(changes).expanduser()
    found = root / "changes.jsonl" if root.is_dir() else None
    return docs, found if found is not None and found.is_file() else None


def _read_rows(path: Path) -> list[QAExample]:
    if not path.is_file():
        return []
    from ragtune.synth.files import read_examples

    return read_examples(path)


def _score_phase(
    result: ArmResult, examples: dict[str, QAExample], phase: str
) -> list[dict[str, Any]]:
    rows = []
    for record in result.records:
        example = examples[record.qid]
        record.meta["phase"] = phase
        old = example.meta.get("old_answers")
        if old is not None:
            # "now $1,909 (previously $1,759)" gives the new value: OLD counts only without NEW.
            record.scores["new"] = record.scores["contains"]
            record.scores["old"] = (
                0.0 if record.scores["new"] else contains_answer(record.prediction, old)
            )
            record.meta["old_answers"] = list(old)
            record.meta["fact_trained"] = bool(example.meta.get("fact_trained"))
        rows.append(record.to_dict())
    return rows


def summarize_phase(rows: Sequence[dict[str, Any]], samples: int) -> PhaseSummary:
    """NEW-answer and OLD-answer rates on changed facts, accuracy on unchanged ones."""
    changed = [r for r in rows if r["split"] == "changed"]
    unchanged = [r for r in rows if r["split"] == "unchanged"]
    trained = [r for r in changed if r["meta"].get("fact_trained")]

    def rate(group: Sequence[dict[str, Any]], score: str) -> Interval:
        return Interval.model_validate(
            bootstrap_mean([r["scores"][score] for r in group], samples).to_dict()
        )

    new_minus_old = paired_difference(
        [r["scores"]["new"] for r in changed], [r["scores"]["old"] for r in changed], samples
    )
    return PhaseSummary(
        changed_new=rate(changed, "new"),
        changed_old=rate(changed, "old"),
        unchanged=rate(unchanged, "contains"),
        new_minus_old=Interval.model_validate(new_minus_old.to_dict()),
        trained_changed_new=rate(trained, "new") if trained else None,
        trained_changed_old=rate(trained, "old") if trained else None,
    )


def verdict(phase: PhaseSummary | dict[str, Any]) -> str:
    """``fresh`` (NEW answers significantly more often than OLD), ``stale`` (OLD answers
    more often), ``unknown`` (most answers give neither: the arm does not know the
    changed facts), or ``leaning fresh`` (NEW more often, but the interval still holds
    zero: too few changed questions to call it)."""
    phase = PhaseSummary.model_validate(phase) if isinstance(phase, dict) else phase
    diff = phase.new_minus_old
    if diff.low > 0:
        return "fresh"
    if diff.high < 0:
        return "stale"
    new, old = phase.changed_new.mean, phase.changed_old.mean
    if new + old < 0.5:
        return "unknown"
    if old > new:
        return "stale"
    return "leaning fresh" if new > old else "unknown"


def time_to_fresh(
    arm: str,
    ingest_s: float,
    refresh: Retraining | None,
    after_update: str,
    costs: OneOffCosts | None = None,
) -> TimeToFresh:
    """Seconds (and what they buy) for ``arm`` to answer with the new documents again.

    Without a measured retraining, ``estimate_seconds`` is what synthesis and training
    cost when the adapter was first made (from ``costs``), and ``seconds`` stays ``None``.
    """
    spec = registered_arms.get(arm)
    if not spec.learns_documents:
        return TimeToFresh(
            never=True,
            how="never: a closed-book arm without an adapter does not learn the documents",
        )
    if spec.retrieves and (not spec.fine_tuned or after_update == "fresh"):
        return TimeToFresh(seconds=round(ingest_s, 3), how="incremental re-index")
    adapter = str(spec.adapter)
    retrained = refresh.seconds_for(adapter) if refresh is not None else None
    if retrained is None:
        first = costs.train.get(adapter) if costs is not None else None
        if costs is None or first is None or first.train_seconds is None:
            return TimeToFresh(how="stale until retrained (not retrained in this run)")
        estimate = costs.training_seconds(adapter) + (ingest_s if spec.retrieves else 0)
        return TimeToFresh(
            estimate_seconds=round(estimate, 3),
            how="stale until retrained; estimate: synthesis + training as first measured",
        )
    how = f"re-synthesis + retraining the {adapter!r} adapter"
    if spec.retrieves:
        retrained += ingest_s
        how = "incremental re-index + " + how
    return TimeToFresh(seconds=round(retrained, 3), how=how)


@dataclass
class FreshnessQuestions:
    """What an update is measured on: one question per changed fact, plus held-out
    questions about facts that did not change."""

    docs_dir: Path
    changes_path: Path
    facts: list[ChangedFact]
    changed: list[QAExample]
    unchanged: list[QAExample]

    @property
    def questions(self) -> list[QAExample]:
        return self.changed + self.unchanged


def freshness_question_set(
    project: Project, update: Path | str, changes: Path | str | None, limit: int | None
) -> FreshnessQuestions:
    """The update's documents, its changed facts and the questions that measure them."""
    settings = project.config.eval
    docs_dir, changes_path = resolve_update(update, changes)
    if changes_path is None:
        raise RagtuneError(
            f"no changes file for {update}: pass --changes FILE (JSONL: question, old_answers, new_answers)"
        )
    facts = load_changes_file(changes_path)
    heldout = _read_rows(project.data_dir / files.HELDOUT)
    update_qa = Path(update).expanduser() / "qa.jsonl"
    if not heldout and update_qa.is_file():
        # No held-out split (nothing synthesized): unchanged facts come from the update's own questions.
        from ragtune.synth.qa_file import load_qa_file

        heldout = load_qa_file(update_qa)
    trained_facts = {r.fact_id for r in _read_rows(project.data_dir / files.TRAIN_QA)}
    changed, unchanged = freshness_questions(
        facts, heldout, trained_facts, limit or settings.freshness_questions, seed=settings.seed
    )
    return FreshnessQuestions(docs_dir, changes_path, facts, changed, unchanged)


@dataclass
class PhaseRecorder:
    """Runs arms on the freshness questions phase after phase and keeps what it measured:
    the scored records, each arm's phase summaries, and the arms that could not run."""

    project: Project
    questions: FreshnessQuestions
    progress: Progress
    records: list[dict[str, Any]] = field(default_factory=list)
    phases: dict[str, dict[str, PhaseSummary]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def measure(self, phase: str, arms: Sequence[str]) -> None:
        examples = {q.id: q for q in self.questions.questions}
        samples = self.project.config.eval.bootstrap_samples
        for arm in arms:
            if arm in self.skipped:
                continue
            result = run_arm(
                self.project, arm, self.questions.questions, self.progress, label=f"{phase}: {arm}"
            )
            if result.status != "ok":
                self.skipped[arm] = result.reason
                continue
            rows = _score_phase(result, examples, phase)
            self.records.extend(rows)
            summary = summarize_phase(rows, samples)
            summary.seconds = result.seconds
            self.phases.setdefault(arm, {})[phase] = summary

    def after(self, arm: str, phase: str = "updated") -> str:
        return verdict(self.phases[arm][phase])


def retrain_stale(
    project: Project,
    recorder: PhaseRecorder,
    arms: Sequence[str],
    retrain_arms: bool,
    progress: Progress,
    retrain_qa: Path | None,
) -> tuple[Retraining | None, list[str]]:
    """Retrain the adapters the update left stale and measure their arms again; returns
    the measured retraining (``None`` if none ran) and notes on what was not done."""
    tuned = [a for a in arms if registered_arms.get(a).fine_tuned and a not in recorder.skipped]
    # An adapter whose arms all answer with the new facts from the re-indexed passages is
    # fresh already (its time to fresh is the re-index): only the others are retrained.
    modes = modes_for([a for a in tuned if recorder.after(a) != "fresh"])
    if not modes:
        notes = ["every fine-tuned arm was fresh after re-indexing: nothing to retrain"]
        return None, notes if tuned else []
    if not retrain_arms:
        return None, [
            "--no-retrain: fine-tuned arms are reported as they are after the update (stale)"
        ]
    reason = training_available()
    if reason:
        return None, [f"fine-tuned arms not retrained: {reason}"]
    docs_dir = recorder.questions.docs_dir
    refresh = retrain(
        project,
        modes,
        update_dir=docs_dir.parent if docs_dir.name == "docs" else None,
        progress=progress,
        qa_file=retrain_qa,
    )
    recorder.measure("retrained", [a for a in tuned if registered_arms.get(a).adapter in modes])
    return Retraining.model_validate(refresh), []


def freshness_arm(
    arm: str,
    recorder: PhaseRecorder,
    ingest_s: float,
    refresh: Retraining | None,
    costs: OneOffCosts,
) -> FreshnessArm:
    """One arm's entry in the freshness run, from the phases it was measured in."""
    if arm in recorder.skipped:
        return FreshnessArm(status="skipped", reason=recorder.skipped[arm])
    phases = recorder.phases[arm]
    after_update = verdict(phases["updated"])
    final_phase = "retrained" if "retrained" in phases else "updated"
    fine_tuned = registered_arms.get(arm).fine_tuned
    return FreshnessArm(
        phases=phases,
        after_update=after_update,
        final=verdict(phases[final_phase]),
        final_phase=final_phase,
        time_to_fresh=time_to_fresh(
            arm, ingest_s, refresh if fine_tuned else None, after_update, costs
        ),
    )


def run_freshness(
    project: Project,
    update: Path | str,
    arms: Sequence[str] | None = None,
    changes: Path | str | None = None,
    retrain_arms: bool = True,
    measure_before: bool = True,
    limit: int | None = None,
    progress: Progress | None = None,
    write: bool = True,
    retrain_qa: Path | None = None,
) -> tuple[FreshnessRun, Path | None]:
    """Apply ``update`` to the project and measure every arm's staleness; returns the run.

    ``retrain_qa``: the QA file to re-synthesize from when retraining (default: the
    update folder's ``qa.jsonl`` when training data came from a QA file).
    """
    progress = progress or Progress()
    started = time.perf_counter()
    questions = freshness_question_set(project, update, changes, limit)
    arms = registered_arms.check(arms or project.config.eval.arms)
    costs_before = OneOffCosts.model_validate(one_off_costs(project))
    recorder = PhaseRecorder(project, questions, progress)

    if measure_before:
        recorder.measure("before", arms)
    progress.log(f"Applying the update: {questions.docs_dir} (the index mirrors it)")
    report = project.ingest([questions.docs_dir], mirror=True, progress=progress)
    log_ingest(project, report, [str(questions.docs_dir)], purpose="update")
    recorder.measure("updated", arms)
    refresh, notes = retrain_stale(project, recorder, arms, retrain_arms, progress, retrain_qa)

    run = FreshnessRun(
        run_id=new_run_id("freshness"),
        created=utc_now(),
        environment=environment(),
        config=project.config.model_dump(),
        costs=costs_before,
        notes=notes,
        data={
            "project": str(project.root),
            "update": str(questions.docs_dir),
            "changes": str(questions.changes_path),
            "n_changed": len(questions.changed),
            "n_unchanged": len(questions.unchanged),
            "n_changes_listed": len(questions.facts),
            "changed_trained": sum(1 for q in questions.changed if q.meta.get("fact_trained")),
        },
        arms={
            arm: freshness_arm(arm, recorder, report.seconds, refresh, costs_before) for arm in arms
        },
        records=recorder.records,
        freshness=FreshnessDetails(
            ingest=IngestFigures.model_validate(
                {k: v for k, v in report.to_dict().items() if k != "failures"}
            ),
            retrain=refresh,
            phases=[p for p in PHASES if any(p in ph for ph in recorder.phases.values())],
        ),
    )
    run.seconds = round(time.perf_counter() - started, 3)
    path = write_run(project.runs_dir, run) if write else None
    return run, path
