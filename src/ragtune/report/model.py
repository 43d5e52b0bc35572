"""What a report shows, read from run files only: the same view model feeds HTML and Markdown.

data = load_report_data(project.runs_dir, recommend_latest(project.runs_dir, constraints))
data.eval_run.run_id, data.recommendation.arm, data.examples[0]["answers"]["rag"]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import DataError
from ragtune.evaluate.metrics import PRIMARY_METRIC
from ragtune.evaluate.records import (
    EvalRun,
    FreshnessRun,
    latest_eval_run,
    latest_freshness_run,
    load_eval_run,
    load_freshness_run,
)
from ragtune.evaluate.results import Interval

if TYPE_CHECKING:
    from ragtune.evaluate.results import Recommendation


@dataclass
class ReportData:
    """The runs a report is rendered from, the recommendation, and chosen examples."""

    eval_run: EvalRun
    freshness_run: FreshnessRun | None = None
    recommendation: Recommendation | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    metric: str = PRIMARY_METRIC

    @property
    def arms(self) -> list[str]:
        """Arms that ran, in display order (each arm's registered ``order``)."""
        from ragtune.registry import arms

        return arms.ordered(self.eval_run.ok_arms)

    @property
    def skipped(self) -> dict[str, str]:
        return {a: s.reason for a, s in self.eval_run.arms.items() if not s.ok}

    def accuracy(self, arm: str, metric: str | None = None) -> Interval | None:
        return self.eval_run.arms[arm].accuracy.get(metric or self.metric)


def pick_examples(
    run: EvalRun, arms: list[str], limit: int = 8, metric: str = PRIMARY_METRIC
) -> list[dict[str, Any]]:
    """Questions the arms disagree on, spread over the patterns of right/wrong (e.g. only
    rag right; rag and ft right), then a question every arm missed."""
    by_question: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for record in run.records:
        if record["arm"] in arms:
            by_question[record["qid"]][record["arm"]] = record
    patterns: dict[tuple[bool, ...], list[str]] = defaultdict(list)
    for qid, answers in by_question.items():
        if len(answers) == len(arms):
            patterns[tuple(bool(answers[a]["scores"].get(metric)) for a in arms)].append(qid)
    mixed = sorted((p for p in patterns if any(p) and not all(p)), key=lambda p: -len(patterns[p]))
    chosen: list[str] = []
    while len(chosen) < limit and any(patterns[p] for p in mixed):
        for pattern in mixed:
            if patterns[pattern] and len(chosen) < limit:
                chosen.append(patterns[pattern].pop(0))
    none_right = patterns.get(tuple(False for _ in arms), [])
    if none_right and len(chosen) < limit + 1:
        chosen.append(none_right[0])
    out = []
    for qid in chosen:
        answers = by_question[qid]
        first = next(iter(answers.values()))
        out.append(
            {
                "qid": qid,
                "question": first["question"],
                "gold": first["answers"],
                "split": first.get("split", ""),
                "answers": {
                    a: {
                        "text": answers[a]["prediction"],
                        "correct": bool(answers[a]["scores"].get(metric)),
                        "cited": answers[a].get("cited", []),
                    }
                    for a in arms
                },
            }
        )
    return out


def load_report_data(
    runs_dir: Path,
    recommendation: Recommendation | None = None,
    eval_path: Path | None = None,
    freshness_path: Path | None = None,
    latest_freshness: bool = True,
) -> ReportData:
    """The newest eval and freshness runs in ``runs_dir`` (or the given files), with the
    ``recommendation`` made from them (``ragtune.experiment.recommend_latest``) and examples."""
    eval_run = load_eval_run(eval_path) if eval_path else latest_eval_run(runs_dir)
    if eval_run is None:
        raise DataError(f"no evaluation runs in {runs_dir}; run: ragtune eval")
    freshness_run: FreshnessRun | None
    if freshness_path is not None:
        freshness_run = load_freshness_run(freshness_path)
    else:  # the newest one, unless the caller says this report has none
        freshness_run = latest_freshness_run(runs_dir) if latest_freshness else None
    data = ReportData(eval_run, freshness_run, recommendation)
    data.examples = pick_examples(eval_run, data.arms)
    return data
