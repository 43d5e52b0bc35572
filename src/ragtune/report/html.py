"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).

html = render_html(load_report_data(project.runs_dir, rec))
(project.runs_dir / "report.html").write_text(html)
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from string import Template
from typing import Any

from ragtune.report import sections
from ragtune.report.model import ReportData
from ragtune.report.text import load_text

TOC = (
    ("recommendation", "Recommendation"),
    ("accuracy", "Accuracy"),
    ("cost", "Accuracy vs cost"),
    ("freshness", "Freshness"),
    ("retrieval", "Retrieval"),
    ("examples", "Examples"),
    ("notes", "Notes"),
)


def _template(name: str) -> str:
    return files("ragtune.report").joinpath("templates", name).read_text(encoding="utf-8")


def header(data: ReportData) -> str:
    run = data.eval_run
    machine = run.environment.get("machine", {})
    questions = run.data.get("questions", {})
    model = run.data.get("generator") or run.config.get("llm", {}).get("model", "?")
    load = load_text([run.arms[a].speed.load for a in data.arms])
    chips = "".join(
        f"<span class='chip'>{sections.arm_label(a)} <b>{sections.pct(acc.mean if (acc := data.accuracy(a)) else None)}</b></span>"
        for a in data.arms
    )
    return (
        "<header class='top'><h1>RAG, fine-tuning, or both?</h1>"
        f"<div class='meta'>{questions.get('n_questions', '?')} questions ({escape(str(questions.get('source', '?')))}) · "
        f"generator <code>{escape(str(model))}</code> · {machine.get('cpu_count', '?')} CPU cores "
        f"({escape(str(machine.get('cpu', '')))})"
        + (f" · measured under {escape(load)}" if load else "")
        + f" · run <code>{escape(run.run_id)}</code>"
        f"{' + <code>' + escape(data.freshness_run.run_id) + '</code>' if data.freshness_run else ''}</div>"
        f"<div class='chips'>{chips}</div></header>"
        + "<nav class='toc'>"
        + "".join(f"<a href='#{i}'>{t}</a>" for i, t in TOC)
        + "</nav>"
    )


def notes(data: ReportData) -> str:
    items = [f"<b>{escape(a)}</b> was not evaluated: {escape(r)}" for a, r in data.skipped.items()]
    items += [escape(n) for n in data.eval_run.notes]
    warning = data.eval_run.load_warning()
    if warning:
        items.insert(0, f"<b>{escape(warning)}</b>")
    for note in (data.eval_run.reuse_note(), data.eval_run.engine_note()):
        if note:
            items.append(escape(note))
    if any(not data.eval_run.arms[a].speed.single_latency_s for a in data.arms):
        items.append("Latency was measured inside evaluation batches, not one query at a time.")
    items.append(
        "Costs are machine time on this machine at the configured hourly price; accuracy intervals are "
        "95% percentile bootstrap over questions."
    )
    return (
        "<section id='notes'><h2>Notes</h2><ul class='notes'>"
        + "".join(f"<li>{i}</li>" for i in items)
        + "</ul></section>"
    )


def footer(data: ReportData) -> str:
    env = data.eval_run.environment
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v)
    machine: dict[str, Any] = env.get("machine", {})
    memory = (machine.get("memory_bytes") or 0) / 2**30
    return (
        f"<footer>Rendered from run files only: <code>{escape(data.eval_run.run_id)}.json</code>"
        f"{', <code>' + escape(data.freshness_run.run_id) + '.json</code>' if data.freshness_run else ''}. "
        f"Machine: {escape(str(machine.get('platform', '')))}, {machine.get('cpu_count', '?')} cores, "
        f"{memory:,.0f} GB. Versions: {escape(versions)}.</footer>"
    )


def render_html(data: ReportData) -> str:
    """The whole report page as a string."""
    from ragtune.evaluate.records import package_versions

    body = "".join(
        [
            header(data),
            sections.recommendation(data),
            sections.accuracy(data),
            sections.cost(data),
            sections.freshness(data),
            sections.retrieval(data),
            sections.examples(data),
            notes(data),
            footer(data),
        ]
    )
    return Template(_template("report.html")).substitute(
        title="ragtune report",
        css=_template("report.css"),
        body=body,
        version=package_versions(("ragtune",)).get("ragtune") or "",
    )
