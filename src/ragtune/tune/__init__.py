"""Fine-tuning on TRL + PEFT: the adapters behind the ``ft``, ``ft+rag`` and ``raft`` arms.

Modes: ``qa`` (closed-book QA pairs, the ``ft`` and ``ft+rag`` arms), ``raft`` (question +
oracle + distractors → cited answer, the ``raft`` arm), ``continued`` (the documents'
raw text). LoRA by default, full fine-tuning with ``method="full"``::

    from ragtune import Project
    from ragtune.progress import RichProgress
    from ragtune.tune import list_adapters, merge_adapter, train

    project = Project.open("acme-kb")
    with RichProgress() as progress:
        manifest = train(project, "qa", progress=progress, epochs=3)   # AdapterManifest
    manifest.steps, manifest.tokens_seen, manifest.train_seconds, manifest.peak_rss_mb
    train(project, "qa", resume=True)          # continue a killed run from its checkpoint
    merge_adapter(project, "qa")               # a merged HF model folder beside the adapter
    [m.mode for m in list_adapters(project.adapters_dir)]

Importing this package does not import torch; ``train`` does.
"""

from __future__ import annotations

from typing import Any

from ragtune.tune.data import TrainingData
from ragtune.tune.manifest import AdapterManifest, list_adapters, read_manifest

__all__ = [
    "AdapterManifest",
    "TrainingData",
    "fit",
    "list_adapters",
    "merge_adapter",
    "read_manifest",
    "train",
]


def train(*args: Any, **kwargs: Any) -> AdapterManifest:
    """See :func:`ragtune.tune.trainer.train`."""
    from ragtune.tune.trainer import train as _train

    return _train(*args, **kwargs)


def fit(*args: Any, **kwargs: Any) -> AdapterManifest:
    """See :func:`ragtune.tune.trainer.fit`: training from typed inputs, no project."""
    from ragtune.tune.trainer import fit as _fit

    return _fit(*args, **kwargs)


def merge_adapter(*args: Any, **kwargs: Any) -> Any:
    """See :func:`ragtune.tune.merge.merge_adapter`."""
    from ragtune.tune.merge import merge_adapter as _merge

    return _merge(*args, **kwargs)
