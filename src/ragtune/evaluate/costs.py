"""One-off costs, measured where they were paid: index build, synthesis, training.

Read from what each stage left behind, never re-estimated from settings::

    costs = one_off_costs(project)
    costs["index"]["seconds"], costs["train"]["qa"]["train_seconds"]

``ingest`` seconds are kept in ``.ragtune/runs/ingest-log.jsonl`` by :func:`log_ingest`
(the demo and the freshness run call it); when a project was indexed without it, the
build time is measured by re-embedding a sample of chunks and scaling up.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.synth import files
from ragtune.tune.manifest import MANIFEST_FILE as ADAPTER_MANIFEST

if TYPE_CHECKING:
    from ragtune.project import Project
    from ragtune.types import IngestReport

INGEST_LOG = "ingest-log.jsonl"
_TRAIN_FIELDS = (
    "train_seconds",
    "cpu_seconds",
    "tokens_seen",
    "peak_rss_mb",
    "steps",
    "final_loss",
    "examples",
    "epochs",
    "tokens_per_second",
    "method",
    "base_model",
    "created_at",
)


def log_ingest(
    project: Project, report: IngestReport, paths: list[str], purpose: str = "ingest"
) -> None:
    """Append one ingest's measured figures to the project's ingest log."""
    project.runs_dir.mkdir(parents=True, exist_ok=True)
    row = {
        "time": time.time(),
        "purpose": purpose,
        "paths": [str(p) for p in paths],
        **report.to_dict(),
    }
    row.pop("failures", None)
    with (project.runs_dir / INGEST_LOG).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def read_ingest_log(runs_dir: Path) -> list[dict[str, Any]]:
    path = runs_dir / INGEST_LOG
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _full_build(log: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last ingest that embedded the whole corpus (the first build, or a re-index)."""
    builds = [
        r for r in log if r.get("purpose") in ("build", "ingest") and r.get("chunks_embedded")
    ]
    return builds[-1] if builds else None


def sample_index_seconds(project: Project, sample: int = 32) -> float | None:
    """Seconds to embed every chunk, scaled up from timing ``sample`` of them."""
    chunks = []
    for chunk in project.store.iter_chunks():
        chunks.append(chunk.text)
        if len(chunks) >= sample:
            break
    total = project.store.stats().get("chunks", 0)
    if not chunks or not total:
        return None
    started = time.perf_counter()
    project.embedder.embed(chunks)
    return round((time.perf_counter() - started) * total / len(chunks), 3)


def index_costs(project: Project, measure_if_unknown: bool = True) -> dict[str, Any]:
    stats = project.store.stats() if project.has_index() else {}
    out: dict[str, Any] = {
        "documents": stats.get("documents"),
        "chunks": stats.get("chunks"),
        "bytes": stats.get("bytes"),
        "seconds": None,
        "how": None,
    }
    build = _full_build(read_ingest_log(project.runs_dir))
    if build is not None:
        out.update(
            seconds=build["seconds"], chunks_embedded=build["chunks_embedded"], how="ingest log"
        )
    elif measure_if_unknown and stats.get("chunks"):
        out.update(
            seconds=sample_index_seconds(project),
            how="re-embedded a sample of chunks and scaled up",
        )
    return out


def synth_costs(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / files.MANIFEST
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return {
        "seconds": manifest.get("seconds"),
        "source": manifest.get("source"),
        "counts": manifest.get("counts", {}),
        "generator": manifest.get("generator"),
        "created_at": manifest.get("created_at"),
    }


def train_costs(adapters_dir: Path) -> dict[str, Any]:
    """``{mode: figures}`` from each adapter's ``ragtune_manifest.json``."""
    out: dict[str, Any] = {}
    if not adapters_dir.is_dir():
        return out
    for folder in sorted(p for p in adapters_dir.iterdir() if p.is_dir()):
        path = folder / ADAPTER_MANIFEST
        if path.is_file():
            manifest = json.loads(path.read_text(encoding="utf-8"))
            out[folder.name] = {k: manifest.get(k) for k in _TRAIN_FIELDS}
    return out


def one_off_costs(project: Project, measure_if_unknown: bool = True) -> dict[str, Any]:
    """Index, synthesis and training costs of ``project`` as measured when they ran."""
    return {
        "index": index_costs(project, measure_if_unknown),
        "synth": synth_costs(project.data_dir),
        "train": train_costs(project.adapters_dir),
    }
