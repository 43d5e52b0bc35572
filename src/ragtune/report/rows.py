"""The rows every rendering prints: built once from the typed run files, then formatted
as HTML (``sections``), Markdown (``markdown``) or a terminal table (the CLI).

    rows = freshness_rows(freshness_run)
    rows[0].arm, rows[0].phases["updated"].changed_new.mean, rows[0].time_to_fresh
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ragtune.evaluate.records import EvalRun, FreshnessRun
from ragtune.evaluate.results import (
    Interval,
    PhaseSummary,
    Recommendation,
    SeedSpread,
    SpeedSummary,
    StageLatency,
)
from ragtune.report.text import time_to_fresh_text

ANSWER_METRICS = ("contains", "exact_match", "f1")
OPTIONAL_METRICS = ("semantic", "judge")


@dataclass
class AccuracyRow:
    arm: str
    metrics: dict[str, Interval | None]
    splits: dict[str, Interval | None]
    seeds: SeedSpread | None = None
    recall: Interval | None = None
    grounded: Interval | None = None
    latency_ms: StageLatency | None = None


@dataclass
class SpeedRow:
    arm: str
    speed: SpeedSummary
    one_off_s: float | None = None
    per_update_s: float | None = None
    projected_cost: float | None = None


@dataclass
class FreshnessRow:
    arm: str
    phases: dict[str, PhaseSummary | None]
    unchanged: Interval
    after_update: str
    final: str
    time_to_fresh: str
    how: str


@dataclass
class RetrievalRow:
    arm: str
    metrics: dict[str, Interval | None]
    grounded: Interval | None
    citation_rate: float | None


@dataclass
class AccuracyTable:
    metrics: list[str]
    splits: list[str]
    rows: list[AccuracyRow] = field(default_factory=list)

    @property
    def seeded(self) -> bool:
        return any(r.seeds for r in self.rows)


def accuracy_table(run: EvalRun, arms: Sequence[str], metric: str) -> AccuracyTable:
    """Answer metrics (and the split columns of ``metric``) for each arm that ran."""
    summaries = {a: run.arms[a] for a in arms}
    splits = sorted({s for summary in summaries.values() for s in summary.by_split})
    metrics = [*ANSWER_METRICS] + [
        m for m in OPTIONAL_METRICS if any(m in s.accuracy for s in summaries.values())
    ]
    table = AccuracyTable(metrics, splits)
    for arm, summary in summaries.items():
        recall = next((v for k, v in summary.retrieval.items() if k.startswith("recall@")), None)
        table.rows.append(
            AccuracyRow(
                arm,
                {m: summary.accuracy.get(m) for m in metrics},
                {s: summary.split_accuracy(s, metric) for s in splits},
                summary.seeds,
                recall,
                summary.groundedness,
                summary.speed.latency,
            )
        )
    return table


def speed_rows(
    run: EvalRun, arms: Sequence[str], recommendation: Recommendation | None
) -> list[SpeedRow]:
    """Speed, memory and (with a recommendation) the projected cost of each arm."""
    rows = []
    for arm in arms:
        profile = recommendation.profiles.get(arm, {}) if recommendation else {}
        costs = recommendation.costs.get(arm) if recommendation else None
        rows.append(
            SpeedRow(
                arm,
                run.arms[arm].speed,
                profile.get("one_off_s"),
                profile.get("per_update_s"),
                costs["total"] if costs else None,
            )
        )
    return rows


def freshness_rows(run: FreshnessRun, arms: Sequence[str] | None = None) -> list[FreshnessRow]:
    """One row per arm that ran in the freshness test: NEW/OLD answers per phase, the
    state after the update and at the end, and its time to fresh."""
    names = [a for a in (arms or run.arms) if a in run.arms and run.arms[a].ok]
    rows = []
    for arm in names:
        summary = run.arms[arm]
        ttf = summary.time_to_fresh
        rows.append(
            FreshnessRow(
                arm,
                {p: summary.phases.get(p) for p in run.freshness.phases},
                summary.last.unchanged,
                summary.after_update,
                summary.final,
                time_to_fresh_text(ttf),
                ttf.how,
            )
        )
    return rows


def retrieval_rows(run: EvalRun, arms: Sequence[str]) -> tuple[list[str], list[RetrievalRow]]:
    """Retrieval metric names and a row per arm that retrieves."""
    retrieving = [a for a in arms if run.arms[a].retrieval]
    names = list(dict.fromkeys(n for a in retrieving for n in run.arms[a].retrieval))
    rows = [
        RetrievalRow(
            a,
            {n: run.arms[a].retrieval.get(n) for n in names},
            run.arms[a].groundedness,
            run.arms[a].citation_rate,
        )
        for a in retrieving
    ]
    return names, rows
