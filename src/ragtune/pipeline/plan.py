"""How long a comparison will take: from what it will do, and one measured answer.

The plan is printed once the documents are indexed and the questions written, so it
counts what the run will really do: the training rows of each adapter (their text, at
~3.3 characters a token), the questions each arm answers, and the changed facts of an
update. Each count is turned into seconds with figures of the reference machine (2
cores with bf16 matrix instructions; ``benchmarks/README.md``, the full ``compare``
run on the Hatch docs), scaled by the probe: one short answer timed on this machine
against the :data:`REFERENCE_PROBE_S` it takes there. Cached answers are not
counted, so each figure is an upper bound::

    >>> machine_speed(probe=1.2)   # half the reference machine's speed
    0.5
    >>> round(answers_seconds(60, retrieving=True, probe=1.2))
    288
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragtune.config import TuneConfig

__all__ = [
    "PlanEstimate",
    "TrainingRows",
    "answers_seconds",
    "machine_speed",
    "training_seconds",
]

#: The plan's probe (an 8-token answer, alone, the model loaded) on the reference machine.
REFERENCE_PROBE_S = 0.6
#: LoRA training tokens a second there (Hatch: RAFT rows 220-267, the demo's QA rows 228).
TRAIN_TOKENS_PER_S = 230.0
#: Characters of a chat row's messages per token (Hatch: QA rows 3.26, RAFT rows 3.43).
CHARS_PER_TOKEN = 3.3
#: One answer in a batch, in probes: closed-book, and with the retrieved passages.
BATCHED_CLOSED_BOOK = 1.8
BATCHED_WITH_PASSAGES = 4.0
#: One answer alone (an arm's latency probe), in probes.
ALONE = 4.0


@dataclass(frozen=True)
class PlanEstimate:
    """What the plan is estimated from (the chunk count, the seconds one answer took,
    the update's changed facts, each adapter's training rows) and each stage's
    estimated seconds."""

    chunks: int
    probe: float
    seconds: dict[str, float]
    changed_facts: int = 0
    training_rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingRows:
    """An adapter's training file as the estimate sees it: rows and tokens per epoch."""

    rows: int
    tokens: float

    @classmethod
    def read(cls, path: Path) -> TrainingRows | None:
        """The rows of a chat JSONL file (``{"messages": [...]}``); ``None`` if absent or empty."""
        if not path.is_file():
            return None
        rows, chars = 0, 0
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                rows += 1
                messages = json.loads(line).get("messages") or []
                chars += sum(len(str(m.get("content", ""))) for m in messages)
        return cls(rows, chars / CHARS_PER_TOKEN) if rows else None


def machine_speed(probe: float) -> float:
    """This machine's speed relative to the reference machine's, from the probe (1 when
    there is no probe)."""
    return REFERENCE_PROBE_S / probe if probe > 0 else 1.0


def training_seconds(
    rows: TrainingRows | None, tune: TuneConfig, overrides: Mapping[str, Any], speed: float
) -> float:
    """One training of an adapter: its epochs over the rows (or ``max_steps`` steps of
    ``batch_size`` rows, whichever is fewer) at the reference rate times ``speed``.

    >>> from ragtune.config import TuneConfig
    >>> rows = TrainingRows(rows=100, tokens=6000.0)
    >>> round(training_seconds(rows, TuneConfig(epochs=3), {}, speed=1.0))
    78
    >>> round(training_seconds(rows, TuneConfig(epochs=3), {"max_steps": 5}, speed=1.0))
    21
    """
    if rows is None:
        return 0.0
    examples = rows.rows * float(overrides.get("epochs", tune.epochs))
    max_steps = overrides.get("max_steps")
    if max_steps:
        per_step = tune.batch_size * tune.gradient_accumulation_steps
        examples = min(examples, float(max_steps) * per_step)
    return examples * (rows.tokens / rows.rows) / (TRAIN_TOKENS_PER_S * speed)


def answers_seconds(questions: int, retrieving: bool, probe: float) -> float:
    """``questions`` answers of one arm in batches."""
    per_answer = BATCHED_WITH_PASSAGES if retrieving else BATCHED_CLOSED_BOOK
    return questions * per_answer * probe
