"""Stage records of ``ragtune compare``: what each stage produced, under which key.

Like ``dvc repro``: a stage's *key* hashes everything its output depends on (input
files, the index's content, config sections, the upstream stages' keys). A stage whose
recorded key matches — and whose outputs are still on disk — is not run again. A record
is written atomically only after its stage finished, so a run killed at any point
resumes at the first stage without a current record::

    cache = StageCache(project.state_dir / "stages")
    record = cache.current("questions", key)       # None: run it
    cache.save("questions", key, {"train": 120}, seconds=3.2)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able ``parts`` (dicts hashed with sorted keys)."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_fingerprint(path: Path) -> str:
    """The hash of a file's bytes (``"missing"`` when there is no such file)."""
    if not path.is_file():
        return "missing"
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@dataclass
class StageRecord:
    """One finished stage: its key, what it produced (paths, counts), how long it took."""

    stage: str
    key: str
    output: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    finished: float = 0.0


class StageCache:
    """The records of one project's stages, one JSON file each under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, stage: str) -> Path:
        return self.folder / f"{stage.replace(' ', '-')}.json"

    def load(self, stage: str) -> StageRecord | None:
        """The stage's last record; ``None`` if it never finished or its file is unreadable."""
        try:
            data = json.loads(self._path(stage).read_text(encoding="utf-8"))
            return StageRecord(**data)
        except (OSError, ValueError, TypeError):
            return None

    def current(self, stage: str, key: str) -> StageRecord | None:
        """The record of ``stage`` if it finished with this ``key``, else ``None``."""
        record = self.load(stage)
        return record if record is not None and record.key == key else None

    def save(self, stage: str, key: str, output: dict[str, Any], seconds: float) -> StageRecord:
        record = StageRecord(stage, key, output, round(seconds, 3), time.time())
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(stage)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(record), indent=1, default=str), encoding="utf-8")
        os.replace(tmp, path)
        return record

    def invalidate(self, stages: Iterable[str]) -> None:
        """Forget ``stages`` so the next run redoes them (``--from STAGE``)."""
        for stage in stages:
            self._path(stage).unlink(missing_ok=True)
