"""The run file: one self-describing JSON per evaluation or freshness run.

Everything downstream (``ragtune recommend``, ``ragtune report``, the server) reads these
files only, never state held in memory::

    run = load_run(project.runs_dir / "20261124-081500-eval.json")   # EvalRun
    run.arms["rag"].accuracy["contains"].mean
    [r for r in run.records if r["arm"] == "rag"][0]["prediction"]

Layout (``schema`` ``ragtune.run/1``)::

    run_id, kind ("eval" | "freshness"), created, environment {versions, machine},
    config (the project's full config), data {questions source, manifests, index},
    costs {index, synth, train: {qa, raft}}, arms {arm: summary}, comparisons [...],
    records [one per (arm, question)], freshness {...}, notes [...]
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from ragtune.errors import DataError
from ragtune.evaluate.metrics import PRIMARY_METRIC
from ragtune.evaluate.results import (
    ArmSummary,
    Comparison,
    FreshnessArm,
    FreshnessDetails,
    OneOffCosts,
    Result,
)
from ragtune.machine import machine_info, package_versions
from ragtune.types import _Serializable

SCHEMA = "ragtune.run/1"
RUN_KINDS = ("eval", "freshness")


@dataclass
class QuestionRecord(_Serializable):
    """One arm's answer to one question, scored.

    ``latency`` is seconds as the question experienced them (``retrieve``, ``generate``
    as the wall time of the batch it rode in, ``total``); ``amortized_s`` is its share
    of the compute (batch time / batch size + retrieval), what a query costs.
    """

    qid: str
    arm: str
    question: str
    answers: list[str]
    prediction: str
    split: str = ""
    fact_id: str = ""
    doc_ids: list[str] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)
    cited: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    retrieval: dict[str, float] = field(default_factory=dict)
    grounded: float | None = None
    latency: dict[str, float] = field(default_factory=dict)
    amortized_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class RunFile(Result):
    """What every run file holds, whatever its kind; see :class:`EvalRun` and
    :class:`FreshnessRun` for the per-arm results."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    run_id: str
    kind: str = "eval"
    created: str = ""
    schema_: str = Field(default=SCHEMA, alias="schema")
    environment: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    costs: OneOffCosts = Field(default_factory=OneOffCosts)
    records: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def arm_records(self, arm: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("arm") == arm]


class EvalRun(RunFile):
    """An evaluation: every arm on the same questions (``ragtune eval``)."""

    kind: Literal["eval"] = "eval"
    arms: dict[str, ArmSummary] = Field(default_factory=dict)
    comparisons: list[Comparison] = Field(default_factory=list)

    @property
    def ok_arms(self) -> list[str]:
        """Arms that ran (not skipped), in run order."""
        return [arm for arm, summary in self.arms.items() if summary.ok]

    def load_warning(self) -> str | None:
        """A sentence naming the arms measured on an oversubscribed machine, or ``None``."""
        busy = {
            a: s.speed.load for a, s in self.arms.items() if s.ok and s.speed.load.oversubscribed
        }
        if not busy:
            return None
        worst = max(load.max or 0.0 for load in busy.values())
        cores = next(iter(busy.values())).cores
        return (
            f"Latency of {', '.join(busy)} was measured under load {worst:.1f} on {cores} cores "
            "(other work competed for the CPU): rerun on a quiet machine before trusting "
            "latency or cost."
        )

    def reuse_note(self) -> str | None:
        """A sentence saying how many answers the answer cache gave back, or ``None``."""
        reused = {a: s.speed.reused_answers for a, s in self.arms.items() if s.ok}
        total = sum(reused.values())
        if not total:
            return None
        asked = sum(s.speed.n for s in self.arms.values() if s.ok)
        arms = ", ".join(f"{a} {n}" for a, n in reused.items() if n)
        whole = [a for a, s in self.arms.items() if s.ok and s.speed.latency_reused]
        latency = (
            f" {', '.join(whole)} reused every answer, so their single-question latency and the "
            "load it was measured under are the earlier run's too."
            if whole
            else ""
        )
        return (
            f"{total} of {asked} answers ({arms}) were reused from the answer cache: the same "
            "model, adapter weights and prompt as an earlier run, so the same greedy answer; "
            "their batched latency is as first measured." + latency
        )

    def engine_note(self) -> str | None:
        """A sentence naming the generator server the arms were asked through (an
        ``openai`` backend: vLLM, llama.cpp, a hosted API), or ``None`` for an in-process
        generator: its compute and memory are the server's, not this process's."""
        llm = self.config.get("llm") or {}
        if llm.get("backend") != "openai":
            return None
        return (
            f"Every arm was answered by the model server at {llm.get('base_url')} "
            f"({llm.get('model')}): latencies include its queue, compute per query is each "
            "answer's share of the requests in flight, and peak RSS is ragtune's process, "
            "not the server's."
        )

    def comparison(
        self, a: str, b: str, split: str = "all", metric: str = PRIMARY_METRIC
    ) -> Comparison | None:
        """The comparison ``a - b`` (flipping a stored ``b - a``), or ``None``."""
        from ragtune.evaluate.aggregate import find_comparison

        return find_comparison(self.comparisons, a, b, split, metric)


class FreshnessRun(RunFile):
    """The freshness test: every arm before and after a document update (``ragtune freshness``)."""

    kind: Literal["freshness"] = "freshness"
    arms: dict[str, FreshnessArm] = Field(default_factory=dict)
    freshness: FreshnessDetails = Field(default_factory=FreshnessDetails)

    @property
    def ok_arms(self) -> list[str]:
        return [arm for arm, summary in self.arms.items() if summary.ok]


def parse_run(data: Any, where: str = "run file") -> EvalRun | FreshnessRun:
    """A run from its JSON; a value of the wrong shape raises :class:`DataError` naming
    the field (``arms.rag.accuracy.contains.mean: Input should be a valid number``)."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise DataError(f"{where}: not a ragtune run file (schema {SCHEMA!r} expected)")
    kind = data.get("kind", "eval")
    model: type[EvalRun] | type[FreshnessRun]
    if kind == "eval":
        model = EvalRun
    elif kind == "freshness":
        model = FreshnessRun
    else:
        raise DataError(f"{where}: field kind: unknown run kind {kind!r} (eval or freshness)")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise DataError(f"{where}: field {problems}") from None


def new_run_id(kind: str, now: float | None = None) -> str:
    """``20261124-081502-eval-3f9a``: sortable by time, unique within a second."""
    stamp = datetime.fromtimestamp(now or time.time(), tz=timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{kind}-{secrets.token_hex(2)}"


def utc_now() -> str:
    return datetime.now(tz=timezone.utc).isoformat(timespec="seconds")


def environment() -> dict[str, Any]:
    return {"versions": package_versions(), "machine": machine_info()}


def write_run(runs_dir: Path, run: RunFile) -> Path:
    """Write ``run`` atomically as ``runs_dir/<run_id>.json``; returns the path."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    path = runs_dir / f"{run.run_id}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(run.to_dict(), indent=1, ensure_ascii=False, default=str))
    os.replace(tmp, path)
    return path


def load_run(path: Path | str) -> EvalRun | FreshnessRun:
    """Read one run file; a file that is not a ragtune run, or holds a field of the wrong
    shape, raises :class:`DataError` naming the file and the field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable run file ({exc})") from exc
    return parse_run(data, str(path))


def load_eval_run(path: Path | str) -> EvalRun:
    run = load_run(path)
    if not isinstance(run, EvalRun):
        raise DataError(f"{path}: a {run.kind} run, not an evaluation run")
    return run


def load_freshness_run(path: Path | str) -> FreshnessRun:
    run = load_run(path)
    if not isinstance(run, FreshnessRun):
        raise DataError(f"{path}: a {run.kind} run, not a freshness run")
    return run


def list_runs(runs_dir: Path, kind: str | None = None) -> list[Path]:
    """Run files in ``runs_dir``, oldest first (run ids sort by time), optionally of one kind."""
    if not runs_dir.is_dir():
        return []
    paths = sorted(p for p in runs_dir.glob("*.json") if not p.name.startswith("demo-"))
    out = []
    for path in paths:
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if (
            isinstance(head, dict)
            and head.get("schema") == SCHEMA
            and (kind is None or head.get("kind") == kind)
        ):
            out.append(path)
    return out


def latest_eval_run(runs_dir: Path) -> EvalRun | None:
    """The newest evaluation run in ``runs_dir``, or ``None``."""
    paths = list_runs(runs_dir, "eval")
    return load_eval_run(paths[-1]) if paths else None


def latest_freshness_run(runs_dir: Path) -> FreshnessRun | None:
    """The newest freshness run in ``runs_dir``, or ``None``."""
    paths = list_runs(runs_dir, "freshness")
    return load_freshness_run(paths[-1]) if paths else None


def latest_run(runs_dir: Path, kind: str) -> EvalRun | FreshnessRun | None:
    """The newest run of ``kind`` in ``runs_dir``, or ``None``."""
    paths = list_runs(runs_dir, kind)
    return load_run(paths[-1]) if paths else None
