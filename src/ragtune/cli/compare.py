"""``ragtune compare DOCS``: the whole comparison on your own folder, resumable (see
:mod:`ragtune.pipeline`)."""

from __future__ import annotations

from pathlib import Path

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


def compare_command(
    docs: list[Path] = typer.Argument(..., help="Your documents: files and folders."),
    qa: Path = typer.Option(
        None,
        "--qa",
        help="Your questions (JSONL or CSV: question, answer(s)); default: synthesized.",
    ),
    update: list[Path] = typer.Option(
        None, "--update", help="A newer version of the documents: measure who goes stale."
    ),
    changes: Path = typer.Option(
        None,
        "--changes",
        help="The changed facts as JSONL (default: found by diffing the versions).",
    ),
    quick: bool = typer.Option(
        False,
        "--quick",
        help="Fewer questions, only the qa adapter, one seed, retraining estimated.",
    ),
    from_stage: str = typer.Option(
        None, "--from", help="Redo this stage and every one after it (e.g. 'evaluate')."
    ),
    no_train: bool = typer.Option(False, "--no-train", help="Only the arms that need no training."),
    questions: int = typer.Option(
        None, "--questions", "-n", help="Held-out questions per arm (default 60, quick 20)."
    ),
    seeds: int = SeedsOption,
    engine: str = EngineOption,
    project: Path = typer.Option(
        Path("."), "--project", "-p", help="The project folder (created if it has no ragtune.toml)."
    ),
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """RAG, fine-tuning or both on YOUR documents: ingest, questions, training, every arm, freshness, recommendation, report."""
    from ragtune.config import CONFIG_FILE, _deep_merge
    from ragtune.errors import RagtuneError
    from ragtune.pipeline import CompareOptions, run_compare
    from ragtune.project import Project

    for path in [*docs, *(update or []), *([qa] if qa else [])]:
        if not path.exists():
            raise RagtuneError(f"{path}: no such file or folder")
    settings = parse_overrides(overrides)
    if (project / CONFIG_FILE).is_file():
        proj = Project.open(project, settings)
    else:
        proj = Project.init(project, settings)
        if not json_output:
            console.print(f"Created a ragtune project in {proj.root}")
    options = CompareOptions(
        docs=list(docs),
        qa=qa,
        update=list(update or []),
        changes=changes,
        quick=quick,
        from_stage=from_stage,
        train=not no_train,
        max_questions=questions,
        seeds=seeds,
    )
    with command_progress(json_output) as progress:
        say = stage_printer(progress, json_output)
        with engine_overrides(engine, proj, say) as extra:
            if extra:
                proj.close()
                proj = Project.open(project, _deep_merge(settings, extra))
            result = run_compare(proj, options, progress=progress, say=say)
    proj.close()
    if json_output:
        print_json(result.summary())
        return
    console.print(
        f"\n[bold green]Compared[/] in {result.seconds / 60:,.1f} min. "
        f"Recommendation: [bold]{result.recommendation or 'none'}[/]"
    )
    for arm, a in result.accuracy.items():
        console.print(f"  {arm:>7}: {a['mean']:.0%} [{a['low']:.0%}, {a['high']:.0%}]")
    console.print(f"Report: [bold]{result.report_html}[/]\nMarkdown: {result.report_markdown}")
