"""Plain-text pieces of a report that HTML, Markdown and the CLI print alike."""

from __future__ import annotations

from ragtune.evaluate.results import Interval, LoadSample, PhaseSummary, TimeToFresh

PHASE_LABELS = {
    "before": "before the update",
    "updated": "after re-indexing",
    "retrained": "after retraining",
}
STATE_LABELS = {"unknown": "knows neither", "leaning fresh": "leaning fresh (not significant)"}
SPLIT_LABELS = {
    "unseen_phrasing": "trained facts, new wording",
    "unseen_fact": "facts never trained on",
}


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def signed(value: float) -> str:
    """``+12%`` / ``-3%`` / ``+0%`` (never ``-0%``)."""
    points = round(value * 100)
    return f"{points:+d}%" if points else "+0%"


def time_to_fresh_text(ttf: TimeToFresh) -> str:
    """``"12.3 s"``, ``"≈ 410 s (estimate)"``, ``"never"`` (an arm that neither retrieves
    nor is trained, like ``base``) or ``"–"``."""
    if ttf.never or ttf.how.startswith("never"):
        return "never"
    if ttf.seconds is not None:
        return f"{ttf.seconds:,.1f} s"
    if ttf.estimate_seconds is not None:
        return f"≈ {ttf.estimate_seconds:,.0f} s (estimate)"
    return "–"


def interval_text(interval: Interval | None) -> str:
    """``"62% [51%, 73%]"``, or ``"–"`` when there is no figure."""
    if interval is None:
        return "–"
    return f"{pct(interval.mean)} [{pct(interval.low)}, {pct(interval.high)}]"


def new_old_text(phase: PhaseSummary | None) -> str:
    """NEW / OLD answer rates on changed facts: ``"75% / 8%"``."""
    if phase is None:
        return "–"
    return f"{pct(phase.changed_new.mean)} / {pct(phase.changed_old.mean)}"


def load_text(loads: list[LoadSample]) -> str:
    """``"load 0.4–2.1 on 2 cores, 2 threads"`` over the arms' measurements, or ``""``
    for runs written before the load was recorded."""
    seen = [x for x in loads if x.max is not None]
    if not seen:
        return ""
    low = min(x.before if x.before is not None else x.max or 0.0 for x in seen)
    high = max(x.max or 0.0 for x in seen)
    threads = seen[0].threads
    return f"load {low:.1f}–{high:.1f} on {seen[0].cores} cores" + (
        f", {threads} threads" if threads else ""
    )
