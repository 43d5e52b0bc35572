"""Typed results: what a run file holds per arm, read once with validation.

Evaluation writes an :class:`ArmSummary` per arm and a :class:`Comparison` per pair;
the freshness test a :class:`FreshnessArm` per arm. The experiment, the report and the
CLI read these attributes, never nested dict keys, so a renamed field is a type error
and a run file of another shape fails to load with a message naming the field::

    run = load_run(path)                            # an EvalRun
    run.arms["rag"].accuracy["contains"].mean       # Interval
    run.arms["rag"].speed.latency.total.p95         # one-at-a-time latency if probed

The report never imports ``ragtune.experiment``: a recommendation is made there and
handed to the report::

    rec = recommend_latest(project.runs_dir, project.config.recommend)
    write_report(project.runs_dir, rec)

Every model keeps keys it does not know (``extra="allow"``), so a file written by a
newer ragtune still loads and is written back whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Result(BaseModel):
    """Base of every run-file model: unknown keys are kept, values validated on load."""

    model_config = ConfigDict(extra="allow")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class Interval(Result):
    """A mean with its 95% bootstrap interval over ``n`` values. Written with only a
    ``mean``, it is a point: ``low`` and ``high`` default to it."""

    mean: float
    low: float
    high: float
    n: int = 0
    level: float = 0.95

    @model_validator(mode="before")
    @classmethod
    def _point_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "mean" in data:
            return {"low": data["mean"], "high": data["mean"], **data}
        return data


ZERO = Interval(mean=0.0, low=0.0, high=0.0)


class Percentiles(Result):
    """Milliseconds: ``p50``, ``p95``, ``mean``, ``max``."""

    p50: float = 0.0
    p95: float = 0.0
    mean: float = 0.0
    max: float = 0.0


class StageLatency(Result):
    """Latency per stage of answering a question."""

    retrieve: Percentiles = Field(default_factory=Percentiles)
    generate: Percentiles = Field(default_factory=Percentiles)
    total: Percentiles = Field(default_factory=Percentiles)


class LoadSample(Result):
    """The machine's 1-minute load average while an arm was measured (ours included)."""

    before: float | None = None
    max: float | None = None
    after: float | None = None
    cores: int | None = None
    threads: int | None = None

    @property
    def oversubscribed(self) -> bool:
        """Other work competed for the cores: the load passed 1.5x the cores (an arm
        running alone on every core keeps it near 1x)."""
        return self.max is not None and bool(self.cores) and self.max > 1.5 * (self.cores or 1)


class SpeedSummary(Result):
    """Latency, compute per query, tokens, throughput and memory of one arm."""

    n: int = 0
    latency_ms: StageLatency = Field(default_factory=StageLatency)
    single_latency_ms: StageLatency | None = None
    amortized_ms: Percentiles = Field(default_factory=Percentiles)
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    tokens_per_s: float | None = None
    peak_rss_bytes: int | None = None
    wall_seconds: float = 0.0
    cpu_seconds: float | None = None
    single_latency_s: list[float] = Field(default_factory=list)
    load: LoadSample = Field(default_factory=LoadSample)
    # Of the n answers, how many the answer cache gave back (latency as first measured).
    reused_answers: int = 0
    # Every answer was reused, so the probe latency and its load are that run's too.
    latency_reused: bool = False

    @property
    def latency(self) -> StageLatency:
        """The latency a user sees: one question at a time when that was probed, else
        the latency of questions answered in evaluation batches."""
        return self.single_latency_ms or self.latency_ms

    @property
    def latency_source(self) -> str:
        return "one question at a time" if self.single_latency_ms else "in evaluation batches"

    @property
    def peak_rss_mb(self) -> float:
        return (self.peak_rss_bytes or 0) / 2**20


class SeedSpread(Result):
    """One figure across training seeds."""

    seeds: list[int]
    values: list[float]
    mean: float
    std: float = 0.0
    min: float = 0.0
    max: float = 0.0


class ArmSummary(Result):
    """One arm of an evaluation run: accuracy with intervals, overall and per split,
    retrieval and groundedness, speed; or the reason it was skipped."""

    status: str = "ok"
    reason: str = ""
    spec: dict[str, Any] | None = None
    accuracy: dict[str, Interval] = Field(default_factory=dict)
    by_split: dict[str, dict[str, Interval]] = Field(default_factory=dict)
    retrieval: dict[str, Interval] = Field(default_factory=dict)
    groundedness: Interval | None = None
    citation_rate: float | None = None
    speed: SpeedSummary = Field(default_factory=SpeedSummary)
    seeds: SeedSpread | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def split_accuracy(self, split: str, metric: str) -> Interval | None:
        return self.by_split.get(split, {}).get(metric)


class Comparison(Result):
    """The paired difference ``a - b`` on ``metric`` over the questions of ``split``."""

    a: str
    b: str
    metric: str = ""
    split: str = "all"
    mean: float
    low: float
    high: float
    n: int = 0
    level: float = 0.95
    called: bool = False

    def flipped(self) -> Comparison:
        """``b - a``."""
        return self.model_copy(
            update={
                "a": self.b,
                "b": self.a,
                "mean": -self.mean,
                "low": -self.high,
                "high": -self.low,
            }
        )


class PhaseSummary(Result):
    """One arm in one freshness phase: NEW and OLD answer rates on changed facts,
    accuracy on unchanged ones, and the paired NEW - OLD difference."""

    changed_new: Interval = ZERO
    changed_old: Interval = ZERO
    unchanged: Interval = ZERO
    new_minus_old: Interval = ZERO
    trained_changed_new: Interval | None = None
    trained_changed_old: Interval | None = None
    seconds: float = 0.0


class TimeToFresh(Result):
    """Seconds (and what they buy) for an arm to answer with the new documents again;
    ``seconds`` is ``None`` when it never does or was not retrained in the run."""

    seconds: float | None = None
    how: str = ""
    estimate_seconds: float | None = None
    never: bool = False


class FreshnessArm(Result):
    """One arm of a freshness run: its phases, its state after the update and at the end."""

    status: str = "ok"
    reason: str = ""
    phases: dict[str, PhaseSummary] = Field(default_factory=dict)
    after_update: str = ""
    final: str = ""
    final_phase: str = "updated"
    time_to_fresh: TimeToFresh = Field(default_factory=TimeToFresh)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def last(self) -> PhaseSummary:
        """The phase the arm ended in (``retrained`` if it was, else ``updated``)."""
        return self.phases.get(self.final_phase) or PhaseSummary()


class StepCost(Result):
    """Measured seconds of one step (synthesis, re-synthesis, an ingest)."""

    seconds: float | None = None


class TrainCost(Result):
    """What training one adapter cost, from its manifest or a retraining."""

    seconds: float | None = None
    train_seconds: float | None = None
    cpu_seconds: float | None = None
    tokens_seen: int | None = None
    peak_rss_mb: float | None = None
    steps: int | None = None
    final_loss: float | None = None
    examples: int | None = None


class IndexCost(Result):
    documents: int | None = None
    chunks: int | None = None
    bytes: int | None = None
    seconds: float | None = None
    how: str | None = None


class OneOffCosts(Result):
    """Index build, synthesis and training, as measured where they were paid."""

    index: IndexCost = Field(default_factory=IndexCost)
    synth: StepCost | None = None
    train: dict[str, TrainCost] = Field(default_factory=dict)

    def training_seconds(self, adapter: str) -> float:
        """Synthesis + training seconds of ``adapter`` as first measured (0 if unknown)."""
        synth = (self.synth.seconds or 0.0) if self.synth is not None else 0.0
        train = self.train.get(adapter)
        return synth + ((train.train_seconds or 0.0) if train is not None else 0.0)


class Retraining(Result):
    """Re-synthesis and retraining after an update, every figure measured."""

    seconds: float = 0.0
    synth: StepCost = Field(default_factory=StepCost)
    train: dict[str, TrainCost] = Field(default_factory=dict)

    def seconds_for(self, adapter: str) -> float | None:
        """Re-synthesis + retraining seconds of ``adapter``, or ``None`` if not retrained."""
        if adapter not in self.train:
            return None
        return (self.synth.seconds or 0.0) + (self.train[adapter].seconds or 0.0)


class IngestFigures(Result):
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    seconds: float = 0.0


class FreshnessDetails(Result):
    """The update itself: its ingest, the retraining (if any), the phases measured."""

    ingest: IngestFigures = Field(default_factory=IngestFigures)
    retrain: Retraining | None = None
    phases: list[str] = Field(default_factory=list)


@dataclass
class Recommendation:
    """The chosen arm with the numbers behind it and what would change it (``--json``)."""

    arm: str | None
    constraints: dict[str, Any]
    tier: list[str]
    excluded: dict[str, str]
    profiles: dict[str, dict[str, Any]]
    costs: dict[str, dict[str, Any]]
    explanation: list[str]
    what_would_change: list[str]
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
