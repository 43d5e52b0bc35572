"""``ragtune eval`` and ``ragtune freshness``: thin layers over ``ragtune.experiment``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from ragtune.evaluate.metrics import PRIMARY_METRIC
from ragtune.report.rows import ANSWER_METRICS, accuracy_table, freshness_rows
from ragtune.report.text import interval_text, new_old_text, pct

if TYPE_CHECKING:
    from ragtune.evaluate.records import EvalRun, FreshnessRun

from ragtune.cli.common import (
    JsonOption,
    ProjectOption,
    SetOption,
    command_progress,
    console,
    open_project,
    print_json,
    stage_printer,
)
from ragtune.cli.engine import EngineOption, engine_overrides

ArmOption = typer.Option(
    None,
    "--arm",
    "-a",
    help="Arm to run (repeatable or comma-separated): base, rag, ft, ft+rag, raft. Default: eval.arms.",
)


def _arms(values: list[str] | None) -> list[str] | None:
    arms = [a.strip() for v in values or [] for a in v.split(",") if a.strip()]
    return arms or None


def print_eval(run: EvalRun, path: Path | None) -> None:
    table = Table(title=f"{run.data['questions']['n_questions']} questions · run {run.run_id}")
    for column in (
        "arm",
        "contains (95% CI)",
        "exact match",
        "F1",
        "recall@k",
        "grounded",
        "latency p50/p95 ms",
    ):
        table.add_column(column, justify="left" if column == "arm" else "right")
    for row in accuracy_table(run, run.ok_arms, PRIMARY_METRIC).rows:
        latency = row.latency_ms.total if row.latency_ms else None
        table.add_row(
            row.arm,
            *(interval_text(row.metrics[m]) for m in ANSWER_METRICS),
            interval_text(row.recall),
            interval_text(row.grounded),
            f"{latency.p50:,.0f} / {latency.p95:,.0f}" if latency else "–",
        )
    for arm, summary in run.arms.items():
        if not summary.ok:
            table.add_row(arm, f"[dim]skipped: {summary.reason[:60]}[/]", "", "", "", "", "")
    console.print(table)
    for c in run.comparisons:
        if c.called and c.split == "all":
            console.print(f"  {c.a} vs {c.b}: {c.mean:+.0%} [{c.low:+.0%}, {c.high:+.0%}] (called)")
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}")
    if path is not None:
        console.print(
            f"Run file: {path}\nNext: [bold]ragtune report[/] or [bold]ragtune recommend[/]"
        )


def eval_command(
    arm: list[str] = ArmOption,
    qa: Path = typer.Option(
        None, "--qa", help="Your own questions: JSONL or CSV (question, answer(s), doc_ids)."
    ),
    max_questions: int = typer.Option(
        None, "--max-questions", "-n", help="At most this many (stratified) questions."
    ),
    seeds: int = typer.Option(
        None, "--seeds", help="Repeat fine-tuned arms over N training seeds (eval.seeds)."
    ),
    engine: str = EngineOption,
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Run arms on the same held-out questions: accuracy with 95% intervals, retrieval, groundedness, latency, cost."""
    from ragtune.experiment.compare import compare

    proj = open_project(project, overrides)
    with command_progress(json_output) as progress:
        say = stage_printer(progress, json_output)
        with engine_overrides(engine, proj, say) as extra:
            proj = open_project(project, overrides, extra) if extra else proj
            run, path = compare(
                proj,
                _arms(arm),
                qa_path=qa,
                max_questions=max_questions,
                seeds=seeds,
                progress=progress,
            )
    if json_output:
        print_json(
            {
                "run_file": path,
                "run_id": run.run_id,
                "arms": {a: summary.to_dict() for a, summary in run.arms.items()},
                "comparisons": [c.to_dict() for c in run.comparisons],
            }
        )
    else:
        print_eval(run, path)


def freshness_command(
    update: Path = typer.Option(
        ...,
        "--update",
        help="The new version of the documents (a folder; a demo corpus folder works).",
    ),
    changes: Path = typer.Option(
        None,
        "--changes",
        help="Changes file (JSONL: question, old_answers, new_answers); default: UPDATE/changes.jsonl.",
    ),
    no_retrain: bool = typer.Option(
        False,
        "--no-retrain",
        help="Do not re-synthesize and retrain: report fine-tuned arms as stale.",
    ),
    skip_before: bool = typer.Option(
        False, "--skip-before", help="Do not measure the arms before applying the update."
    ),
    arm: list[str] = ArmOption,
    max_questions: int = typer.Option(
        None,
        "--max-questions",
        "-n",
        help="At most this many changed and unchanged questions each.",
    ),
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Apply a document update and measure who answers with the new facts, and the time to become fresh."""
    from ragtune.experiment.freshness import run_freshness

    proj = open_project(project, overrides)
    with command_progress(json_output) as progress:
        run, path = run_freshness(
            proj,
            update,
            _arms(arm),
            changes=changes,
            retrain_arms=not no_retrain,
            measure_before=not skip_before,
            limit=max_questions,
            progress=progress,
        )
    if json_output:
        print_json(
            {
                "run_file": path,
                "run_id": run.run_id,
                "arms": {a: summary.to_dict() for a, summary in run.arms.items()},
                "freshness": run.freshness.to_dict(),
            }
        )
        return
    print_freshness(run, path)


def print_freshness(run: FreshnessRun, path: Path | None) -> None:
    phases = run.freshness.phases
    table = Table(
        title=f"Freshness: {run.data['n_changed']} changed, {run.data['n_unchanged']} unchanged facts"
    )
    table.add_column("arm")
    for phase in phases:
        table.add_column(f"{phase}: new / old", justify="right")
    for column in ("unchanged", "state", "time to fresh"):
        table.add_column(column, justify="right")
    for row in freshness_rows(run):
        table.add_row(
            row.arm,
            *(new_old_text(row.phases[p]) for p in phases),
            pct(row.unchanged.mean),
            f"{row.after_update} → {row.final}",
            f"{row.time_to_fresh} ({row.how})",
        )
    for arm, summary in run.arms.items():
        if not summary.ok:
            table.add_row(arm, *([""] * len(phases)), "", "[dim]skipped[/]", "")
    console.print(table)
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}")
    if path is not None:
        console.print(f"Run file: {path}")
