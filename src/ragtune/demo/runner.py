"""The main job, end to end on the fictional demo domain (``ragtune demo``, ``make demo``).

Writes the demo documents (version 1 and the changed version 2), then runs the same
pipeline as ``ragtune compare`` (:mod:`ragtune.pipeline`) on them: index version 1,
training data from its questions, the ``qa`` and ``raft`` adapters (three training
seeds in the full plan), all five arms on the same held-out questions, version 2 as the
update with its ``changes.jsonl``, the recommendation and the report. Every stage is
timed and cached, so a killed demo resumes and a re-run redoes only what changed::

    from ragtune.demo.runner import DemoPlan, run_demo
    result = run_demo("demo-project", DemoPlan.full(), say=print)
    result.report_html, result.stages   # [{"stage": "ingest", "seconds": 31.2, ...}, ...]

Stages that cannot run here (no training libraries) are skipped with the reason, and
the arms that need them are reported as skipped; everything else still runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.evaluate.records import load_eval_run
from ragtune.progress import Progress

if TYPE_CHECKING:
    from ragtune.pipeline import CompareOptions

Say = Callable[[str], None]

# Short factual answers fit in 32 new tokens; a chatty 135M model would otherwise spend
# most of the generation budget on filler that no metric rewards.
DEMO_CONFIG: dict[str, Any] = {
    "llm": {"max_new_tokens": 32, "batch_size": 32},
    # The demo's qa.jsonl already has four phrasings per fact: no generated paraphrases.
    # One distractor per RAFT example keeps its prompts ~400 tokens: training cost is per token.
    "synth": {"paraphrases": 0, "raft_distractors": 1},
    "eval": {"bootstrap_samples": 1000},
    # A 135M model on two CPU cores answers in seconds, not milliseconds; the report and
    # `ragtune recommend --latency-budget-ms` show how the choice moves with this budget.
    "recommend": {"latency_budget_ms": 20000.0},
    # Several passes at a high rate are what makes a small model recall new facts
    # (see tests/tune/test_learns_facts.py); also used when the freshness test retrains.
    "tune": {"epochs": 5.0, "learning_rate": 2e-3, "batch_size": 8},
}


def write_fact_slice(
    v1: Path, v2: Path, out: Path, facts: int | None, seed: int = 0
) -> tuple[Path, Path]:
    """``qa.jsonl`` of both versions limited to ``facts`` facts: two thirds of them facts
    that change in version 2 (what the freshness test asks about), the rest unchanged.

    Returns the two files (the corpus's own ``qa.jsonl`` files when ``facts`` is None).
    """
    import random

    from ragtune.demo import load_changes, load_qa

    if facts is None:
        return v1 / "qa.jsonl", v2 / "qa.jsonl"
    rows_v1, rows_v2 = load_qa(v1 / "qa.jsonl"), load_qa(v2 / "qa.jsonl")
    known = list(dict.fromkeys(r.fact_id for r in rows_v1))
    known_set = set(known)
    changed = [c.fact_id for c in load_changes(v2) if c.fact_id in known_set]
    changing = set(changed)
    rng = random.Random(seed)
    rng.shuffle(changed)
    chosen = changed[: (2 * facts) // 3]
    others = [f for f in known if f not in changing]
    rng.shuffle(others)
    chosen += others[: facts - len(chosen)]
    keep = set(chosen)
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "qa-v1-slice.jsonl", out / "qa-v2-slice.jsonl"
    for path, rows in zip(paths, (rows_v1, rows_v2), strict=True):
        path.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows if r.fact_id in keep))
    return paths


@dataclass
class DemoPlan:
    """How much of the demo to run: the full plan fits ~25 minutes on 2 CPU cores."""

    eval_questions: int = 40
    freshness_questions: int = 12
    latency_probe: int = 2
    measure_before: bool = True
    retrain: bool = True
    train: bool = True
    # Facts the demo trains and asks about (None: all ~180). Knowledge injection into a
    # 135M model takes several epochs per fact; a slice keeps that within minutes on a CPU.
    facts: int | None = 36
    train_modes: tuple[str, ...] = ("qa", "raft")
    name: str = "full"
    # Training seeds of the fine-tuned arms (their interval covers seed variance).
    seeds: int = 3
    from_stage: str | None = None
    # Per-mode overrides of the [tune] section for the first training (e.g. shorter RAFT).
    train_overrides: dict[str, dict[str, Any]] = field(
        # RAFT rows are ~400 tokens: 6 steps of 8 (about half the rows) bound its cost.
        default_factory=lambda: {"raft": {"epochs": 1.0, "max_steps": 6}}
    )
    seed: int = 0

    @classmethod
    def full(cls) -> DemoPlan:
        return cls()

    @classmethod
    def quick(cls) -> DemoPlan:
        """A smaller slice (~6 minutes): fewer questions, shorter training, no 'before' pass."""
        return cls(
            eval_questions=16,
            freshness_questions=8,
            latency_probe=1,
            measure_before=False,
            facts=16,
            train_overrides={"qa": {"epochs": 4.0}},
            # RAFT examples are ~10x longer than QA pairs: the quick slice leaves them out,
            # and estimates the retraining that freshness needs from the first training.
            train_modes=("qa",),
            retrain=False,
            seeds=1,
            name="quick",
        )


@dataclass
class DemoResult:
    """What the demo produced: the project, its run files, the report, per-stage timings."""

    project_root: Path
    report_html: Path | None = None
    report_markdown: Path | None = None
    eval_run: Path | None = None
    freshness_run: Path | None = None
    recommendation: str | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def demo_config(plan: DemoPlan, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The demo project's settings: :data:`DEMO_CONFIG`, the plan's seed and latency
    probe, then ``overrides``."""
    from ragtune.config import _deep_merge
    from ragtune.demo import names

    company, _ = names.COMPANIES[plan.seed % len(names.COMPANIES)]
    config = _deep_merge(
        DEMO_CONFIG,
        {
            # What the closed-book arms are told they answer about.
            "project": {"domain": f"{company}'s products and policies"},
            "eval": {"latency_probe": plan.latency_probe, "seed": plan.seed},
            "synth": {"seed": plan.seed},
            "tune": {"seed": plan.seed},
        },
    )
    return _deep_merge(config, overrides or {})


def compare_options(plan: DemoPlan, v1: Path, v2: Path, qa_v1: Path, qa_v2: Path) -> CompareOptions:
    """The :class:`~ragtune.pipeline.CompareOptions` the demo runs: version 1's documents
    and questions, version 2 (with its ``changes.jsonl``) as the update."""
    from ragtune.pipeline import CompareOptions

    modes = set(plan.train_modes)
    return CompareOptions(
        docs=[v1 / "docs"],
        qa=qa_v1,
        update=[v2],
        quick="raft" not in modes,
        from_stage=plan.from_stage,
        train=plan.train,
        max_questions=plan.eval_questions,
        seeds=plan.seeds,
        train_overrides={m: plan.train_overrides.get(m, {}) for m in modes},
        retrain=plan.retrain,
        measure_before=plan.measure_before,
        freshness_questions=plan.freshness_questions,
        retrain_qa=qa_v2,
    )


def run_demo(
    directory: Path | str,
    plan: DemoPlan | None = None,
    say: Say | None = None,
    progress: Progress | None = None,
    overrides: dict[str, Any] | None = None,
    run_only: dict[str, Any] | None = None,
) -> DemoResult:
    """Write the demo corpus in ``directory`` and run ``ragtune compare`` on it (every
    stage cached: a re-run redoes only what changed); returns what it made and how long
    each stage took. ``overrides`` are written into a new project's ``ragtune.toml``;
    ``run_only`` settings hold for this run and are not (``--engine vllm``'s ``[llm]``
    lines: the server started for the run is gone after it)."""
    from ragtune.config import _deep_merge
    from ragtune.demo import write_demo_corpus
    from ragtune.pipeline import run_compare
    from ragtune.project import Project

    started = time.perf_counter()
    plan = plan or DemoPlan.full()
    say = say or (lambda message: None)
    root = Path(directory).expanduser().resolve()
    v1, v2 = root / "corpus-v1", root / "corpus-v2"
    say("[corpus] writing the demo domain, version 1 and the changed version 2 …")
    corpus_started = time.perf_counter()
    write_demo_corpus(v1, version=1, seed=plan.seed)
    write_demo_corpus(v2, version=2, seed=plan.seed)
    corpus_seconds = round(time.perf_counter() - corpus_started, 1)
    config = demo_config(plan, overrides)
    if not (root / "ragtune.toml").exists():
        Project.init(root, config).close()  # writes config, not run_only, to ragtune.toml
    project = Project.open(root, _deep_merge(config, run_only or {}))
    try:
        qa_v1, qa_v2 = write_fact_slice(v1, v2, project.state_dir / "demo", plan.facts, plan.seed)
        options = compare_options(plan, v1, v2, qa_v1, qa_v2)
        compared = run_compare(project, options, progress=progress, say=say)
        result = DemoResult(
            root,
            report_html=compared.report_html,
            report_markdown=compared.report_markdown,
            eval_run=compared.eval_run,
            freshness_run=compared.freshness_run,
            recommendation=compared.recommendation,
            stages=[
                {"stage": "corpus", "status": "ran", "seconds": corpus_seconds},
                *compared.stages,
            ],
            skipped={s["stage"]: s["reason"] for s in compared.stages if "reason" in s},
        )
        if compared.eval_run is not None:
            run = load_eval_run(compared.eval_run)
            result.skipped.update({a: s.reason for a, s in run.arms.items() if not s.ok})
        result.seconds = round(time.perf_counter() - started, 1)
        summary = project.runs_dir / "demo-summary.json"
        summary.write_text(json.dumps(result.to_dict(), indent=2))
    finally:
        project.close()
    return result
