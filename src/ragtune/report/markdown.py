"""The Markdown report: the same figures as the HTML one, as tables (for PRs and wikis).

text = render_markdown(load_report_data(project.runs_dir, rec))
"""

from __future__ import annotations

from typing import Any

from ragtune.report.model import ReportData
from ragtune.report.text import PHASE_LABELS, SPLIT_LABELS, pct, signed, time_to_fresh_text


def _ci(interval: dict[str, Any] | None) -> str:
    if not interval:
        return "–"
    return f"{pct(interval['mean'])} [{pct(interval['low'])}, {pct(interval['high'])}]"


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: ReportData) -> str:
    run = data.eval_run
    out = [
        "# RAG, fine-tuning, or both?",
        "",
        f"Run `{run.run_id}`"
        + (f" and freshness run `{data.freshness_run.run_id}`" if data.freshness_run else "")
        + f" · {run.data.get('questions', {}).get('n_questions', '?')} questions.",
        "",
    ]
    rec = data.recommendation
    if rec is not None:
        out += ["## Recommendation", "", f"**{rec.arm or 'No arm meets the constraints'}**", ""]
        out += [f"- {s}" for s in rec.explanation]
        if rec.what_would_change:
            out += ["", "What would change the answer:", ""] + [
                f"- {s}" for s in rec.what_would_change[:6]
            ]
        out.append("")
    splits = sorted({s for a in data.arms for s in run.arms[a].get("by_split", {})})
    out += [
        "## Accuracy",
        "",
        _table(
            ["arm", "contains", "exact match", "F1", *(SPLIT_LABELS.get(s, s) for s in splits)],
            [
                [
                    a,
                    _ci(run.arms[a]["accuracy"].get("contains")),
                    _ci(run.arms[a]["accuracy"].get("exact_match")),
                    _ci(run.arms[a]["accuracy"].get("f1")),
                    *(
                        _ci(run.arms[a].get("by_split", {}).get(s, {}).get(data.metric))
                        for s in splits
                    ),
                ]
                for a in data.arms
            ],
        ),
        "",
    ]
    called = [c for c in run.comparisons if c.get("called") and c.get("split") == "all"]
    if called:
        out += ["Differences called (paired 95% interval excludes 0):", ""]
        out += [
            f"- {c['a']} − {c['b']}: {signed(c['mean'])} [{signed(c['low'])}, {signed(c['high'])}]"
            for c in called
        ]
        out.append("")
    rows = []
    for a in data.arms:
        speed = run.arms[a]["speed"]
        single = (speed.get("single_latency_ms") or {}).get("total") or speed["latency_ms"]["total"]
        total = f"${rec.costs[a]['total']:,.2f}" if rec else "–"
        rows.append(
            [
                a,
                f"{single['p50']:,.0f} / {single['p95']:,.0f}",
                f"{speed['amortized_ms']['mean']:,.0f}",
                f"{speed['prompt_tokens']:,.0f} / {speed['completion_tokens']:,.0f}",
                f"{(speed.get('peak_rss_bytes') or 0) / 2**20:,.0f}",
                total,
            ]
        )
    out += [
        "## Cost and speed",
        "",
        _table(
            [
                "arm",
                "latency p50 / p95 (ms)",
                "compute/query (ms)",
                "prompt / completion tokens",
                "peak RSS (MB)",
                "projected cost",
            ],
            rows,
        ),
        "",
    ]
    fresh = data.freshness_run
    if fresh is not None:
        phases = fresh.freshness.get("phases", [])
        rows = []
        for a, s in fresh.arms.items():
            if s.get("status") != "ok":
                continue
            cells = [
                f"{pct(s['phases'][p]['changed_new']['mean'])} / {pct(s['phases'][p]['changed_old']['mean'])}"
                if p in s["phases"]
                else "–"
                for p in phases
            ]
            ttf = s["time_to_fresh"]
            rows.append(
                [
                    a,
                    *cells,
                    f"{s['after_update']} → {s['final']}",
                    time_to_fresh_text(a, ttf),
                    ttf["how"],
                ]
            )
        out += [
            "## Freshness",
            "",
            "New / old answers on changed facts:",
            "",
            _table(
                ["arm", *(PHASE_LABELS[p] for p in phases), "state", "time to fresh", "how"], rows
            ),
            "",
        ]
    retrieving = [a for a in data.arms if run.arms[a].get("retrieval")]
    if retrieving:
        names = list(dict.fromkeys(n for a in retrieving for n in run.arms[a]["retrieval"]))
        out += [
            "## Retrieval",
            "",
            _table(
                ["arm", *names, "grounded"],
                [
                    [
                        a,
                        *(_ci(run.arms[a]["retrieval"].get(n)) for n in names),
                        _ci(run.arms[a].get("groundedness")),
                    ]
                    for a in retrieving
                ],
            ),
            "",
        ]
    if data.examples:
        out += ["## Examples", ""]
        for ex in data.examples:
            out += [f"**{ex['question']}** (accepted: {' / '.join(ex['gold'])})", ""]
            out += [
                f"- {'✓' if ans['correct'] else '✗'} {arm}: {ans['text']}"
                + (
                    f" — cites {', '.join(c['doc_id'] for c in ans['cited'])}"
                    if ans["cited"]
                    else ""
                )
                for arm, ans in ex["answers"].items()
            ]
            out.append("")
    if data.skipped:
        out += ["## Not evaluated", ""] + [f"- {a}: {r}" for a, r in data.skipped.items()] + [""]
    return "\n".join(out)
