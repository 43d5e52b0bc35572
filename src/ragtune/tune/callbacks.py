"""Trainer callbacks: a ragtune progress bar, and measured cost that survives a resume.

``CostMeter`` adds this process's wall seconds, CPU seconds and peak RSS to the totals
it reads from the checkpoint it resumes from, and writes them into every checkpoint
it saves (``ragtune_cost.json``, written after the checkpoint is complete on every
process, so it also marks a checkpoint as safe to resume from). Under ``accelerate
launch`` the figures cover all processes: CPU seconds add up, wall seconds and the peak
of one process are the largest, and ``peak_rss_mb_total`` adds the processes' peaks::

    meter = CostMeter.resume_from(checkpoint_dir)   # or CostMeter() for a fresh run
    trainer.add_callback(meter)
    trainer.add_callback(ProgressCallback(progress, total_tokens, "qa"))
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from ragtune.progress import Progress
from ragtune.tune.distributed import gather_objects

COST_FILE = "ragtune_cost.json"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CostMeter(TrainerCallback):
    """Measures training cost; totals are cumulative over resumed sessions."""

    def __init__(self, previous: dict[str, Any] | None = None) -> None:
        previous = previous or {}
        self.previous_seconds = float(previous.get("train_seconds", 0.0))
        self.previous_cpu = float(previous.get("cpu_seconds", 0.0))
        self.previous_peak = float(previous.get("peak_rss_mb", 0.0))
        self.sessions: list[dict[str, Any]] = list(previous.get("sessions", []))
        self.loss_history: list[list[float]] = list(previous.get("loss_history", []))
        self.started = time.perf_counter()
        self.cpu_started = cpu_seconds()
        self.start_step = 0
        self.end_step = 0

    @classmethod
    def resume_from(cls, checkpoint: Path | None) -> CostMeter:
        if checkpoint is None or not (checkpoint / COST_FILE).is_file():
            return cls()
        return cls(json.loads((checkpoint / COST_FILE).read_text()))

    # -- the totals ---------------------------------------------------------------------
    def session(self) -> dict[str, Any]:
        """This session so far, over every training process.

        A collective under a launcher: every rank calls it at the same point (the
        trainer's save, the final save).
        """
        own = {
            "seconds": time.perf_counter() - self.started,
            "cpu_seconds": cpu_seconds() - self.cpu_started,
            "peak_rss_mb": peak_rss_mb(),
        }
        every = gather_objects(own)
        return {
            "start_step": self.start_step,
            "end_step": self.end_step,
            "processes": len(every),
            "seconds": round(max(p["seconds"] for p in every), 3),
            "cpu_seconds": round(sum(p["cpu_seconds"] for p in every), 3),
            "peak_rss_mb": round(max(p["peak_rss_mb"] for p in every), 1),
            "peak_rss_mb_total": round(sum(p["peak_rss_mb"] for p in every), 1),
        }

    def totals(self) -> dict[str, Any]:
        """Cumulative figures over resumed sessions (a collective, as :meth:`session`)."""
        now = self.session()
        return {
            "train_seconds": round(self.previous_seconds + now["seconds"], 3),
            "cpu_seconds": round(self.previous_cpu + now["cpu_seconds"], 3),
            "peak_rss_mb": round(max(self.previous_peak, now["peak_rss_mb"]), 1),
            "sessions": [*self.sessions, now],
            "loss_history": self.loss_history,
        }

    # -- trainer events -----------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # Time from here: model loading and data preparation are not training cost.
        self.started = time.perf_counter()
        self.cpu_started = cpu_seconds()
        self.start_step = self.end_step = state.global_step

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.end_step = state.global_step

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if logs and "loss" in logs:
            self.loss_history.append([state.global_step, round(float(logs["loss"]), 5)])

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # Every rank gathers: once all arrive, each has written its share of the
        # checkpoint (its RNG state), so rank 0's marker below tells the truth.
        totals = self.totals()
        if not state.is_world_process_zero:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            (folder / COST_FILE).write_text(json.dumps(totals, indent=2))


class ProgressCallback(TrainerCallback):
    """Drives a :class:`ragtune.progress.Progress` bar in tokens (so the bar shows
    tokens/s and the ETA) and logs loss, learning rate and speed every logging step."""

    def __init__(self, progress: Progress, total_tokens: int | None, label: str) -> None:
        self.progress = progress
        self.total_tokens = total_tokens
        self.label = label
        self._stack = contextlib.ExitStack()
        self._advance: Any = None
        self._seen = 0
        self._started = time.perf_counter()
        self._start_tokens = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._advance = self._stack.enter_context(
            self.progress.task(f"training {self.label}", total=self.total_tokens, unit="tokens")
        )
        self._seen = self._start_tokens = int(state.num_input_tokens_seen)
        self._started = time.perf_counter()
        if self._seen:
            self._advance(self._seen)
            self.progress.log(f"resumed at step {state.global_step}/{state.max_steps}")

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._advance is None:
            return
        seen = int(state.num_input_tokens_seen)
        if seen > self._seen:
            self._advance(seen - self._seen)
            self._seen = seen

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if self._advance is None or not logs or "loss" not in logs:
            return
        elapsed = max(1e-9, time.perf_counter() - self._started)
        rate = (int(state.num_input_tokens_seen) - self._start_tokens) / elapsed
        self.progress.log(
            f"step {state.global_step}/{state.max_steps} · loss {logs['loss']:.4f} · "
            f"lr {logs.get('learning_rate', 0):.2e} · {rate:,.0f} tokens/s"
        )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._stack.close()
        self._advance = None
