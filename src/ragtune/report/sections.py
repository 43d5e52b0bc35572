"""The HTML report's sections, each a function of the :class:`ReportData` view model."""

from __future__ import annotations

from html import escape

from ragtune.evaluate.results import Comparison, Interval, OneOffCosts
from ragtune.report.model import ReportData
from ragtune.report.plots import (
    IntervalRow,
    Point,
    arm_color,
    box_plot,
    grouped_bars,
    interval_chart,
    scatter,
)
from ragtune.report.rows import accuracy_table, freshness_rows, retrieval_rows, speed_rows
from ragtune.report.text import (
    PHASE_LABELS,
    SPLIT_LABELS,
    STATE_LABELS,
    new_old_text,
    pct,
    signed,
)

PHASE_COLORS = {"before": "#b8c0cc", "updated": "#2f6fdb", "retrained": "#1c9a6c"}


def ci_cell(interval: Interval | None, percent: bool = True) -> str:
    if interval is None:
        return "<td class='num muted'>–</td>"
    fmt = pct if percent else (lambda v: f"{v:.2f}")
    return (
        f"<td class='num'>{fmt(interval.mean)} <span class='ci'>[{fmt(interval.low)}, "
        f"{fmt(interval.high)}]</span></td>"
    )


def arm_label(arm: str) -> str:
    return f"<span class='swatch' style='background:{arm_color(arm)}'></span>{escape(arm)}"


def state_tag(state: str) -> str:
    """A freshness state (``fresh``, ``leaning fresh``, ...) as a coloured tag."""
    return f"<span class='tag {state.replace(' ', '-')}'>{STATE_LABELS.get(state, state)}</span>"


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def recommendation(data: ReportData) -> str:
    rec = data.recommendation
    if rec is None:
        return ""
    pick = (
        f"Use <span class='arm'>{escape(rec.arm)}</span>"
        if rec.arm
        else "No arm meets the constraints"
    )
    items = "".join(f"<li>{escape(s)}</li>" for s in rec.explanation)
    changes = "".join(f"<li>{escape(s)}</li>" for s in rec.what_would_change[:6])
    c = rec.constraints
    constraints = (
        f"Constraints: {c['updates_per_month']:g} updates/month · {c['queries_per_day']:,.0f} queries/day · "
        f"latency budget {c['latency_budget_ms']:,.0f} ms · accuracy floor {c['accuracy_floor']:.0%} · "
        f"{c['horizon_months']:g}-month horizon · ${c['price_per_hour']:g}/machine-hour "
        "(change them with <code>ragtune recommend --updates-per-month …</code> or the "
        "<code>[recommend]</code> config section)."
    )
    more = (
        f"<div class='changes'><b>What would change the answer</b><ul>{changes}</ul></div>"
        if changes
        else ""
    )
    return (
        f"<section id='recommendation' class='rec'><p class='pick'>{pick}</p><ul>{items}</ul>{more}"
        f"<div class='constraints'>{constraints}</div></section>"
    )


def accuracy(data: ReportData) -> str:
    run = data.eval_run
    table = accuracy_table(run, data.arms, data.metric)
    rows = [
        IntervalRow(r.arm, a.mean, a.low, a.high)
        for r in table.rows
        if (a := data.accuracy(r.arm)) is not None
    ]
    n = run.data.get("questions", {}).get("n_questions", "?")
    chart = figure(
        interval_chart(rows, title="answer accuracy per arm"),
        f"Share of {n} held-out questions whose answer contains an accepted answer "
        "(after SQuAD + number normalization), with 95% bootstrap intervals.",
    )
    head = "".join(f"<th class='num'>{escape(m)}</th>" for m in table.metrics)
    head += "".join(f"<th class='num'>{escape(SPLIT_LABELS.get(s, s))}</th>" for s in table.splits)
    body = ""
    for r in table.rows:
        cells = "".join(ci_cell(r.metrics[m], m != "semantic") for m in table.metrics)
        cells += "".join(ci_cell(r.splits[s]) for s in table.splits)
        if table.seeded:
            cells += (
                f"<td class='num'>{pct(r.seeds.mean)} ± {r.seeds.std * 100:.1f} pts "
                f"<span class='ci'>({len(r.seeds.seeds)} seeds)</span></td>"
                if r.seeds
                else "<td class='num muted'>–</td>"
            )
        body += f"<tr><td class='arm'>{arm_label(r.arm)}</td>{cells}</tr>"
    if table.seeded:
        head += "<th class='num'>over training seeds</th>"
    html = f"<div class='scroll'><table><tr><th>arm</th>{head}</tr>{body}</table></div>"
    return (
        f"<section id='accuracy'><h2>Accuracy</h2><p class='lead'>Every arm answered the same questions. "
        f"Split columns show containment on each held-out split.</p>{chart}{html}{differences(data)}</section>"
    )


def differences(data: ReportData) -> str:
    """One row per pair of arms (the better first), one column per question set."""
    rows = [c for c in data.eval_run.comparisons if c.metric == data.metric]
    if not rows:
        return ""
    splits = list(dict.fromkeys(c.split for c in rows))
    overall = {(c.a, c.b): c.mean for c in rows if c.split == "all"}
    pivot: dict[tuple[str, str], dict[str, Comparison]] = {}
    for c in rows:
        oriented = c.flipped() if overall.get((c.a, c.b), c.mean) < 0 else c
        pivot.setdefault((oriented.a, oriented.b), {})[c.split] = oriented
    order = sorted(pivot, key=lambda k: -abs(d.mean) if (d := pivot[k].get("all")) else 0.0)
    body = ""
    for a, b in order:
        cells = ""
        for split in splits:
            d = pivot[(a, b)].get(split)
            if d is None:
                cells += "<td class='num muted'>–</td>"
                continue
            gap = signed(d.mean)
            gap = f"<b>{gap}</b>" if d.called else f"<span class='muted'>{gap}</span>"
            cells += f"<td class='num'>{gap} <span class='ci'>[{signed(d.low)}, {signed(d.high)}]</span></td>"
        body += f"<tr><td class='arm'>{arm_label(a)} − {arm_label(b)}</td>{cells}</tr>"
    head = "".join(
        f"<th class='num'>{escape('all questions' if s == 'all' else SPLIT_LABELS.get(s, s))}</th>"
        for s in splits
    )
    return (
        "<h3>Differences between arms</h3><p class='lead'>Paired bootstrap over the same questions. "
        "<b>Bold</b>: called, the 95% interval excludes 0; grey: cannot be told apart on these questions.</p>"
        f"<div class='scroll'><table><tr><th>difference</th>{head}</tr>{body}</table></div>"
    )


def cost(data: ReportData) -> str:
    run, rec = data.eval_run, data.recommendation
    rows = speed_rows(run, data.arms, rec)
    points = []
    for r in rows:
        a = data.accuracy(r.arm) or Interval(mean=0.0, low=0.0, high=0.0)
        x = r.projected_cost if r.projected_cost is not None else r.speed.amortized_ms.mean
        points.append(Point(r.arm, max(x, 1e-6), a.mean, a.low, a.high))
    label = (
        f"projected cost over {rec.constraints['horizon_months']:g} months ($, log scale)"
        if rec
        else "compute per question (ms, log scale)"
    )
    chart = figure(
        scatter(points, x_label=label, log_x=True),
        "Up and to the left is better. Cost counts one-off work (index, synthesis, training), "
        "re-indexing or retraining at every update, and compute per query, all measured.",
    )
    body = ""
    for r in rows:
        speed = r.speed
        single = speed.single_latency_ms.total if speed.single_latency_ms else None
        batched = speed.latency_ms
        cost_cell = f"${r.projected_cost:,.2f}" if r.projected_cost is not None else "–"
        body += (
            f"<tr><td class='arm'>{arm_label(r.arm)}</td>"
            f"<td class='num'>{single.p50 if single else 0:,.0f} / {single.p95 if single else 0:,.0f}</td>"
            f"<td class='num'>{batched.retrieve.p50:,.0f} / {batched.generate.p50:,.0f}</td>"
            f"<td class='num'>{speed.amortized_ms.mean:,.0f}</td>"
            f"<td class='num'>{speed.prompt_tokens:,.0f} / {speed.completion_tokens:,.0f}</td>"
            f"<td class='num'>{speed.tokens_per_s or 0:,.1f}</td><td class='num'>{speed.peak_rss_mb:,.0f}</td>"
            f"<td class='num'>{r.one_off_s or 0:,.0f} / {r.per_update_s or 0:,.0f}</td>"
            f"<td class='num'>{cost_cell}</td></tr>"
        )
    table = (
        "<div class='scroll'><table class='compact'><tr><th>arm</th><th class='num'>latency p50 / p95<br>(ms, one query)</th>"
        "<th class='num'>retrieve / generate<br>p50 (ms, batched)</th><th class='num'>compute /<br>query (ms)</th>"
        "<th class='num'>prompt / completion<br>tokens</th><th class='num'>tokens/s</th><th class='num'>peak RSS<br>(MB)</th>"
        "<th class='num'>one-off / per<br>update (s)</th><th class='num'>projected cost</th></tr>"
        f"{body}</table></div>"
    )
    one_off = _one_off_line(run.costs)
    return (
        f"<section id='cost'><h2>Accuracy vs cost</h2>{chart}{table}<p class='lead'>{one_off}</p>"
        f"{latency(data)}</section>"
    )


def _one_off_line(costs: OneOffCosts) -> str:
    parts = []
    index = costs.index
    if index.seconds is not None:
        parts.append(
            f"index build {index.seconds:,.1f} s for {index.chunks or 0:,} chunks "
            f"({(index.bytes or 0) / 2**20:,.1f} MB on disk)"
        )
    if costs.synth is not None and costs.synth.seconds is not None:
        parts.append(f"synthesis {costs.synth.seconds:,.1f} s")
    for mode, t in costs.train.items():
        parts.append(
            f"training {mode!r} {t.train_seconds or 0:,.0f} s ({t.steps or 0} steps, "
            f"{t.tokens_seen or 0:,} tokens, peak {t.peak_rss_mb or 0:,.0f} MB)"
        )
    return "One-off costs measured: " + "; ".join(escape(p) for p in parts) + "." if parts else ""


def latency(data: ReportData) -> str:
    """Per-question compute (retrieval + this question's share of its generation batch)
    as a distribution; each question also answered alone is a ▲ marker."""
    run = data.eval_run
    series: dict[str, list[float]] = {}
    markers: dict[str, dict[str, float]] = {}
    for arm in data.arms:
        speed = run.arms[arm].speed
        series[arm] = [r.get("amortized_s", 0.0) * 1000 for r in run.arm_records(arm)]
        markers[arm] = {
            f"question {i + 1} answered alone": s * 1000
            for i, s in enumerate(speed.single_latency_s)
        }
    chart = box_plot(series, title="latency per question", markers=markers)
    return "<h3>Latency distribution</h3>" + figure(
        chart,
        "Compute per question while answering in batches: retrieval plus its share of the batch's "
        "generation (box: quartiles, whiskers: 5th–95th percentile). ▲ marks questions answered "
        "one at a time, the latency a single user sees.",
    )


def freshness(data: ReportData) -> str:
    run = data.freshness_run
    if run is None:
        return (
            "<section id='freshness'><h2>Freshness</h2><p class='lead'>No freshness run yet: "
            "<code>ragtune freshness --update NEW_DOCS</code> measures who answers with the new facts.</p></section>"
        )
    rows = freshness_rows(run, data.arms) or freshness_rows(run)
    phases = run.freshness.phases

    def rates(which: str) -> dict[str, dict[str, float | None]]:
        return {
            r.arm: {
                PHASE_LABELS[p]: getattr(ph, which).mean if (ph := r.phases[p]) else None
                for p in phases
            }
            for r in rows
        }

    colors = {PHASE_LABELS[p]: PHASE_COLORS[p] for p in phases}
    charts = figure(
        grouped_bars(rates("changed_new"), colors, title="new answers on changed facts"),
        f"Share of {run.data.get('n_changed')} questions about changed facts answered with the NEW value.",
    ) + figure(
        grouped_bars(rates("changed_old"), colors, title="old answers on changed facts"),
        "Share answered with the OLD (now wrong) value: a stale arm is high here after the update.",
    )
    body = ""
    for r in rows:
        cells = "".join(
            f"<td class='num'>{new_old_text(r.phases[p])}</td>"
            if r.phases[p]
            else "<td class='num muted'>–</td>"
            for p in phases
        )
        body += (
            f"<tr><td class='arm'>{arm_label(r.arm)}</td>{cells}<td class='num'>{pct(r.unchanged.mean)}</td>"
            f"<td class='state'>{state_tag(r.after_update)} → {state_tag(r.final)}</td>"
            f"<td class='num'>{r.time_to_fresh}</td><td class='muted'>{escape(r.how)}</td></tr>"
        )
    head = "".join(f"<th class='num'>{PHASE_LABELS[p]}<br>new / old</th>" for p in phases)
    ingest = run.freshness.ingest
    lead = (
        f"The documents were updated ({ingest.added} added, {ingest.updated} changed, "
        f"{ingest.deleted} deleted; re-indexed in {ingest.seconds:,.1f} s). "
        "Every arm was then asked about the facts that changed."
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in run.notes)
    table = (
        f"<table><tr><th>arm</th>{head}<th class='num'>unchanged facts</th><th>state</th>"
        f"<th class='num'>time to fresh</th><th>how</th></tr>{body}</table>"
    )
    return (
        f"<section id='freshness'><h2>Freshness</h2><p class='lead'>{escape(lead)}</p>{charts}{table}"
        f"{'<ul class=notes>' + notes + '</ul>' if notes else ''}</section>"
    )


def retrieval(data: ReportData) -> str:
    names, rows = retrieval_rows(data.eval_run, data.arms)
    if not rows:
        return ""
    head = "".join(f"<th class='num'>{escape(n)}</th>" for n in names)
    body = ""
    for r in rows:
        cells = "".join(ci_cell(r.metrics[n]) for n in names)
        body += (
            f"<tr><td class='arm'>{arm_label(r.arm)}</td>{cells}{ci_cell(r.grounded)}"
            f"<td class='num'>{pct(r.citation_rate)}</td></tr>"
        )
    return (
        "<section id='retrieval'><h2>Retrieval and groundedness</h2><p class='lead'>Against the documents that "
        "state each answer; <code>answer@k</code>: a retrieved passage states the answer. Groundedness: share of "
        "answers whose cited passages state the accepted answer.</p>"
        f"<table><tr><th>arm</th>{head}<th class='num'>grounded</th><th class='num'>cites</th></tr>{body}</table></section>"
    )


def examples(data: ReportData) -> str:
    if not data.examples:
        return ""
    cards = ""
    for ex in data.examples:
        answers = ""
        for arm, answer in ex["answers"].items():
            cited = "".join(
                f"<div>[{c['marker']}] <b>{escape(c['doc_id'])}</b>: {escape(c.get('snippet', ''))}</div>"
                for c in answer["cited"]
            )
            details = (
                f"<details><summary>{len(answer['cited'])} citation(s)</summary>{cited}</details>"
                if cited
                else ""
            )
            mark = "✓" if answer["correct"] else "✗"
            answers += (
                f"<div class='answer {'right' if answer['correct'] else 'wrong'}'><div class='who'>{mark} "
                f"{arm_label(arm)}</div>{escape(answer['text']) or '<i>(empty)</i>'}{details}</div>"
            )
        split = SPLIT_LABELS.get(ex["split"], ex["split"])
        cards += (
            f"<div class='example'><div class='q'>{escape(ex['question'])}</div><div class='gold'>accepted: "
            f"{escape(' | '.join(ex['gold']))}{' · ' + escape(split) if split else ''}</div>"
            f"<div class='answers'>{answers}</div></div>"
        )
    return (
        f"<section id='examples'><h2>Examples</h2><p class='lead'>Questions the arms disagree on, side by side "
        f"(✓ contains an accepted answer).</p><div class='examples'>{cards}</div></section>"
    )
