"""Merge a LoRA adapter into its base model: a plain HF folder any server can load.

    >>> from ragtune.tune.merge import merge_adapter
    >>> merge_adapter(project, "qa")               # doctest: +SKIP
    PosixPath('.ragtune/adapters/qa-merged')

The merged folder holds ``config.json``, ``model.safetensors``, the tokenizer and a copy
of the adapter's ``ragtune_manifest.json`` (with ``merged_path`` set). It has no
``adapter_config.json``, so the arms do not mistake it for an adapter.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ragtune._compat import quiet_upstream_deprecations
from ragtune._lazy import require
from ragtune.errors import RagtuneError
from ragtune.tune.manifest import read_manifest

if TYPE_CHECKING:
    from ragtune.project import Project


def merge_adapter(project: Project, mode: str = "qa", out: Path | str | None = None) -> Path:
    """Write ``base + adapter`` for ``mode`` as one model folder; returns its path."""
    adapter = project.adapters_dir / mode
    manifest = read_manifest(adapter)
    if not (adapter / "adapter_config.json").is_file():
        if manifest is not None and manifest.method == "full":
            return adapter  # full fine-tuning already wrote a whole model
        raise RagtuneError(f"no adapter at {adapter}; run: ragtune tune --mode {mode}")
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    peft = require("peft", "train")
    from ragtune.llm.gguf import resolve_model_path

    base = manifest.base_model if manifest else resolve_model_path(project.config.llm.model)
    target = Path(out) if out else project.adapters_dir / f"{mode}-merged"
    model = transformers.AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    with quiet_upstream_deprecations():
        merged = peft.PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    tmp.chmod(0o755)
    merged.save_pretrained(tmp)
    transformers.AutoTokenizer.from_pretrained(
        adapter if (adapter / "tokenizer_config.json").is_file() else base
    ).save_pretrained(tmp)
    if manifest is not None:
        manifest.merged_path = str(target)
        manifest.write(tmp)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target
