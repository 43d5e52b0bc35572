"""Per-arm summaries and paired comparisons, computed from question records alone.

summary = summarize_arm(records, samples=1000)
summary["accuracy"]["contains"]          # {"mean": .62, "low": .51, "high": .73, "n": 60}
summary["speed"]["latency_ms"]["total"]  # {"p50": ..., "p95": ..., "mean": ...}
diffs = compare_arms({"rag": rag_records, "base": base_records})   # [Comparison(a="rag", ...)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from ragtune.evaluate.bootstrap import bootstrap_mean, paired_difference
from ragtune.evaluate.metrics import PRIMARY_METRIC
from ragtune.evaluate.results import Comparison

Record = dict[str, Any]


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    """``{"p50", "p95", "mean", "max"}`` in milliseconds (zeros for no values)."""
    if not seconds:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "max": 0.0}
    array = np.asarray(seconds, dtype=float) * 1000
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p95": round(float(np.percentile(array, 95)), 1),
        "mean": round(float(array.mean()), 1),
        "max": round(float(array.max()), 1),
    }


def _metric_names(records: Sequence[Record], field: str) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        for name, value in (record.get(field) or {}).items():
            if value is not None:
                names.setdefault(name, None)
    return list(names)


def _intervals(records: Sequence[Record], field: str, samples: int, seed: int) -> dict[str, Any]:
    out = {}
    for name in _metric_names(records, field):
        values = [r[field][name] for r in records if (r.get(field) or {}).get(name) is not None]
        out[name] = bootstrap_mean(values, samples, seed).to_dict()
    return out


def summarize_accuracy(
    records: Sequence[Record], samples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Answer, retrieval and groundedness figures with intervals, overall and per split."""
    by_split: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_split[record.get("split") or "all"].append(record)
    grounded = [r["grounded"] for r in records if r.get("grounded") is not None]
    cited = [float(bool(r.get("cited"))) for r in records]
    return {
        "accuracy": _intervals(records, "scores", samples, seed),
        "by_split": {
            split: _intervals(rows, "scores", samples, seed)
            for split, rows in sorted(by_split.items())
        }
        if len(by_split) > 1
        else {},
        "retrieval": _intervals(records, "retrieval", samples, seed),
        "groundedness": bootstrap_mean(grounded, samples, seed).to_dict() if grounded else None,
        "citation_rate": round(float(np.mean(cited)), 4) if cited and grounded else None,
    }


def summarize_speed(
    records: Sequence[Record],
    probe: Sequence[Record] = (),
    peak_rss_bytes: int | None = None,
    wall_seconds: float = 0.0,
) -> dict[str, Any]:
    """Latency (batched and, when probed, one question at a time), tokens, throughput, memory."""

    def latency(rows: Sequence[Record]) -> dict[str, dict[str, float]]:
        return {
            stage: percentiles_ms([r["latency"].get(stage, 0.0) for r in rows])
            for stage in ("retrieve", "generate", "total")
        }

    n = len(records)
    generate_s = sum(r.get("amortized_s", 0.0) - r["latency"].get("retrieve", 0.0) for r in records)
    completion = sum(r.get("completion_tokens", 0) for r in records)
    return {
        "n": n,
        "latency_ms": latency(records),
        "single_latency_ms": latency(probe) if probe else None,
        "amortized_ms": percentiles_ms([r.get("amortized_s", 0.0) for r in records]),
        "prompt_tokens": round(sum(r.get("prompt_tokens", 0) for r in records) / n, 1)
        if n
        else 0.0,
        "completion_tokens": round(completion / n, 1) if n else 0.0,
        "tokens_per_s": round(completion / generate_s, 1) if generate_s > 0 else None,
        "peak_rss_bytes": peak_rss_bytes,
        "wall_seconds": round(wall_seconds, 3),
    }


def compare_arms(
    records_by_arm: Mapping[str, Sequence[Record]],
    metric: str = PRIMARY_METRIC,
    samples: int = 1000,
    seed: int = 0,
    field: str = "scores",
) -> list[Comparison]:
    """Paired differences for every pair of arms on ``metric``, overall and per split.

    Records are matched by question id; a pair is compared on the questions both answered.
    Each :class:`Comparison` has ``a``, ``b``, ``metric``, ``split``, ``mean``, ``low``,
    ``high`` and ``called`` (the interval excludes 0).
    """
    out = []
    keyed = {
        arm: {r["qid"]: r for r in rows if (r.get(field) or {}).get(metric) is not None}
        for arm, rows in records_by_arm.items()
    }
    for a, b in combinations(keyed, 2):
        shared = [q for q in keyed[a] if q in keyed[b]]
        if not shared:
            continue
        splits: dict[str, list[str]] = {"all": shared}
        for qid in shared:
            split = keyed[a][qid].get("split")
            if split:
                splits.setdefault(split, []).append(qid)
        for split, qids in splits.items():
            diff = paired_difference(
                [keyed[a][q][field][metric] for q in qids],
                [keyed[b][q][field][metric] for q in qids],
                samples,
                seed,
                names=(a, b),
                metric=metric,
            )
            out.append(Comparison(**diff.to_dict(), split=split, called=diff.called))
    return out


def find_comparison(
    comparisons: Sequence[Comparison],
    a: str,
    b: str,
    split: str = "all",
    metric: str = PRIMARY_METRIC,
) -> Comparison | None:
    """The comparison ``a - b`` (flipping a stored ``b - a``), or ``None``."""
    for entry in comparisons:
        if entry.split != split or entry.metric != metric:
            continue
        if (entry.a, entry.b) == (a, b):
            return entry
        if (entry.a, entry.b) == (b, a):
            return entry.flipped()
    return None


def seed_spread(values_by_seed: dict[int, float]) -> dict[str, Any]:
    """Mean, standard deviation, min and max of one figure across training seeds."""
    values = list(values_by_seed.values())
    return {
        "seeds": sorted(values_by_seed),
        "values": [round(v, 4) for v in values],
        "mean": round(float(np.mean(values)), 4),
        "std": round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else 0.0,
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }
