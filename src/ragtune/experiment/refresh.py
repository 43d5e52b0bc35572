"""Bring fine-tuned arms up to date: re-synthesize training data, retrain, reload — timed.

RAG's way to fresh is an incremental re-index (``Project.ingest``); fine-tuning's is
this, and its measured cost is what the freshness test reports::

    cost = retrain(project, modes=["qa", "raft"], qa_source=new_qa, progress=progress)
    cost["synth"]["seconds"], cost["train"]["qa"]["train_seconds"], cost["seconds"]
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import RagtuneError
from ragtune.evaluate.resources import PeakMemory, Stopwatch
from ragtune.progress import Progress
from ragtune.synth import files

if TYPE_CHECKING:
    from ragtune.project import Project


def modes_for(arms: Sequence[str]) -> list[str]:
    """The adapters ``arms`` need, in training order: ``["qa", "raft"]`` for all five arms."""
    from ragtune.registry import arms as registered

    return registered.adapters_for(arms)


def training_available() -> str | None:
    """``None`` if ``ragtune.synth`` and ``ragtune.tune`` can run here, else why not."""
    try:
        import ragtune.synth
        import ragtune.tune  # noqa: F401
    except ImportError as exc:
        return f"training is not available in this install ({exc}); install ragtune[train]"
    from importlib.util import find_spec

    missing = [name for name in ("torch", "peft", "trl") if find_spec(name) is None]
    if missing:
        return f"training needs {', '.join(missing)}: pip install 'ragtune[train]'"
    return None


def reload_generator(project: Project) -> None:
    """Forget the project's loaded generator so the next arm loads the current adapters."""
    project.reload_generator()


def synth_source(
    project: Project, update_dir: Path | None = None, qa_file: Path | None = None
) -> dict[str, Any]:
    """How to re-synthesize after an update: the same source as last time, with the
    updated folder's ``qa.jsonl`` when the source was a QA file that the update ships."""
    manifest_path = project.data_dir / files.MANIFEST
    manifest = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    )
    source = manifest.get("source") or "corpus"
    path = manifest.get("source_path")
    if (
        update_dir is not None
        and (update_dir / "qa.jsonl").is_file()
        and source in ("demo", "qa-file")
    ):
        path = str(update_dir / "qa.jsonl")
    if qa_file is not None and source in ("demo", "qa-file"):
        path = str(qa_file)
    return {
        "source": source,
        "path": path,
        "paraphrases": (manifest.get("settings") or {}).get("paraphrases"),
    }


def synthesize_training_data(
    project: Project, source: dict[str, Any], progress: Progress | None = None
) -> dict[str, Any]:
    """Run ``ragtune.synth.synthesize`` and return its measured cost."""
    from ragtune.synth import synthesize

    with Stopwatch() as watch, PeakMemory() as peak:
        manifest = synthesize(
            project,
            source=source["source"],
            path=source.get("path"),
            paraphrases=source.get("paraphrases"),
            progress=progress,
        )
    return {
        "seconds": watch.seconds,
        "cpu_seconds": watch.cpu_seconds,
        "peak_rss_bytes": peak.bytes,
        "counts": manifest.counts.to_dict(),
        "source": source,
    }


def train_adapter(
    project: Project, mode: str, progress: Progress | None = None, **overrides: Any
) -> dict[str, Any]:
    """Run ``ragtune.tune.train`` for ``mode`` and return its manifest's measured figures."""
    from ragtune.tune import train

    with Stopwatch() as watch:
        manifest = train(project, mode, progress=progress, **overrides)
    return {
        "seconds": watch.seconds,
        "train_seconds": manifest.train_seconds,
        "cpu_seconds": manifest.cpu_seconds,
        "tokens_seen": manifest.tokens_seen,
        "peak_rss_mb": manifest.peak_rss_mb,
        "steps": manifest.steps,
        "final_loss": manifest.final_loss,
        "examples": manifest.examples,
    }


def retrain(
    project: Project,
    modes: Sequence[str],
    update_dir: Path | None = None,
    progress: Progress | None = None,
    qa_file: Path | None = None,
) -> dict[str, Any]:
    """Re-synthesize and retrain ``modes`` after a document update; every figure measured.

    ``qa_file`` replaces the QA file the training data was synthesized from (the update's
    version of it); by default the update folder's ``qa.jsonl`` if it has one.
    """
    reason = training_available()
    if reason:
        raise RagtuneError(reason)
    progress = progress or Progress()
    started = time.perf_counter()
    source = synth_source(project, update_dir, qa_file)
    progress.log(f"Re-synthesizing training data ({source['source']})")
    out: dict[str, Any] = {
        "synth": synthesize_training_data(project, source, progress),
        "train": {},
    }
    for mode in modes:
        progress.log(f"Retraining the {mode!r} adapter")
        out["train"][mode] = train_adapter(project, mode, progress)
    reload_generator(project)
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out
