"""Bootstrap intervals and paired differences: called only when the interval excludes 0."""

from __future__ import annotations

import random

import pytest

from ragtune.evaluate.aggregate import compare_arms, find_comparison, percentiles_ms, seed_spread
from ragtune.evaluate.bootstrap import bootstrap_mean, paired_difference


def test_interval_brackets_the_mean_and_narrows_with_n() -> None:
    rng = random.Random(0)
    small = [float(rng.random() < 0.6) for _ in range(20)]
    large = [float(rng.random() < 0.6) for _ in range(400)]
    a, b = bootstrap_mean(small, 500), bootstrap_mean(large, 500)
    assert a.low <= a.mean <= a.high and b.low <= b.mean <= b.high
    assert (b.high - b.low) < (a.high - a.low)
    assert a.n == 20


def test_interval_is_deterministic_for_a_seed() -> None:
    values = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    assert bootstrap_mean(values, seed=3) == bootstrap_mean(values, seed=3)


def test_degenerate_inputs() -> None:
    assert bootstrap_mean([]).mean == 0.0
    constant = bootstrap_mean([1.0] * 5)
    assert (constant.low, constant.high) == (1.0, 1.0)


def test_paired_difference_calls_a_real_gap_and_not_noise() -> None:
    rng = random.Random(1)
    a = [float(rng.random() < 0.8) for _ in range(100)]
    b = [float(rng.random() < 0.2) for _ in range(100)]
    assert paired_difference(a, b, 500).called
    # The same arm against itself shifted by one question: no difference to call.
    same = paired_difference(a, a[1:] + a[:1], 500)
    assert not same.called and same.low <= 0 <= same.high


def test_pairing_beats_unpaired_noise() -> None:
    # b is a with 5 extra right answers: paired, the gap is clear despite high variance.
    a = [float(i % 2) for i in range(60)]
    b = list(a)
    for i in range(0, 10, 2):
        b[i] = 1.0
    diff = paired_difference(b, a, 1000)
    assert diff.called and diff.mean > 0


def test_compare_arms_per_split_and_flip() -> None:
    def rec(arm: str, i: int, value: float) -> dict[str, object]:
        return {
            "qid": f"q{i}",
            "arm": arm,
            "split": "s1" if i < 20 else "s2",
            "scores": {"contains": value},
        }

    records = {
        "rag": [rec("rag", i, 1.0) for i in range(40)],
        "base": [rec("base", i, 0.0) for i in range(40)],
    }
    comparisons = compare_arms(records, samples=200)
    assert {c.split for c in comparisons} == {"all", "s1", "s2"}
    forward = find_comparison(comparisons, "rag", "base")
    backward = find_comparison(comparisons, "base", "rag")
    assert forward and backward and forward.called
    assert forward.mean == 1.0 and backward.mean == -1.0 and backward.high == -forward.low
    assert find_comparison(comparisons, "rag", "ft") is None


def test_percentiles_and_seed_spread() -> None:
    figures = percentiles_ms([0.1, 0.2, 0.3, 0.4, 1.0])
    assert figures["p50"] == 300.0 and figures["max"] == 1000.0
    assert percentiles_ms([])["p95"] == 0.0
    spread = seed_spread({0: 0.5, 1: 0.7})
    assert spread["mean"] == 0.6 and spread["std"] > 0 and spread["min"] == 0.5


def test_bootstrap_over_seeds_widens_with_seed_variance() -> None:
    from ragtune.evaluate.bootstrap import bootstrap_over_seeds

    questions = [1.0, 0.0] * 20
    steady = bootstrap_over_seeds([questions, questions, questions], samples=2000)
    assert steady.mean == 0.5 and steady.n == 40
    # The same questions, but one seed learned nothing and one learned everything.
    moving = bootstrap_over_seeds([questions, [0.0] * 40, [1.0] * 40], samples=2000)
    assert moving.mean == 0.5
    assert moving.high - moving.low > 1.5 * (steady.high - steady.low)
    # Deterministic for a given seed.
    assert bootstrap_over_seeds([questions, [0.0] * 40], seed=3) == bootstrap_over_seeds(
        [questions, [0.0] * 40], seed=3
    )
    with pytest.raises(ValueError, match="seeds × questions"):
        bootstrap_over_seeds([])
