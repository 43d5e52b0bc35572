"""``ragtune recommend`` and ``ragtune report``: read run files, never re-run anything."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Any

import typer

from ragtune.cli.common import (
    JsonOption,
    ProjectOption,
    SetOption,
    console,
    open_project,
    print_json,
)


def _constraints(proj: Any, **flags: float | None) -> Any:
    """The project's ``[recommend]`` section with the given flags winning."""
    given = {k: v for k, v in flags.items() if v is not None}
    config = proj.config.recommend
    return type(config).model_validate({**config.model_dump(), **given}) if given else config


UpdatesOption = typer.Option(
    None, "--updates-per-month", help="Document updates per month (recommend.updates_per_month)."
)
QueriesOption = typer.Option(
    None, "--queries-per-day", help="Queries per day (recommend.queries_per_day)."
)
LatencyOption = typer.Option(
    None, "--latency-budget-ms", help="p95 latency budget in ms (recommend.latency_budget_ms)."
)
PriceOption = typer.Option(
    None, "--price-per-hour", help="Price of one machine-hour (recommend.price_per_hour)."
)
FloorOption = typer.Option(
    None, "--accuracy-floor", help="Minimum accuracy, 0-1 (recommend.accuracy_floor)."
)
HorizonOption = typer.Option(
    None, "--horizon-months", help="Months to project costs over (recommend.horizon_months)."
)


def recommend_command(
    updates_per_month: float = UpdatesOption,
    queries_per_day: float = QueriesOption,
    latency_budget_ms: float = LatencyOption,
    price_per_hour: float = PriceOption,
    accuracy_floor: float = FloorOption,
    horizon_months: float = HorizonOption,
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Recommend an arm from the run files and your constraints, with the numbers and what would change it."""
    from ragtune.errors import DataError
    from ragtune.evaluate.records import latest_eval_run, latest_freshness_run
    from ragtune.experiment.recommend import recommend

    proj = open_project(project, overrides)
    constraints = _constraints(
        proj,
        updates_per_month=updates_per_month,
        queries_per_day=queries_per_day,
        latency_budget_ms=latency_budget_ms,
        price_per_hour=price_per_hour,
        accuracy_floor=accuracy_floor,
        horizon_months=horizon_months,
    )
    eval_run = latest_eval_run(proj.runs_dir)
    if eval_run is None:
        raise DataError(f"no evaluation runs in {proj.runs_dir}; run: ragtune eval")
    rec = recommend(eval_run, latest_freshness_run(proj.runs_dir), constraints)
    if json_output:
        print_json(rec.to_dict())
        return
    console.print(f"[bold]Recommendation: [cyan]{rec.arm or 'none'}[/][/]")
    for sentence in rec.explanation:
        console.print(f"  • {sentence}", highlight=False)
    if rec.what_would_change:
        console.print("[bold]What would change it:[/]")
        for sentence in rec.what_would_change:
            console.print(f"  • {sentence}", highlight=False)


def report_command(
    open_browser: bool = typer.Option(False, "--open", help="Open the HTML report in a browser."),
    out: Path = typer.Option(
        None, "--out", help="Folder for report.html and report.md (default: .ragtune/runs/)."
    ),
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Render the newest eval and freshness runs to a self-contained HTML page and Markdown."""
    from ragtune.experiment.recommend import recommend_latest
    from ragtune.report import write_report

    proj = open_project(project, overrides)
    rec = recommend_latest(proj.runs_dir, proj.config.recommend)
    paths = write_report(proj.runs_dir, rec, out_dir=out)
    if json_output:
        print_json(
            {
                "html": paths.html,
                "markdown": paths.markdown,
                "recommendation": paths.recommendation.arm if paths.recommendation else None,
            }
        )
        return
    console.print(f"Report: {paths.html}\nMarkdown: {paths.markdown}")
    if open_browser:
        webbrowser.open(paths.html.as_uri())
