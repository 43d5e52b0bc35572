"""Which dtype a local model runs in, decided from what the hardware can do, never from timing.

``llm.dtype = "auto"`` means: bfloat16 on a GPU that supports it (float16 otherwise);
on a CPU, bfloat16 where the CPU has bf16 matrix instructions (AMX-BF16 or AVX512-BF16),
else float32, where bf16 is emulated and slower. The choice and its reason are returned
together, so a run file can say what was chosen and why::

    from ragtune.llm.dtype import choose_dtype

    choice = choose_dtype("auto", "cpu")
    choice.dtype, choice.reason  # ('bfloat16', 'auto: the CPU has AVX512-BF16 (avx512_bf16)')

An earlier version timed a bf16 GEMM against fp32 at start-up, so a busy machine picked
fp32 and a quiet one bf16 for the same code: the same question got a different answer.
CPU flags do not change with the machine's load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ragtune._lazy import require
from ragtune.errors import ConfigError

DTYPES = ("auto", "bfloat16", "float32", "float16")
# /proc/cpuinfo flag -> what it is; the first one present decides.
BF16_FLAGS = {"amx_bf16": "AMX-BF16", "avx512_bf16": "AVX512-BF16"}
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class DtypeChoice:
    """A dtype name (``"bfloat16"``, ``"float32"``, ``"float16"``) and why it was chosen."""

    dtype: str
    reason: str

    def torch_dtype(self) -> object:
        """The ``torch.dtype`` for :attr:`dtype`."""
        return getattr(require("torch", "rag"), self.dtype)


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str] | None:
    """The CPU feature flags from ``/proc/cpuinfo`` (x86 ``flags`` lines), or ``None``
    where that file is missing, unreadable or has no flags (macOS, Windows, ARM)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            flags.update(value.split())
    return frozenset(flags) if flags else None


def _torch_cpu_probe(name: str) -> Callable[[], bool] | None:
    # torch.cpu._is_*_supported read CPUID through cpuinfo; private, so looked up softly.
    torch = require("torch", "rag")
    probe = getattr(getattr(torch, "cpu", None), name, None)
    return probe if callable(probe) else None


def cpu_bf16_reason(flags: frozenset[str] | None = None) -> str | None:
    """Why this CPU runs bf16 matrix multiplies natively, or ``None`` if it does not.

    ``flags`` defaults to :func:`cpu_flags`; where ``/proc/cpuinfo`` is unavailable,
    torch's own CPUID probes decide.

    >>> cpu_bf16_reason(frozenset({"avx2", "avx512_bf16"}))
    'the CPU has AVX512-BF16 (avx512_bf16)'
    >>> cpu_bf16_reason(frozenset({"avx2"})) is None
    True
    """
    flags = cpu_flags() if flags is None else flags
    if flags is not None:
        for flag, feature in BF16_FLAGS.items():
            if flag in flags:
                return f"the CPU has {feature} ({flag})"
        return None
    for probe_name, feature in (
        ("_is_amx_tile_supported", "AMX"),
        ("_is_avx512_bf16_supported", "AVX512-BF16"),
    ):
        probe = _torch_cpu_probe(probe_name)
        if probe is not None and probe():
            return f"the CPU has {feature} (torch.cpu.{probe_name})"
    return None


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU has bf16 matrix instructions (AMX-BF16 or AVX512-BF16)."""
    return cpu_bf16_reason() is not None


def choose_dtype(setting: str, device: str) -> DtypeChoice:
    """The dtype for ``llm.dtype = setting`` on ``device`` ("cpu", "cuda", "cuda:1", ...).

    >>> choose_dtype("float32", "cpu")
    DtypeChoice(dtype='float32', reason='configured: llm.dtype = "float32"')
    """
    if setting not in DTYPES:
        raise ConfigError(f"llm.dtype must be one of {', '.join(DTYPES)} (got {setting!r})")
    if setting != "auto":
        return DtypeChoice(setting, f'configured: llm.dtype = "{setting}"')
    if device.startswith("cuda"):
        torch = require("torch", "rag")
        if torch.cuda.is_bf16_supported():
            return DtypeChoice("bfloat16", "auto: the GPU supports bfloat16")
        return DtypeChoice("float16", "auto: the GPU does not support bfloat16")
    reason = cpu_bf16_reason()
    if reason is not None:
        return DtypeChoice("bfloat16", f"auto: {reason}")
    return DtypeChoice(
        "float32", "auto: the CPU has neither AMX-BF16 nor AVX512-BF16, so bf16 would be emulated"
    )
