"""The main job, end to end on the fictional demo domain (``ragtune demo``, ``make demo``).

Writes the demo documents (version 1 and the changed version 2), indexes version 1,
synthesizes training data, fine-tunes the ``qa`` and ``raft`` adapters, evaluates all
five arms on the same held-out questions, applies version 2 and runs the freshness
test, recommends an arm and writes the report. Every stage is timed::

    from ragtune.demo.runner import DemoPlan, run_demo
    result = run_demo("demo-project", DemoPlan.full(), say=print)
    result.report_html, result.stages   # [{"stage": "ingest", "seconds": 31.2, ...}, ...]

Stages that cannot run here (no training libraries) are skipped with the reason, and
the arms that need them are reported as skipped; everything else still runs.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.progress import Progress
from ragtune.registry import arms as registered_arms

if TYPE_CHECKING:
    from ragtune.evaluate.records import EvalRun

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


class _Stages:
    """Times each stage and tells the user what is happening and how long it took."""

    def __init__(self, say: Say, result: DemoResult) -> None:
        self.say, self.result, self.started = say, result, time.perf_counter()

    def run(self, name: str, message: str, fn: Callable[[], Any]) -> Any:
        number = len(self.result.stages) + 1
        self.say(f"[{number}] {message} …")
        started = time.perf_counter()
        value = fn()
        seconds = round(time.perf_counter() - started, 1)
        self.result.stages.append({"stage": name, "seconds": seconds})
        total = time.perf_counter() - self.started
        self.say(f"    done in {seconds:,.1f} s (elapsed {total / 60:,.1f} min)")
        return value

    def skip(self, name: str, reason: str) -> None:
        self.result.skipped[name] = reason
        self.say(f"[skip] {name}: {reason}")


def _fresh_state(root: Path) -> None:
    """A re-run starts from version 1 again: drop index, data and adapters; keep old runs."""
    state = root / ".ragtune"
    for sub in ("store", "store.next", "data", "adapters"):
        shutil.rmtree(state / sub, ignore_errors=True)
    (state / "runs" / "ingest-log.jsonl").unlink(missing_ok=True)


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


class _Demo:
    """The demo's stages, in order, over one project folder; each says what it did."""

    def __init__(self, root: Path, plan: DemoPlan, say: Say, progress: Progress) -> None:
        self.root, self.plan, self.say, self.progress = root, plan, say, progress
        self.result = DemoResult(root)
        self.stages = _Stages(say, self.result)
        self.v1, self.v2 = root / "corpus-v1", root / "corpus-v2"
        self.no_training: str | None = None

    def write_corpus(self, overrides: dict[str, Any] | None) -> None:
        from ragtune.demo import write_demo_corpus
        from ragtune.project import Project

        seed = self.plan.seed
        self.stages.run(
            "corpus",
            "Writing the demo domain, version 1 and the changed version 2",
            lambda: (
                write_demo_corpus(self.v1, version=1, seed=seed),
                write_demo_corpus(self.v2, version=2, seed=seed),
            ),
        )
        config = demo_config(self.plan, overrides)
        if (self.root / "ragtune.toml").exists():
            _fresh_state(self.root)
            self.project = Project.open(self.root, config)
        else:
            self.project = Project.init(self.root, config)

    def ingest(self) -> None:
        from ragtune.evaluate.costs import log_ingest

        docs = self.v1 / "docs"

        def ingest() -> Any:
            report = self.project.ingest([docs], mirror=True, progress=self.progress)
            log_ingest(self.project, report, [str(docs)], purpose="build")
            return report

        report = self.stages.run(
            "ingest", "Indexing version 1 (chunk, embed, SQLite + FAISS + BM25)", ingest
        )
        self.say(f"    {report.added} documents, {report.chunks_embedded} chunks")
        self.qa_v1, self.qa_v2 = write_fact_slice(
            self.v1, self.v2, self.project.data_dir.parent / "demo", self.plan.facts, self.plan.seed
        )
        if self.plan.facts is not None:
            self.say(
                f"    training and questions on a slice of {self.plan.facts} facts ({self.qa_v1})"
            )

    def train(self) -> None:
        from ragtune.experiment.refresh import reload_generator, train_adapter, training_available
        from ragtune.synth import synthesize

        plan = self.plan
        self.no_training = training_available() if plan.train else "skipped on request (--no-train)"
        if self.no_training:
            for name in ("synthesize", "train qa", "train raft"):
                self.stages.skip(name, self.no_training)
            return
        manifest = self.stages.run(
            "synthesize",
            "Synthesizing training data (QA pairs, held-out split by fact, RAFT examples)",
            lambda: synthesize(
                self.project, source="demo", path=self.qa_v1, progress=self.progress
            ),
        )
        held_out = manifest.counts.heldout_unseen_phrasing + manifest.counts.heldout_unseen_fact
        self.say(f"    {manifest.counts.train} training questions, {held_out} held out")
        for mode in registered_arms.adapters_for(registered_arms.names()):
            if mode not in plan.train_modes:
                self.stages.skip(
                    f"train {mode}", f"not in this plan ({plan.name}); the full demo trains it"
                )
                continue

            def train(mode: str = mode) -> dict[str, Any]:
                overrides = plan.train_overrides.get(mode, {})
                return train_adapter(self.project, mode, self.progress, **overrides)

            cost = self.stages.run(f"train {mode}", f"Fine-tuning the {mode!r} LoRA adapter", train)
            self.say(
                f"    {cost['steps']} steps, {cost['tokens_seen']:,} tokens, final loss {cost['final_loss']}"
            )
        reload_generator(self.project)

    def evaluate(self) -> EvalRun:
        from ragtune.demo import load_qa
        from ragtune.evaluate.runner import evaluate
        from ragtune.report.text import interval_text
        from ragtune.synth import files

        # Without synthesis there is no held-out split: ask the demo's own questions.
        has_split = (self.project.data_dir / files.HELDOUT).is_file()
        questions = None if has_split else load_qa(self.qa_v1)
        arms = registered_arms.names()
        run, self.result.eval_run = self.stages.run(
            "evaluate",
            f"Evaluating all {len(arms)} arms on the same {self.plan.eval_questions} held-out questions",
            lambda: evaluate(
                self.project,
                arms,
                questions=questions,
                max_questions=self.plan.eval_questions,
                progress=self.progress,
                notes=[f"demo: {self.no_training}"] if self.no_training else (),
            ),
        )
        for arm, summary in run.arms.items():
            if summary.ok:
                self.say(f"    {arm:>7}: {interval_text(summary.accuracy.get('contains'))}")
            else:
                self.result.skipped[arm] = summary.reason
                self.say(f"    {arm:>7}: skipped ({summary.reason})")
        return run

    def freshness(self, arms: list[str]) -> None:
        from ragtune.experiment.freshness import run_freshness
        from ragtune.report.rows import freshness_rows
        from ragtune.report.text import pct

        retrain = self.plan.retrain and not self.no_training
        fresh, self.result.freshness_run = self.stages.run(
            "freshness",
            "Applying version 2 and measuring freshness (re-index"
            + ("; re-synthesize and retrain)" if retrain else "; retraining estimated)"),
            lambda: run_freshness(
                self.project,
                self.v2,
                arms,
                retrain_arms=retrain,
                measure_before=self.plan.measure_before,
                limit=self.plan.freshness_questions,
                progress=self.progress,
                retrain_qa=self.qa_v2,
            ),
        )
        for row in freshness_rows(fresh):
            self.say(
                f"    {row.arm:>7}: after the update {row.after_update}, finally {row.final} "
                f"(new answers {pct(fresh.arms[row.arm].last.changed_new.mean)}; "
                f"time to fresh {row.time_to_fresh})"
            )

    def report(self) -> None:
        from ragtune.experiment.recommend import recommend_latest
        from ragtune.report import write_report

        runs, constraints = self.project.runs_dir, self.project.config.recommend
        paths = self.stages.run(
            "report",
            "Recommending and writing the report",
            lambda: write_report(runs, recommend_latest(runs, constraints)),
        )
        self.result.report_html, self.result.report_markdown = paths.html, paths.markdown
        self.result.recommendation = paths.recommendation.arm if paths.recommendation else None


def run_demo(
    directory: Path | str,
    plan: DemoPlan | None = None,
    say: Say | None = None,
    progress: Progress | None = None,
    overrides: dict[str, Any] | None = None,
) -> DemoResult:
    """Run the whole demo in ``directory``; returns what it made and how long each stage took."""
    started = time.perf_counter()
    root = Path(directory).expanduser().resolve()
    demo = _Demo(
        root, plan or DemoPlan.full(), say or (lambda message: None), progress or Progress()
    )
    demo.write_corpus(overrides)
    demo.ingest()
    demo.train()
    run = demo.evaluate()
    demo.freshness(run.ok_arms)
    demo.report()
    result = demo.result
    result.seconds = round(time.perf_counter() - started, 1)
    (demo.project.runs_dir / "demo-summary.json").write_text(json.dumps(result.to_dict(), indent=2))
    demo.project.close()
    return result
