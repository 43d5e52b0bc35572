"""Hand-written inline SVG charts: no plotting library, crisp at any zoom, self-contained.

Each function returns one ``<svg>`` element as a string::

    svg = interval_chart([IntervalRow("rag", .62, .51, .73), IntervalRow("base", .02, 0, .05)])
    svg = scatter([Point("rag", x=1.9, y=.62, low=.51, high=.73)], x_label="cost ($)")
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

FONT = "font-family='system-ui, -apple-system, Segoe UI, sans-serif'"


def arm_color(arm: str) -> str:
    """The arm's registered colour, or a stable one picked from its name."""
    from ragtune.registry import arms

    return arms.color(arm)


@dataclass
class IntervalRow:
    label: str
    mean: float
    low: float
    high: float
    color: str = ""
    note: str = ""


@dataclass
class Point:
    label: str
    x: float
    y: float
    low: float | None = None
    high: float | None = None
    color: str = ""


def _svg(width: int, height: int, body: str, title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"role='img' aria-label='{escape(title)}' {FONT} font-size='12'><title>{escape(title)}</title>{body}</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    anchor: str = "start",
    size: int = 12,
    weight: str = "normal",
    fill: str = "#1f2328",
) -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' font-size='{size}' font-weight='{weight}' "
        f"fill='{fill}'>{escape(text)}</text>"
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``.

    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(low / step) * step
    ticks, value = [start], start
    while value < high - step * 1e-9:
        value += step
        ticks.append(round(value, 10))
    return ticks


def interval_chart(
    rows: Sequence[IntervalRow],
    title: str = "accuracy with 95% intervals",
    percent: bool = True,
    width: int = 720,
) -> str:
    """Horizontal bars with 95% interval whiskers, one row per arm, on a 0-1 axis."""
    row_h, left, right, top = 34, 110, 70, 26
    height = top + row_h * len(rows) + 34
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + max(0.0, min(1.0, v)) * plot_w

    parts = []
    for tick in nice_ticks(0, 1):
        parts.append(
            f"<line x1='{x(tick):.1f}' y1='{top - 6}' x2='{x(tick):.1f}' y2='{height - 28}' stroke='#e6e8eb'/>"
        )
        parts.append(
            _text(
                x(tick),
                height - 12,
                f"{tick:.0%}" if percent else f"{tick:g}",
                "middle",
                11,
                fill="#57606a",
            )
        )
    for i, row in enumerate(rows):
        y = top + i * row_h
        color = row.color or arm_color(row.label)
        parts.append(_text(left - 10, y + 16, row.label, "end", 13, "600"))
        parts.append(
            f"<rect x='{left}' y='{y + 4}' width='{max(0.0, x(row.mean) - left):.1f}' height='18' rx='3' "
            f"fill='{color}' fill-opacity='0.85'/>"
        )
        parts.append(
            f"<line x1='{x(row.low):.1f}' y1='{y + 13}' x2='{x(row.high):.1f}' y2='{y + 13}' "
            f"stroke='#1f2328' stroke-width='1.6'/>"
        )
        for end in (row.low, row.high):
            parts.append(
                f"<line x1='{x(end):.1f}' y1='{y + 7}' x2='{x(end):.1f}' y2='{y + 19}' stroke='#1f2328' stroke-width='1.6'/>"
            )
        label = f"{row.mean:.0%}" if percent else f"{row.mean:.2f}"
        parts.append(
            _text(
                x(max(row.high, row.mean)) + 6,
                y + 17,
                label + (f"  {row.note}" if row.note else ""),
                size=12,
                fill="#1f2328",
            )
        )
    return _svg(width, height, "".join(parts), title)


def scatter(
    points: Sequence[Point],
    x_label: str,
    y_label: str = "accuracy",
    title: str = "accuracy vs cost",
    width: int = 720,
    height: int = 340,
    log_x: bool = False,
) -> str:
    """Points with vertical 95% intervals; ``log_x`` for costs spanning orders of magnitude."""
    left, right, top, bottom = 64, 30, 20, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [p.x for p in points] or [0.0, 1.0]
    if log_x:
        positive = [v for v in xs if v > 0] or [1.0]
        lo, hi = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
        hi = hi if hi > lo else lo + 1

        def fx(v: float) -> float:
            return left + (math.log10(max(v, 10**lo)) - lo) / (hi - lo) * plot_w

        ticks = [10.0**e for e in range(lo, hi + 1)]
    else:
        ticks = nice_ticks(0, max(xs) * 1.1 or 1.0)
        span = ticks[-1] or 1.0

        def fx(v: float) -> float:
            return left + v / span * plot_w

    def fy(v: float) -> float:
        return top + (1 - max(0.0, min(1.0, v))) * plot_h

    parts = [
        f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='#fbfcfd' stroke='#d0d7de'/>"
    ]
    for t in nice_ticks(0, 1):
        parts.append(
            f"<line x1='{left}' y1='{fy(t):.1f}' x2='{left + plot_w}' y2='{fy(t):.1f}' stroke='#eef0f2'/>"
        )
        parts.append(_text(left - 8, fy(t) + 4, f"{t:.0%}", "end", 11, fill="#57606a"))
    for t in ticks:
        parts.append(_text(fx(t), top + plot_h + 18, _short(t), "middle", 11, fill="#57606a"))
    parts.append(_text(left + plot_w / 2, height - 8, x_label, "middle", 12, fill="#57606a"))
    parts.append(
        f"<text transform='translate(16 {top + plot_h / 2:.0f}) rotate(-90)' text-anchor='middle' "
        f"font-size='12' fill='#57606a'>{escape(y_label)}</text>"
    )
    placed: list[tuple[float, float]] = []
    for p in sorted(points, key=lambda q: -q.y):
        color = p.color or arm_color(p.label)
        cx, cy = fx(p.x), fy(p.y)
        label_y = cy - 8
        # Nudge a label down until it clears the labels already placed near it.
        while any(abs(label_y - y) < 14 and abs(cx - x) < 70 for x, y in placed):
            label_y += 14
        placed.append((cx, label_y))
        if p.low is not None and p.high is not None:
            parts.append(
                f"<line x1='{cx:.1f}' y1='{fy(p.low):.1f}' x2='{cx:.1f}' y2='{fy(p.high):.1f}' "
                f"stroke='{color}' stroke-width='2' stroke-opacity='0.6'/>"
            )
        parts.append(
            f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='7' fill='{color}' stroke='white' stroke-width='1.5'/>"
        )
        parts.append(_text(cx + 10, label_y, p.label, size=12, weight="600", fill=color))
    return _svg(width, height, "".join(parts), title)


def _short(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    if abs(value) < 0.01:
        return f"{value:.0e}"
    return f"{value:g}"


def box_plot(
    series: Mapping[str, Sequence[float]],
    unit: str = "ms",
    title: str = "latency per question",
    markers: dict[str, dict[str, float]] | None = None,
    width: int = 720,
) -> str:
    """One horizontal box (quartiles, whiskers to 5th-95th percentile, dots beyond) per arm.

    ``markers`` adds labelled ticks per arm, e.g. ``{"rag": {"single p95": 1800.0}}``.
    """
    labels = list(series)
    row_h, left, right, top = 38, 110, 40, 14
    height = top + row_h * len(labels) + 40
    plot_w = width - left - right
    every = [v for vs in series.values() for v in vs] + [
        v for m in (markers or {}).values() for v in m.values()
    ]
    ticks = nice_ticks(0, max(every) if every else 1.0)
    span = ticks[-1] or 1.0

    def fx(v: float) -> float:
        return left + v / span * plot_w

    parts = []
    for t in ticks:
        parts.append(
            f"<line x1='{fx(t):.1f}' y1='{top}' x2='{fx(t):.1f}' y2='{height - 30}' stroke='#eef0f2'/>"
        )
        parts.append(
            _text(
                fx(t),
                height - 14,
                f"{_short(t)} {unit}" if t == ticks[-1] else _short(t),
                "middle",
                11,
                fill="#57606a",
            )
        )
    for i, label in enumerate(labels):
        values = sorted(series[label])
        y = top + i * row_h + 8
        color = arm_color(label)
        parts.append(_text(left - 10, y + 15, label, "end", 13, "600"))
        if not values:
            continue
        q = [_quantile(values, f) for f in (0.05, 0.25, 0.5, 0.75, 0.95)]
        parts.append(
            f"<line x1='{fx(q[0]):.1f}' y1='{y + 11}' x2='{fx(q[4]):.1f}' y2='{y + 11}' stroke='{color}'/>"
        )
        parts.append(
            f"<rect x='{fx(q[1]):.1f}' y='{y + 2}' width='{max(1.5, fx(q[3]) - fx(q[1])):.1f}' height='18' "
            f"fill='{color}' fill-opacity='0.25' stroke='{color}'/>"
        )
        parts.append(
            f"<line x1='{fx(q[2]):.1f}' y1='{y + 2}' x2='{fx(q[2]):.1f}' y2='{y + 20}' stroke='{color}' stroke-width='2.5'/>"
        )
        for v in values:
            if v < q[0] or v > q[4]:
                parts.append(
                    f"<circle cx='{fx(v):.1f}' cy='{y + 11}' r='2.2' fill='{color}' fill-opacity='0.6'/>"
                )
        for name, v in (markers or {}).get(label, {}).items():
            parts.append(
                f"<path d='M{fx(v):.1f},{y + 24} l-4,7 h8 z' fill='#1f2328'><title>{escape(name)}: "
                f"{v:,.0f} {unit}</title></path>"
            )
    return _svg(width, height, "".join(parts), title)


def _quantile(values: Sequence[float], fraction: float) -> float:
    position = (len(values) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


def grouped_bars(
    groups: dict[str, dict[str, float | None]],
    series_colors: dict[str, str],
    title: str = "freshness",
    width: int = 720,
    height: int = 300,
) -> str:
    """Vertical bars on a 0-1 axis: one group per arm, one bar per series (phase);
    a missing value leaves a gap with "n/a"."""
    left, right, top, bottom = 48, 16, 30, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    names = list(series_colors)
    group_w = plot_w / max(1, len(groups))
    bar_w = min(34.0, group_w * 0.8 / max(1, len(names)))

    def fy(v: float) -> float:
        return top + (1 - max(0.0, min(1.0, v))) * plot_h

    parts = []
    for t in nice_ticks(0, 1):
        parts.append(
            f"<line x1='{left}' y1='{fy(t):.1f}' x2='{left + plot_w}' y2='{fy(t):.1f}' stroke='#eef0f2'/>"
        )
        parts.append(_text(left - 6, fy(t) + 4, f"{t:.0%}", "end", 11, fill="#57606a"))
    for g, (group, values) in enumerate(groups.items()):
        start = left + g * group_w + (group_w - bar_w * len(names)) / 2
        for s, name in enumerate(names):
            value = values.get(name)
            bx = start + s * bar_w
            if value is None:
                parts.append(_text(bx + bar_w / 2, fy(0) - 4, "n/a", "middle", 9, fill="#8c959f"))
                continue
            parts.append(
                f"<rect x='{bx + 1:.1f}' y='{fy(value):.1f}' width='{bar_w - 2:.1f}' "
                f"height='{fy(0) - fy(value):.1f}' fill='{series_colors[name]}'><title>{escape(group)} · "
                f"{escape(name)}: {value:.0%}</title></rect>"
            )
            parts.append(
                _text(bx + bar_w / 2, fy(value) - 3, f"{value:.0%}", "middle", 9, fill="#57606a")
            )
        parts.append(
            _text(left + g * group_w + group_w / 2, top + plot_h + 18, group, "middle", 13, "600")
        )
    for s, name in enumerate(names):
        lx = left + s * 150
        parts.append(f"<rect x='{lx}' y='6' width='12' height='12' fill='{series_colors[name]}'/>")
        parts.append(_text(lx + 17, 16, name, size=11))
    return _svg(width, height, "".join(parts), title)
