"""Reports rendered from run files only: a self-contained HTML page and Markdown.

from ragtune.experiment.recommend import recommend_latest
from ragtune.report import write_report
rec = recommend_latest(project.runs_dir, project.config.recommend)
paths = write_report(project.runs_dir, rec)
paths.html   # .ragtune/runs/report.html (inline SVG charts, no network)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragtune.evaluate.results import Recommendation


@dataclass
class ReportPaths:
    html: Path
    markdown: Path
    recommendation: Recommendation | None = None


def write_report(
    runs_dir: Path,
    recommendation: Recommendation | None = None,
    out_dir: Path | None = None,
    eval_path: Path | None = None,
    freshness_path: Path | None = None,
    latest_freshness: bool = True,
) -> ReportPaths:
    """Render the newest runs in ``runs_dir`` to ``report.html`` and ``report.md`` in ``out_dir``
    (default: ``runs_dir``), with ``recommendation`` (made from the same runs) if given;
    returns their paths."""
    from ragtune.report.html import render_html
    from ragtune.report.markdown import render_markdown
    from ragtune.report.model import load_report_data

    data = load_report_data(runs_dir, recommendation, eval_path, freshness_path, latest_freshness)
    out = out_dir or runs_dir
    out.mkdir(parents=True, exist_ok=True)
    html, markdown = out / "report.html", out / "report.md"
    html.write_text(render_html(data), encoding="utf-8")
    markdown.write_text(render_markdown(data), encoding="utf-8")
    return ReportPaths(html, markdown, data.recommendation)


__all__ = ["ReportPaths", "write_report"]
