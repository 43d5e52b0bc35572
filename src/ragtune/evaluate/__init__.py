"""Evaluation: every arm on the same questions; answer, retrieval, groundedness, cost
and speed figures with bootstrap intervals; one self-describing JSON per run.

    from ragtune.evaluate import evaluate, load_run
    run, path = evaluate(project, arms=["base", "rag"])
    load_run(path).arms["rag"]["accuracy"]["contains"]

Modules: ``metrics`` (answer metrics), ``retrieval`` (recall@k, MRR, nDCG),
``bootstrap`` (intervals), ``scoring`` (one answer -> one record), ``aggregate``
(per-arm summaries, paired comparisons), ``runner`` (the evaluation), ``records``
(the run file), ``costs`` and ``resources`` (measured compute).
"""

from __future__ import annotations

from ragtune.evaluate.bootstrap import Difference, Interval, bootstrap_mean, paired_difference
from ragtune.evaluate.metrics import (
    PRIMARY_METRIC,
    contains_answer,
    exact_match,
    normalize_answer,
    token_f1,
)
from ragtune.evaluate.records import (
    QuestionRecord,
    RunFile,
    latest_run,
    list_runs,
    load_run,
    write_run,
)
from ragtune.evaluate.runner import evaluate, run_arm

__all__ = [
    "PRIMARY_METRIC",
    "Difference",
    "Interval",
    "QuestionRecord",
    "RunFile",
    "bootstrap_mean",
    "contains_answer",
    "evaluate",
    "exact_match",
    "latest_run",
    "list_runs",
    "load_run",
    "normalize_answer",
    "paired_difference",
    "run_arm",
    "token_f1",
    "write_run",
]
