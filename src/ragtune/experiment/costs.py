"""Each arm's measured figures as a profile, and its total cost projected over a horizon.

    profiles = arm_profiles(eval_run, freshness_run)
    projection = project_cost(profiles["rag"], constraints)
    projection.total, projection.one_off, projection.updates, projection.queries   # in price units

Cost = machine hours x ``price_per_hour``, where hours are one-off work (index build,
synthesis, training) + per-update work x updates over the horizon + per-query compute x
queries over the horizon. Every input is a measured figure from the run files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragtune.arms import ArmSpec
from ragtune.evaluate.metrics import PRIMARY_METRIC
from ragtune.evaluate.results import Interval, OneOffCosts
from ragtune.registry import arms as registered_arms

if TYPE_CHECKING:
    from ragtune.config import RecommendConfig
    from ragtune.evaluate.records import EvalRun, FreshnessRun

DAYS_PER_MONTH = 30.44


@dataclass
class ArmProfile:
    """What the recommendation rules know about one arm, with where each figure came from."""

    arm: str
    accuracy: float
    low: float
    high: float
    n: int
    latency_p95_ms: float
    per_query_s: float
    one_off_s: float
    per_update_s: float
    stale_after_update: bool | None = None
    changed_new: float | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class CostProjection:
    """Projected cost of one arm over ``horizon_months`` (price units, and machine hours)."""

    arm: str
    one_off: float
    updates: float
    queries: float
    hours: float

    @property
    def total(self) -> float:
        return self.one_off + self.updates + self.queries

    def to_dict(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "one_off": round(self.one_off, 4),
            "updates": round(self.updates, 4),
            "queries": round(self.queries, 4),
            "total": round(self.total, 4),
            "hours": round(self.hours, 3),
        }


def _one_off_parts(spec: ArmSpec, costs: OneOffCosts) -> tuple[float, list[str]]:
    seconds, parts = 0.0, []
    if spec.retrieves:
        seconds += costs.index.seconds or 0.0
        parts.append("index build")
    if spec.adapter:
        seconds += costs.training_seconds(spec.adapter)
        parts.append(f"synthesis + training {spec.adapter!r}")
    return seconds, parts


def _update_seconds(
    spec: ArmSpec, costs: OneOffCosts, freshness: FreshnessRun | None
) -> tuple[float, str]:
    """Seconds one document update costs an arm: re-index and/or re-synthesize + retrain."""
    if not spec.learns_documents:
        return 0.0, "nothing to update"
    seconds, how = 0.0, []
    if spec.retrieves:
        if freshness is not None:
            seconds += freshness.freshness.ingest.seconds
            how.append("measured incremental re-index")
        else:
            seconds += costs.index.seconds or 0.0
            how.append("full index build (no freshness run; an upper bound)")
    if spec.adapter:
        refresh = freshness.freshness.retrain if freshness is not None else None
        retrained = refresh.seconds_for(spec.adapter) if refresh is not None else None
        if retrained is not None:
            seconds += retrained
            how.append("measured re-synthesis + retraining")
        else:
            seconds += costs.training_seconds(spec.adapter)
            how.append("synthesis + training as first measured")
    return seconds, " + ".join(how)


def arm_profiles(
    run: EvalRun, freshness: FreshnessRun | None = None, metric: str = PRIMARY_METRIC
) -> dict[str, ArmProfile]:
    """A profile for every arm that ran in ``run`` (an eval run), using ``freshness`` for
    update costs and staleness when given."""
    out = {}
    for arm in run.ok_arms:
        summary = run.arms[arm]
        accuracy = summary.accuracy.get(metric) or Interval(mean=0.0, low=0.0, high=0.0)
        speed = summary.speed
        spec = registered_arms.recorded(arm, {"spec": summary.spec} if summary.spec else None)
        one_off, parts = _one_off_parts(spec, run.costs)
        update_s, update_how = _update_seconds(spec, run.costs, freshness)
        profile = ArmProfile(
            arm=arm,
            accuracy=accuracy.mean,
            low=accuracy.low,
            high=accuracy.high,
            n=accuracy.n,
            latency_p95_ms=speed.latency.total.p95,
            per_query_s=speed.amortized_ms.mean / 1000,
            one_off_s=one_off,
            per_update_s=update_s,
            sources={
                "accuracy": f"{metric} on {accuracy.n} questions of run {run.run_id}",
                "latency": speed.latency_source,
                "one_off": " + ".join(parts) or "none",
                "per_update": update_how,
            },
        )
        fresh_arm = freshness.arms.get(arm) if freshness is not None else None
        if fresh_arm is not None and fresh_arm.ok:
            profile.stale_after_update = fresh_arm.after_update == "stale"
            profile.changed_new = fresh_arm.last.changed_new.mean
        out[arm] = profile
    return out


def project_cost(profile: ArmProfile, constraints: RecommendConfig) -> CostProjection:
    """Total cost of ``profile`` over ``constraints.horizon_months``.

    >>> from ragtune.config import RecommendConfig
    >>> p = ArmProfile("rag", .6, .5, .7, 60, 900.0, per_query_s=0.5, one_off_s=3600, per_update_s=36)
    >>> c = project_cost(p, RecommendConfig(updates_per_month=10, queries_per_day=0, horizon_months=1,
    ...                                     price_per_hour=1.0))
    >>> round(c.one_off, 2), round(c.updates, 2), c.queries
    (1.0, 0.1, 0.0)
    """
    horizon = constraints.horizon_months
    price = constraints.price_per_hour
    one_off_h = profile.one_off_s / 3600
    updates_h = constraints.updates_per_month * horizon * profile.per_update_s / 3600
    queries_h = constraints.queries_per_day * DAYS_PER_MONTH * horizon * profile.per_query_s / 3600
    return CostProjection(
        profile.arm,
        one_off_h * price,
        updates_h * price,
        queries_h * price,
        one_off_h + updates_h + queries_h,
    )


def break_even_updates(a: ArmProfile, b: ArmProfile, constraints: RecommendConfig) -> float | None:
    """Updates per month at which ``a`` and ``b`` cost the same (``None`` if they never do)."""
    horizon = constraints.horizon_months
    queries = constraints.queries_per_day * DAYS_PER_MONTH * horizon
    fixed_a = a.one_off_s + queries * a.per_query_s
    fixed_b = b.one_off_s + queries * b.per_query_s
    slope = (a.per_update_s - b.per_update_s) * horizon
    if slope == 0:
        return None
    value = (fixed_b - fixed_a) / slope
    return value if value >= 0 else None


def break_even_queries(a: ArmProfile, b: ArmProfile, constraints: RecommendConfig) -> float | None:
    """Queries per day at which ``a`` and ``b`` cost the same (``None`` if they never do)."""
    horizon = constraints.horizon_months
    updates = constraints.updates_per_month * horizon
    fixed_a = a.one_off_s + updates * a.per_update_s
    fixed_b = b.one_off_s + updates * b.per_update_s
    slope = (a.per_query_s - b.per_query_s) * DAYS_PER_MONTH * horizon
    if slope == 0:
        return None
    value = (fixed_b - fixed_a) / slope
    return value if value >= 0 else None
