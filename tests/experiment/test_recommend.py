"""The recommendation rules, one test per branch, and the answer changing with the constraints."""

from __future__ import annotations

from typing import Any

from ragtune.config import RecommendConfig
from ragtune.evaluate.records import EvalRun, FreshnessRun
from ragtune.evaluate.results import Comparison
from ragtune.experiment.costs import ArmProfile, arm_profiles, break_even_updates, project_cost
from ragtune.experiment.recommend import choose, recommend, recommend_from_profiles


def profile(
    arm: str,
    accuracy: float,
    latency_ms: float = 800.0,
    per_query_s: float = 0.5,
    one_off_s: float = 0.0,
    per_update_s: float = 0.0,
    width: float = 0.08,
) -> ArmProfile:
    return ArmProfile(
        arm,
        accuracy,
        accuracy - width,
        accuracy + width,
        60,
        latency_ms,
        per_query_s,
        one_off_s,
        per_update_s,
    )


def diff(a: str, b: str, mean: float, called: bool) -> Comparison:
    half = 0.05
    low, high = (mean - half, mean + half) if called else (mean - 0.2, mean + 0.2)
    return Comparison(
        a=a, b=b, metric="contains", split="all", mean=mean, low=low, high=high, called=called
    )


# rag: accurate, fresh by re-indexing (cheap updates), long prompts (dearer queries).
# ft: as accurate here, costly to retrain at every update, short prompts (cheap queries).
PROFILES = {
    "base": profile("base", 0.05, latency_ms=500, per_query_s=0.3),
    "rag": profile("rag", 0.60, latency_ms=2000, per_query_s=1.2, one_off_s=30, per_update_s=5),
    "ft": profile("ft", 0.58, latency_ms=600, per_query_s=0.3, one_off_s=600, per_update_s=600),
}
COMPARISONS = [
    diff("rag", "base", 0.55, True),
    diff("ft", "base", 0.53, True),
    diff("rag", "ft", 0.02, False),
]


def constraints(**kwargs: Any) -> RecommendConfig:
    return RecommendConfig(**{"price_per_hour": 1.0, "horizon_months": 12, **kwargs})


def test_frequent_updates_favour_rag() -> None:
    choice = choose(PROFILES, COMPARISONS, constraints(updates_per_month=30, queries_per_day=10))
    assert choice.arm == "rag" and choice.tier == ["rag", "ft"]


def test_rare_updates_and_many_queries_favour_ft() -> None:
    choice = choose(PROFILES, COMPARISONS, constraints(updates_per_month=0.5, queries_per_day=5000))
    assert choice.arm == "ft"


def test_the_answer_changes_with_the_update_rate_and_says_so() -> None:
    daily = recommend_from_profiles(
        PROFILES, COMPARISONS, constraints(updates_per_month=30, queries_per_day=100)
    )
    monthly = recommend_from_profiles(
        PROFILES, COMPARISONS, constraints(updates_per_month=1, queries_per_day=100)
    )
    assert (daily.arm, monthly.arm) == ("rag", "ft")
    assert any("updates per month" in s and "ft" in s for s in daily.what_would_change)
    assert any(s["change"] == "updates_per_month" and s["arm"] == "ft" for s in daily.scenarios)


def test_a_significantly_better_arm_wins_even_if_dearer() -> None:
    comparisons = [*COMPARISONS[:2], diff("rag", "ft", 0.2, True)]
    profiles = {
        **PROFILES,
        "ft": profile("ft", 0.40, per_query_s=0.3, one_off_s=600, per_update_s=600),
    }
    choice = choose(
        profiles, comparisons, constraints(updates_per_month=0.1, queries_per_day=100000)
    )
    assert choice.arm == "rag" and choice.tier == ["rag"]


def test_latency_budget_excludes() -> None:
    choice = choose(
        PROFILES, COMPARISONS, constraints(updates_per_month=30, latency_budget_ms=1000)
    )
    assert (
        choice.arm == "ft" and "rag" in choice.excluded and "p95 latency" in choice.excluded["rag"]
    )


def test_accuracy_floor_excludes() -> None:
    choice = choose(PROFILES, COMPARISONS, constraints(accuracy_floor=0.59, updates_per_month=0))
    assert choice.arm == "rag" and set(choice.excluded) == {"base", "ft"}


def test_no_arm_meets_the_constraints() -> None:
    rec = recommend_from_profiles(PROFILES, COMPARISONS, constraints(accuracy_floor=0.9))
    assert rec.arm is None and rec.tier == []
    assert "No arm meets the constraints" in rec.explanation[0]


def test_ties_in_accuracy_and_cost_go_to_the_more_accurate() -> None:
    profiles = {"rag": profile("rag", 0.6), "ft+rag": profile("ft+rag", 0.62)}
    choice = choose(profiles, [diff("ft+rag", "rag", 0.02, False)], constraints())
    assert choice.arm == "ft+rag"


def test_explanation_cites_the_measured_numbers() -> None:
    rec = recommend_from_profiles(
        PROFILES, COMPARISONS, constraints(updates_per_month=30, queries_per_day=100)
    )
    text = " ".join(rec.explanation)
    assert "Recommended: rag" in text and "60%" in text and "2,000 ms" in text
    assert "Significantly less accurate: base" in text and "ft (" in text


def test_projection_and_break_even() -> None:
    c = constraints(updates_per_month=10, queries_per_day=0, horizon_months=1)
    cost = project_cost(PROFILES["ft"], c)
    assert round(cost.one_off, 4) == round(600 / 3600, 4) and round(cost.updates, 4) == round(
        6000 / 3600, 4
    )
    even = break_even_updates(PROFILES["ft"], PROFILES["rag"], constraints(queries_per_day=1000))
    assert even is not None
    at_even = constraints(queries_per_day=1000, updates_per_month=even)
    assert (
        abs(
            project_cost(PROFILES["ft"], at_even).total
            - project_cost(PROFILES["rag"], at_even).total
        )
        < 1e-9
    )


def _summary(acc: float, p95: float, amortized: float) -> dict[str, Any]:
    return {
        "status": "ok",
        "accuracy": {"contains": {"mean": acc, "low": acc - 0.1, "high": acc + 0.1, "n": 50}},
        "speed": {
            "single_latency_ms": {"total": {"p95": p95}},
            "amortized_ms": {"mean": amortized},
        },
    }


def test_from_run_files() -> None:
    eval_run = EvalRun.model_validate(
        dict(
            run_id="r1",
            arms={
                "base": _summary(0.02, 400, 200),
                "rag": _summary(0.6, 1500, 900),
                "ft": {"status": "skipped", "reason": "no adapter"},
            },
            comparisons=[diff("rag", "base", 0.58, True)],
            costs={
                "index": {"seconds": 40.0},
                "synth": {"seconds": 10.0},
                "train": {"qa": {"train_seconds": 300.0}},
            },
        )
    )
    changed_new = {"mean": 0.9, "low": 0.8, "high": 1.0, "n": 10}
    fresh = FreshnessRun.model_validate(
        dict(
            run_id="f1",
            freshness={"ingest": {"seconds": 4.0}},
            arms={
                "rag": {
                    "status": "ok",
                    "after_update": "fresh",
                    "final_phase": "updated",
                    "phases": {"updated": {"changed_new": changed_new}},
                }
            },
        )
    )
    profiles = arm_profiles(eval_run, fresh)
    assert set(profiles) == {"base", "rag"}
    assert profiles["rag"].per_update_s == 4.0 and profiles["rag"].one_off_s == 40.0
    assert profiles["rag"].stale_after_update is False and profiles["rag"].changed_new == 0.9
    assert profiles["rag"].per_query_s == 0.9 and profiles["rag"].latency_p95_ms == 1500
    rec = recommend(eval_run, fresh, RecommendConfig())
    assert rec.arm == "rag" and rec.runs == {"eval": "r1", "freshness": "f1"}
    assert rec.to_dict()["costs"]["rag"]["total"] > 0


def test_no_break_even_when_one_arm_is_dearer_in_every_way() -> None:
    assert (
        break_even_updates(PROFILES["ft"], PROFILES["rag"], constraints(queries_per_day=0)) is None
    )


def test_a_large_gap_is_not_a_tie_even_when_not_called() -> None:
    # 16 questions: rag 75% vs ft 44% is not called, but 31 points is no tie.
    profiles = {
        "rag": profile("rag", 0.75, per_query_s=1.9, one_off_s=30, per_update_s=5, width=0.2),
        "ft": profile("ft", 0.44, per_query_s=0.2, one_off_s=370, per_update_s=370, width=0.25),
    }
    comparisons = [diff("rag", "ft", 0.31, False)]
    rec = recommend_from_profiles(
        profiles, comparisons, constraints(updates_per_month=4, queries_per_day=1000)
    )
    assert rec.arm == "rag" and rec.tier == ["rag"]
    assert any("tolerance" in s and "ft (-31%)" in s for s in rec.explanation)
    loose = recommend_from_profiles(
        profiles, comparisons, constraints(max_accuracy_gap=0.4, queries_per_day=1000)
    )
    assert loose.arm == "ft"


def test_each_constraint_names_the_least_change_that_leads_to_each_other_arm() -> None:
    """Budgets of 7,200 and 7,650 ms would both choose base: only the nearer is said."""
    profiles = {
        "base": profile("base", 0.05, latency_ms=7000),
        "rag": profile("rag", 0.60, latency_ms=8000),
        "ft": profile("ft", 0.58, latency_ms=9000),
        "ft+rag": profile("ft+rag", 0.60, latency_ms=8500),
    }
    rec = recommend_from_profiles(profiles, COMPARISONS, constraints(latency_budget_ms=5000))
    assert rec.arm is None
    tried = {s["value"]: s["arm"] for s in rec.scenarios if s["change"] == "latency_budget_ms"}
    assert tried[7200] == tried[7650] == "base" and tried[8100] == "rag"
    budgets = [s for s in rec.what_would_change if "latency budget" in s]
    assert budgets == [
        "With 7,200 latency budget (ms) instead of 5,000, the choice would be base.",
        "With 8,100 latency budget (ms) instead of 5,000, the choice would be rag.",
    ]
