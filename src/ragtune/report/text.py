"""Plain-text pieces of a report that HTML, Markdown and the CLI print alike."""

from __future__ import annotations

from typing import Any

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


def time_to_fresh_text(arm: str, ttf: dict[str, Any]) -> str:
    """``"12.3 s"``, ``"≈ 410 s (estimate)"``, ``"never"`` (an arm that neither retrieves
    nor is trained, like ``base``) or ``"–"``."""
    if ttf.get("never") or str(ttf.get("how", "")).startswith("never"):
        return "never"
    if ttf.get("seconds") is not None:
        return f"{ttf['seconds']:,.1f} s"
    if ttf.get("estimate_seconds") is not None:
        return f"≈ {ttf['estimate_seconds']:,.0f} s (estimate)"
    return "–"
