"""The Markdown report: the same figures as the HTML one, as tables (for PRs and wikis).

text = render_markdown(load_report_data(project.runs_dir, rec))
"""

from __future__ import annotations

from ragtune.report.model import ReportData
from ragtune.report.rows import (
    ANSWER_METRICS,
    accuracy_table,
    freshness_rows,
    retrieval_rows,
    speed_rows,
)
from ragtune.report.text import (
    PHASE_LABELS,
    SPLIT_LABELS,
    interval_text,
    load_text,
    new_old_text,
    signed,
)


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: ReportData) -> str:
    """The whole report as Markdown, section after section."""
    out = _header(data) + _recommendation(data) + _accuracy(data) + _speed(data)
    out += _freshness(data) + _retrieval(data) + _examples(data)
    if data.skipped:
        out += ["## Not evaluated", ""] + [f"- {a}: {r}" for a, r in data.skipped.items()] + [""]
    return "\n".join(out)


def _header(data: ReportData) -> list[str]:
    run = data.eval_run
    load = load_text([run.arms[a].speed.load for a in data.arms])
    warning = run.load_warning()
    reuse = run.reuse_note()
    engine = run.engine_note()
    return [
        "# RAG, fine-tuning, or both?",
        "",
        f"Run `{run.run_id}`"
        + (f" and freshness run `{data.freshness_run.run_id}`" if data.freshness_run else "")
        + f" · {run.data.get('questions', {}).get('n_questions', '?')} questions"
        + (f" · measured under {load}" if load else "")
        + ".",
        "",
        *([f"> **{warning}**", ""] if warning else []),
        *([f"> {reuse}", ""] if reuse else []),
        *([f"> {engine}", ""] if engine else []),
    ]


def _recommendation(data: ReportData) -> list[str]:
    rec = data.recommendation
    if rec is None:
        return []
    out = ["## Recommendation", "", f"**{rec.arm or 'No arm meets the constraints'}**", ""]
    out += [f"- {s}" for s in rec.explanation]
    if rec.what_would_change:
        out += ["", "What would change the answer:", ""]
        out += [f"- {s}" for s in rec.what_would_change[:6]]
    return [*out, ""]


def _accuracy(data: ReportData) -> list[str]:
    table = accuracy_table(data.eval_run, data.arms, data.metric)
    head = ["arm", "contains", "exact match", "F1", *(SPLIT_LABELS.get(s, s) for s in table.splits)]
    rows = [
        [
            r.arm,
            *(interval_text(r.metrics[m]) for m in ANSWER_METRICS),
            *(interval_text(r.splits[s]) for s in table.splits),
        ]
        for r in table.rows
    ]
    out = ["## Accuracy", "", _table(head, rows), ""]
    called = [c for c in data.eval_run.comparisons if c.called and c.split == "all"]
    if called:
        out += ["Differences called (paired 95% interval excludes 0):", ""]
        out += [
            f"- {c.a} − {c.b}: {signed(c.mean)} [{signed(c.low)}, {signed(c.high)}]" for c in called
        ]
        out.append("")
    return out


def _speed(data: ReportData) -> list[str]:
    rows = []
    for r in speed_rows(data.eval_run, data.arms, data.recommendation):
        latency = r.speed.latency.total
        rows.append(
            [
                r.arm,
                f"{latency.p50:,.0f} / {latency.p95:,.0f}",
                f"{r.speed.amortized_ms.mean:,.0f}",
                f"{r.speed.prompt_tokens:,.0f} / {r.speed.completion_tokens:,.0f}",
                f"{r.speed.peak_rss_mb:,.0f}",
                f"${r.projected_cost:,.2f}" if r.projected_cost is not None else "–",
            ]
        )
    head = [
        "arm",
        "latency p50 / p95 (ms)",
        "compute/query (ms)",
        "prompt / completion tokens",
        "peak RSS (MB)",
        "projected cost",
    ]
    return ["## Cost and speed", "", _table(head, rows), ""]


def _freshness(data: ReportData) -> list[str]:
    fresh = data.freshness_run
    if fresh is None:
        return []
    phases = fresh.freshness.phases
    rows = [
        [
            r.arm,
            *(new_old_text(r.phases[p]) for p in phases),
            f"{r.after_update} → {r.final}",
            r.time_to_fresh,
            r.how,
        ]
        for r in freshness_rows(fresh)
    ]
    head = ["arm", *(PHASE_LABELS[p] for p in phases), "state", "time to fresh", "how"]
    return ["## Freshness", "", "New / old answers on changed facts:", "", _table(head, rows), ""]


def _retrieval(data: ReportData) -> list[str]:
    names, rows = retrieval_rows(data.eval_run, data.arms)
    if not rows:
        return []
    body = [
        [r.arm, *(interval_text(r.metrics[n]) for n in names), interval_text(r.grounded)]
        for r in rows
    ]
    return ["## Retrieval", "", _table(["arm", *names, "grounded"], body), ""]


def _examples(data: ReportData) -> list[str]:
    if not data.examples:
        return []
    out = ["## Examples", ""]
    for ex in data.examples:
        out += [f"**{ex['question']}** (accepted: {' / '.join(ex['gold'])})", ""]
        out += [
            f"- {'✓' if ans['correct'] else '✗'} {arm}: {ans['text']}"
            + (f" — cites {', '.join(c['doc_id'] for c in ans['cited'])}" if ans["cited"] else "")
            for arm, ans in ex["answers"].items()
        ]
        out.append("")
    return out
