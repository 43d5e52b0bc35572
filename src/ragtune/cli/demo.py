"""``ragtune demo``: the main job on the fictional demo domain, end to end (see ``ragtune.demo.runner``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ragtune.cli.common import (
    JsonOption,
    SeedsOption,
    SetOption,
    command_progress,
    console,
    parse_overrides,
    print_json,
    stage_printer,
)
from ragtune.cli.engine import EngineOption, engine_overrides


def demo(
    directory: Path = typer.Argument(Path("demo-project"), help="Where to build the demo project."),
    quick: bool = typer.Option(
        False, "--quick", help="A smaller slice (~6 minutes on 2 CPU cores)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the demo domain, the split and training."),
    no_train: bool = typer.Option(
        False, "--no-train", help="Skip synthesis and fine-tuning: only the base and rag arms run."
    ),
    no_retrain: bool = typer.Option(
        False,
        "--no-retrain",
        help="Freshness test without retraining (fine-tuned arms stay stale).",
    ),
    questions: int = typer.Option(
        None, "--questions", "-n", help="Held-out questions per arm (default 40, quick 16)."
    ),
    seeds: int = SeedsOption,
    engine: str = EngineOption,
    from_stage: str = typer.Option(
        None,
        "--from",
        help="Redo this stage and every later one (ingest, questions, train qa, train raft, "
        "evaluate, freshness, report); the others are reused when up to date.",
    ),
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Build RAG, fine-tuned and both on a fictional domain, compare all five arms, test freshness, recommend, report.

    The same cached stages as ``ragtune compare``: a killed demo resumes where it stopped,
    and a second run in the same folder reuses every stage that is up to date."""
    from ragtune.demo.runner import DemoPlan, run_demo

    plan = DemoPlan.quick() if quick else DemoPlan.full()
    plan.seed, plan.retrain, plan.train = seed, not no_retrain, not no_train
    if questions:
        plan.eval_questions = questions
    if seeds:
        plan.seeds = seeds
    plan.from_stage = from_stage
    settings = parse_overrides(overrides)
    with command_progress(json_output) as progress:
        say = stage_printer(progress, json_output)
        with engine_overrides(engine, _folder_project(directory, settings), say) as extra:
            result = run_demo(
                directory, plan, say=say, progress=progress, overrides=settings, run_only=extra
            )
    if json_output:
        print_json(result.to_dict())
        return
    console.print(
        f"\n[bold green]Demo finished[/] in {result.seconds / 60:,.1f} min. "
        f"Recommendation: [bold]{result.recommendation or 'none'}[/]"
    )
    for stage, reason in result.skipped.items():
        console.print(f"[yellow]skipped[/] {stage}: {reason}", highlight=False)
    console.print(
        f"Report: [bold]{result.report_html}[/]\nMarkdown: {result.report_markdown}\n"
        f"Runs: {result.eval_run}, {result.freshness_run}",
        highlight=False,
    )


def _folder_project(directory: Path, settings: dict[str, Any]) -> Any:
    """The demo folder as a project (its config, state folder and adapters) before the
    demo has written it, for the engine to start from."""
    from ragtune.config import load_config
    from ragtune.project import Project

    folder = Path(directory)
    return (
        Project.open(folder, settings)
        if folder.is_dir()
        else Project(folder, load_config(None, settings))
    )
