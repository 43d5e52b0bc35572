"""What a fine-tuning run leaves beside its adapter: ``ragtune_manifest.json``.

Every cost in it is measured on the run, not estimated: wall and CPU seconds, input
tokens, peak resident memory. Reading manifests never imports torch::

    >>> from ragtune.tune.manifest import list_adapters
    >>> [(m.mode, m.steps, m.final_loss) for m in list_adapters(project.adapters_dir)]  # doctest: +SKIP
    [('qa', 57, 0.41), ('raft', 57, 0.73)]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_FILE = "ragtune_manifest.json"
CHECKPOINTS_DIR = ".checkpoints"


@dataclass
class AdapterManifest:
    """One trained adapter (or merged model): how it was made and what it cost.

    ``sessions`` has one entry per process that trained it (two after a ``--resume``),
    with the steps it ran and its own seconds; the totals add them up. Figures left at
    zero were not measured (an adapter copied in by hand, a non-main training rank).
    """

    mode: str
    method: str
    base_model: str
    path: str
    steps: int = 0
    epochs: float = 0.0
    examples: int = 0
    tokens_seen: int = 0
    train_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    final_loss: float | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    loss_history: list[list[float]] = field(default_factory=list)
    peak_gpu_mb: float | None = None
    tokens_per_second: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    merged_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdapterManifest:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})

    def write(self, folder: Path) -> Path:
        path = folder / MANIFEST_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return path


def read_manifest(folder: Path | str) -> AdapterManifest | None:
    """The manifest in an adapter folder, or ``None`` if it has none."""
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        return None
    return AdapterManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))


def list_adapters(adapters_dir: Path | str) -> list[AdapterManifest]:
    """Manifests of every adapter folder under ``adapters_dir`` (sorted by name).

    Folders with an ``adapter_config.json`` but no manifest (copied in by hand) are
    listed with what can be read from the PEFT config.
    """
    root = Path(adapters_dir)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        manifest = read_manifest(folder)
        if manifest is not None:
            out.append(manifest)
        elif (folder / "adapter_config.json").is_file():
            peft_config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
            out.append(
                AdapterManifest(
                    mode=folder.name,
                    method=str(peft_config.get("peft_type", "?")).lower(),
                    base_model=str(peft_config.get("base_model_name_or_path", "")),
                    path=str(folder),
                )
            )
    return out
