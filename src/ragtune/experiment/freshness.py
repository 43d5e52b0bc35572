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
    run.arms["rag"]["time_to_fresh_s"], run.arms["ft"]["phases"]["updated"]["changed_old"]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import RagtuneError
from ragtune.evaluate.bootstrap import bootstrap_mean, paired_difference
from ragtune.evaluate.costs import log_ingest, one_off_costs
from ragtune.evaluate.metrics import contains_answer
from ragtune.evaluate.records import RunFile, environment, new_run_id, utc_now, write_run
from ragtune.evaluate.runner import ArmResult, run_arm
from ragtune.experiment.changes import ChangedFact, freshness_questions, load_changes_file
from ragtune.experiment.refresh import modes_for, retrain, training_available
from ragtune.progress import Progress
from ragtune.registry import arms as registered_arms
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


def summarize_phase(rows: Sequence[dict[str, Any]], samples: int) -> dict[str, Any]:
    """NEW-answer and OLD-answer rates on changed facts, accuracy on unchanged ones."""
    changed = [r for r in rows if r["split"] == "changed"]
    unchanged = [r for r in rows if r["split"] == "unchanged"]
    trained = [r for r in changed if r["meta"].get("fact_trained")]
    out: dict[str, Any] = {
        "changed_new": bootstrap_mean([r["scores"]["new"] for r in changed], samples).to_dict(),
        "changed_old": bootstrap_mean([r["scores"]["old"] for r in changed], samples).to_dict(),
        "unchanged": bootstrap_mean(
            [r["scores"]["contains"] for r in unchanged], samples
        ).to_dict(),
        "new_minus_old": paired_difference(
            [r["scores"]["new"] for r in changed], [r["scores"]["old"] for r in changed], samples
        ).to_dict(),
    }
    if trained:
        out["trained_changed_new"] = bootstrap_mean(
            [r["scores"]["new"] for r in trained], samples
        ).to_dict()
        out["trained_changed_old"] = bootstrap_mean(
            [r["scores"]["old"] for r in trained], samples
        ).to_dict()
    return out


def verdict(phase: dict[str, Any]) -> str:
    """``fresh`` (NEW answers significantly more often than OLD), ``stale`` (OLD answers
    more often), ``unknown`` (most answers give neither: the arm does not know the
    changed facts), or ``leaning fresh`` (NEW more often, but the interval still holds
    zero: too few changed questions to call it)."""
    diff = phase["new_minus_old"]
    if diff["low"] > 0:
        return "fresh"
    if diff["high"] < 0:
        return "stale"
    new, old = phase["changed_new"]["mean"], phase["changed_old"]["mean"]
    if new + old < 0.5:
        return "unknown"
    if old > new:
        return "stale"
    return "leaning fresh" if new > old else "unknown"


def time_to_fresh(
    arm: str,
    ingest_s: float,
    refresh: dict[str, Any] | None,
    after_update: str,
    costs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Seconds (and what they buy) for ``arm`` to answer with the new documents again.

    Without a measured retraining, ``estimate_seconds`` is what synthesis and training
    cost when the adapter was first made (from ``costs``), and ``seconds`` stays ``None``.
    """
    spec = registered_arms.get(arm)
    if not spec.learns_documents:
        return {
            "seconds": None,
            "never": True,
            "how": "never: a closed-book arm without an adapter does not learn the documents",
        }
    if spec.retrieves and (not spec.fine_tuned or after_update == "fresh"):
        return {"seconds": round(ingest_s, 3), "how": "incremental re-index"}
    mode = str(spec.adapter)
    if refresh is None or mode not in refresh.get("train", {}):
        out: dict[str, Any] = {
            "seconds": None,
            "how": "stale until retrained (not retrained in this run)",
        }
        first = ((costs or {}).get("train") or {}).get(mode) or {}
        if first.get("train_seconds") is not None:
            synth = ((costs or {}).get("synth") or {}).get("seconds") or 0.0
            out["estimate_seconds"] = round(
                synth + first["train_seconds"] + (ingest_s if spec.retrieves else 0), 3
            )
            out["how"] = "stale until retrained; estimate: synthesis + training as first measured"
        return out
    seconds = refresh["synth"]["seconds"] + refresh["train"][mode]["seconds"]
    how = f"re-synthesis + retraining the {mode!r} adapter"
    if spec.retrieves:
        seconds += ingest_s
        how = "incremental re-index + " + how
    return {"seconds": round(seconds, 3), "how": how}


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
) -> tuple[RunFile, Path | None]:
    """Apply ``update`` to the project and measure every arm's staleness; returns the run.

    ``retrain_qa``: the QA file to re-synthesize from when retraining (default: the
    update folder's ``qa.jsonl`` when training data came from a QA file).
    """
    settings = project.config.eval
    progress = progress or Progress()
    started = time.perf_counter()
    docs_dir, changes_path = resolve_update(update, changes)
    if changes_path is None:
        raise RagtuneError(
            f"no changes file for {update}: pass --changes FILE (JSONL: question, old_answers, new_answers)"
        )
    facts: list[ChangedFact] = load_changes_file(changes_path)
    heldout = _read_rows(project.data_dir / "heldout.jsonl")
    update_qa = Path(update).expanduser() / "qa.jsonl"
    if not heldout and update_qa.is_file():
        # No held-out split (nothing synthesized): unchanged facts come from the update's own questions.
        from ragtune.synth.qa_file import load_qa_file

        heldout = load_qa_file(update_qa)
    trained_facts = {r.fact_id for r in _read_rows(project.data_dir / "train_qa.jsonl")}
    changed, unchanged = freshness_questions(
        facts, heldout, trained_facts, limit or settings.freshness_questions, seed=settings.seed
    )
    questions = changed + unchanged
    examples = {q.id: q for q in questions}
    arms = list(arms or settings.arms)
    samples = settings.bootstrap_samples
    costs_before = one_off_costs(project)
    records: list[dict[str, Any]] = []
    phases: dict[str, dict[str, dict[str, Any]]] = {arm: {} for arm in arms}
    skipped: dict[str, str] = {}

    def measure(phase: str, phase_arms: Sequence[str]) -> None:
        for arm in phase_arms:
            if arm in skipped:
                continue
            result = run_arm(project, arm, questions, progress, label=f"{phase}: {arm}")
            if result.status != "ok":
                skipped[arm] = result.reason
                continue
            rows = _score_phase(result, examples, phase)
            records.extend(rows)
            phases[arm][phase] = {**summarize_phase(rows, samples), "seconds": result.seconds}

    if measure_before:
        measure("before", arms)
    progress.log(f"Applying the update: {docs_dir} (the index mirrors it)")
    report = project.ingest([docs_dir], mirror=True, progress=progress)
    log_ingest(project, report, [str(docs_dir)], purpose="update")
    measure("updated", arms)

    refresh: dict[str, Any] | None = None
    tuned = [a for a in arms if registered_arms.get(a).fine_tuned and a not in skipped]
    # Retrain only what the update left stale: an adapter whose arms all answer with the
    # new facts from the re-indexed passages is fresh already (its time to fresh is the re-index).
    modes = modes_for([a for a in tuned if verdict(phases[a]["updated"]) != "fresh"])
    notes = []
    if modes and retrain_arms:
        reason = training_available()
        if reason:
            notes.append(f"fine-tuned arms not retrained: {reason}")
        else:
            refresh = retrain(
                project,
                modes,
                update_dir=docs_dir.parent if docs_dir.name == "docs" else None,
                progress=progress,
                qa_file=retrain_qa,
            )
            measure("retrained", [a for a in tuned if registered_arms.get(a).adapter in modes])
    elif modes:
        notes.append(
            "--no-retrain: fine-tuned arms are reported as they are after the update (stale)"
        )
    elif tuned:
        notes.append("every fine-tuned arm was fresh after re-indexing: nothing to retrain")

    run = RunFile(
        run_id=new_run_id("freshness"),
        kind="freshness",
        created=utc_now(),
        environment=environment(),
        config=project.config.model_dump(),
        costs=costs_before,
        notes=notes,
        data={
            "project": str(project.root),
            "update": str(docs_dir),
            "changes": str(changes_path),
            "n_changed": len(changed),
            "n_unchanged": len(unchanged),
            "n_changes_listed": len(facts),
            "changed_trained": sum(1 for q in changed if q.meta.get("fact_trained")),
        },
    )
    for arm in arms:
        if arm in skipped:
            run.arms[arm] = {"status": "skipped", "reason": skipped[arm]}
            continue
        after_update = verdict(phases[arm]["updated"])
        final_phase = "retrained" if "retrained" in phases[arm] else "updated"
        run.arms[arm] = {
            "status": "ok",
            "phases": phases[arm],
            "after_update": after_update,
            "final": verdict(phases[arm][final_phase]),
            "final_phase": final_phase,
            "time_to_fresh": time_to_fresh(
                arm,
                report.seconds,
                refresh if registered_arms.get(arm).fine_tuned else None,
                after_update,
                costs_before,
            ),
        }
    run.records = records
    run.freshness = {
        "ingest": {k: v for k, v in report.to_dict().items() if k != "failures"},
        "retrain": refresh,
        "phases": [p for p in PHASES if any(p in ph for ph in phases.values())],
    }
    run.seconds = round(time.perf_counter() - started, 3)
    path = write_run(project.runs_dir, run) if write else None
    return run, path
