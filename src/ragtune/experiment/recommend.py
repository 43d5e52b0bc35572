"""The recommendation: explicit rules over measured figures, not a prompt.

Rules, in order:

1. Only arms that ran in the evaluation are candidates.
2. An arm whose accuracy is below ``accuracy_floor`` is out.
3. An arm whose p95 latency exceeds ``latency_budget_ms`` is out.
4. Of the rest, the *accuracy tier* is the most accurate arm plus every arm whose paired
   difference from it is not called (its 95% interval includes 0) *and* whose accuracy is
   within ``max_accuracy_gap`` of it: arms we cannot tell apart on these questions, and
   not merely because there were too few questions to separate them.
5. In the tier, the arm with the least projected total cost over the horizon wins
   (one-off + per-update x updates + per-query x queries, from measured seconds); ties
   go to the more accurate arm.
6. If no arm passes 2-3, there is no recommendation; the explanation names the constraint
   that excluded each arm.

Then: what would change the answer (other update rates, query volumes, latency budgets,
accuracy floors, and the break-even points between the winner and its rivals).

    rec = recommend(eval_run, freshness_run, RecommendConfig(updates_per_month=30))
    rec.arm, rec.explanation, rec.what_would_change
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.evaluate.aggregate import find_comparison
from ragtune.evaluate.records import (
    latest_eval_run,
    latest_freshness_run,
    load_eval_run,
    load_freshness_run,
)
from ragtune.evaluate.results import Comparison, Recommendation
from ragtune.experiment.costs import (
    ArmProfile,
    CostProjection,
    arm_profiles,
    break_even_queries,
    break_even_updates,
    project_cost,
)

if TYPE_CHECKING:
    from ragtune.config import RecommendConfig
    from ragtune.evaluate.records import EvalRun, FreshnessRun

__all__ = ["Choice", "Recommendation", "recommend", "recommend_from_profiles", "recommend_latest"]


@dataclass
class Choice:
    """The outcome of the rules for one set of constraints."""

    arm: str | None
    tier: list[str]
    excluded: dict[str, str]
    costs: dict[str, CostProjection]


def tied_with(
    best: str, arm: str, comparisons: Sequence[Comparison], profiles: dict[str, ArmProfile]
) -> bool:
    """True when ``arm`` cannot be told apart from ``best`` (paired 95% interval includes 0)."""
    if arm == best:
        return True
    diff = find_comparison(comparisons, best, arm)
    if diff is None:
        return profiles[arm].accuracy >= profiles[best].accuracy
    return not diff.called


def choose(
    profiles: dict[str, ArmProfile],
    comparisons: Sequence[Comparison],
    constraints: RecommendConfig,
) -> Choice:
    """Apply rules 2-6 to ``profiles`` under ``constraints``."""
    excluded: dict[str, str] = {}
    for arm, p in profiles.items():
        if p.accuracy < constraints.accuracy_floor:
            excluded[arm] = (
                f"accuracy {p.accuracy:.2f} is below the floor {constraints.accuracy_floor:.2f}"
            )
        elif p.latency_p95_ms > constraints.latency_budget_ms:
            excluded[arm] = (
                f"p95 latency {p.latency_p95_ms:,.0f} ms exceeds the budget {constraints.latency_budget_ms:,.0f} ms"
            )
    costs = {arm: project_cost(p, constraints) for arm, p in profiles.items()}
    eligible = [arm for arm in profiles if arm not in excluded]
    if not eligible:
        return Choice(None, [], excluded, costs)
    best = max(eligible, key=lambda a: (profiles[a].accuracy, -costs[a].total))
    # Equal accuracy needs both: no called difference (small samples rarely call one) and a
    # point gap within the tolerance, so 44% is never "as accurate" as 75% on 16 questions.
    gap = constraints.max_accuracy_gap
    tier = [
        arm
        for arm in eligible
        if tied_with(best, arm, comparisons, profiles)
        and profiles[best].accuracy - profiles[arm].accuracy <= gap + 1e-9
    ]
    winner = min(tier, key=lambda a: (round(costs[a].total, 9), -profiles[a].accuracy))
    return Choice(winner, tier, excluded, costs)


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def _explain(
    choice: Choice,
    profiles: dict[str, ArmProfile],
    comparisons: Sequence[Comparison],
    c: RecommendConfig,
) -> list[str]:
    if choice.arm is None:
        reasons = "; ".join(f"{arm}: {why}" for arm, why in choice.excluded.items())
        return [
            f"No arm meets the constraints ({reasons}).",
            "Relax the accuracy floor or the latency budget, or evaluate more arms.",
        ]
    arm, p, cost = choice.arm, profiles[choice.arm], choice.costs[choice.arm]
    sentences = [
        f"Recommended: {arm}. It answered {p.accuracy:.0%} of {p.n} held-out questions correctly "
        f"(95% CI {p.low:.0%}–{p.high:.0%}) with a p95 latency of {p.latency_p95_ms:,.0f} ms "
        f"(budget {c.latency_budget_ms:,.0f} ms).",
        f"Over {c.horizon_months:g} months at {c.updates_per_month:g} document updates per month and "
        f"{c.queries_per_day:,.0f} queries per day it is projected to cost {_money(cost.total)} "
        f"({_money(cost.one_off)} one-off, {_money(cost.updates)} for updates, {_money(cost.queries)} for queries) "
        f"at {_money(c.price_per_hour)} per machine-hour.",
    ]
    rivals = [a for a in choice.tier if a != arm]
    if rivals:
        sentences.append(
            "Equally accurate within the intervals, but dearer: "
            + ", ".join(f"{a} ({_money(choice.costs[a].total)})" for a in rivals)
            + "."
        )
    worse, lower = [], []
    for other in profiles:
        if other in choice.tier or other in choice.excluded:
            continue
        diff = find_comparison(comparisons, arm, other)
        if diff is not None and diff.called:
            worse.append(
                f"{other} ({diff.mean:+.0%} for {arm}, CI {diff.low:+.0%} to {diff.high:+.0%})"
            )
        else:
            lower.append(f"{other} ({profiles[other].accuracy - p.accuracy:+.0%})")
    if worse:
        sentences.append("Significantly less accurate: " + ", ".join(worse) + ".")
    if lower:
        sentences.append(
            f"Lower by more than the {c.max_accuracy_gap:.0%} tolerance, though these questions cannot "
            "separate them significantly: " + ", ".join(lower) + "."
        )
    if choice.excluded:
        sentences.append(
            "Excluded: " + "; ".join(f"{a}: {why}" for a, why in choice.excluded.items()) + "."
        )
    if p.stale_after_update and c.updates_per_month > 0:
        sentences.append(
            f"{arm} answers with old facts after a document update until it is retrained; "
            "the projected cost includes retraining at every update."
        )
    return sentences


SCENARIOS: tuple[tuple[str, str], ...] = (
    ("updates_per_month", "document updates per month"),
    ("queries_per_day", "queries per day"),
    ("latency_budget_ms", "latency budget (ms)"),
    ("accuracy_floor", "accuracy floor"),
)


def _scenario_values(
    field_name: str, c: RecommendConfig, profiles: dict[str, ArmProfile], arm: str | None
) -> list[float]:
    current = getattr(c, field_name)
    if field_name == "updates_per_month":
        return [0.0, 1.0, 30.0, current * 10]
    if field_name == "queries_per_day":
        return [current / 100, current / 10, current * 10, current * 100]
    if field_name == "latency_budget_ms":
        return sorted(
            {round(p.latency_p95_ms * 0.9) for p in profiles.values() if p.latency_p95_ms > 0}
        )
    accuracies = sorted({round(min(1.0, p.accuracy + 0.01), 2) for p in profiles.values()})
    return [a for a in accuracies if arm is None or a > profiles[arm].accuracy - 0.01][:2]


def what_would_change(
    profiles: dict[str, ArmProfile],
    comparisons: Sequence[Comparison],
    c: RecommendConfig,
    choice: Choice,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Sentences on which constraint changes flip the choice, and the scenarios tried.

    Of the tried values of one constraint that lead to the same other arm, the sentence
    names the one nearest the current setting: the smallest change that flips it."""
    sentences: list[str] = []
    scenarios = []
    for field_name, label in SCENARIOS:
        current = getattr(c, field_name)
        nearest: dict[str | None, float] = {}  # the flipped-to arm -> the least change
        for value in _scenario_values(field_name, c, profiles, choice.arm):
            if value == current:
                continue
            alt = choose(profiles, comparisons, c.model_copy(update={field_name: value}))
            scenarios.append({"change": field_name, "value": value, "arm": alt.arm})
            if alt.arm != choice.arm and (
                alt.arm not in nearest or abs(value - current) < abs(nearest[alt.arm] - current)
            ):
                nearest[alt.arm] = value
        for arm, value in sorted(nearest.items(), key=lambda item: item[1]):
            sentences.append(
                f"With {value:,g} {label} instead of {current:,g}, "
                f"the choice would be {arm or 'none (no arm meets the constraints)'}."
            )
    if choice.arm is not None:
        chosen = profiles[choice.arm]
        for other, p in profiles.items():
            if other == choice.arm or other in choice.excluded:
                continue
            diff = find_comparison(comparisons, choice.arm, other)
            if diff is not None and diff.called:
                continue  # a significantly different arm is no alternative at any price
            updates = break_even_updates(p, chosen, c)
            if updates is not None and (p.per_update_s < chosen.per_update_s) == (
                updates > c.updates_per_month
            ):
                direction = "fewer" if p.per_update_s > chosen.per_update_s else "more"
                tied = "" if other in choice.tier else " at equal accuracy"
                sentences.append(
                    f"If there were {direction} than {updates:,.1f} updates per month, "
                    f"{other} would be cheaper than {choice.arm}{tied}."
                )
            queries = break_even_queries(p, chosen, c)
            if queries is not None and (p.per_query_s < chosen.per_query_s) == (
                queries > c.queries_per_day
            ):
                direction = "more" if p.per_query_s < chosen.per_query_s else "fewer"
                tied = "" if other in choice.tier else " at equal accuracy"
                sentences.append(
                    f"At {direction} than {queries:,.0f} queries per day, "
                    f"{other} would be cheaper than {choice.arm}{tied}."
                )
    return sentences, scenarios


def recommend_from_profiles(
    profiles: dict[str, ArmProfile],
    comparisons: Sequence[Comparison],
    constraints: RecommendConfig,
    runs: dict[str, str | None] | None = None,
) -> Recommendation:
    """The recommendation for already-built profiles (what :func:`recommend` calls)."""
    choice = choose(profiles, comparisons, constraints)
    changes, scenarios = what_would_change(profiles, comparisons, constraints, choice)
    return Recommendation(
        arm=choice.arm,
        constraints=constraints.model_dump(),
        tier=choice.tier,
        excluded=choice.excluded,
        profiles={a: p.to_dict() for a, p in profiles.items()},
        costs={a: c.to_dict() for a, c in choice.costs.items()},
        explanation=_explain(choice, profiles, comparisons, constraints),
        what_would_change=changes,
        scenarios=scenarios,
        runs=runs or {},
    )


def recommend(
    eval_run: EvalRun, freshness_run: FreshnessRun | None, constraints: RecommendConfig
) -> Recommendation:
    """Recommend an arm from the run files under the user's constraints."""
    profiles = arm_profiles(eval_run, freshness_run)
    runs = {"eval": eval_run.run_id, "freshness": freshness_run.run_id if freshness_run else None}
    rec = recommend_from_profiles(profiles, eval_run.comparisons, constraints, runs)
    warning = eval_run.load_warning()
    if warning:  # a busy machine slows every arm differently: latency and cost may be off
        rec.explanation.append(warning)
    return rec


def recommend_latest(
    runs_dir: Path,
    constraints: RecommendConfig,
    eval_path: Path | None = None,
    freshness_path: Path | None = None,
) -> Recommendation | None:
    """The recommendation from the newest eval and freshness runs in ``runs_dir`` (or the
    given files); ``None`` when no evaluated arm ran. Pass it to ``write_report``."""
    eval_run = load_eval_run(eval_path) if eval_path else latest_eval_run(runs_dir)
    if eval_run is None or not eval_run.ok_arms:
        return None
    freshness_run = (
        load_freshness_run(freshness_path) if freshness_path else latest_freshness_run(runs_dir)
    )
    return recommend(eval_run, freshness_run, constraints)
