"""What a measured figure was measured on: installed versions and the machine.

Run files (``ragtune.evaluate.records``) and adapter manifests (``ragtune.tune``) both
record these, from here, so the two never describe a machine differently::

    >>> from ragtune.machine import machine_info, package_versions
    >>> sorted(machine_info())
    ['cpu', 'cpu_count', 'gpu', 'memory_bytes', 'platform']
    >>> package_versions(("ragtune", "no-such-package"))  # doctest: +SKIP
    {'python': '3.11.9', 'ragtune': '0.4.0', 'no-such-package': None}

Reading them never imports torch: the GPU is named only if torch is already loaded.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["RUN_PACKAGES", "LoadMeter", "load_average", "machine_info", "package_versions"]

#: The packages whose versions an evaluation run records.
RUN_PACKAGES = (
    "ragtune",
    "torch",
    "transformers",
    "peft",
    "trl",
    "sentence-transformers",
    "numpy",
    "faiss-cpu",
)


def package_versions(names: tuple[str, ...] = RUN_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` plus ``"python"`` (``None`` for a missing package)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: OS, CPU, cores, memory, GPU if torch sees one."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "gpu": None,
    }
    torch = sys.modules.get("torch")  # only if already loaded: reading it must not import it
    if torch is not None and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def cpu_threads() -> int:
    """The intra-op threads ragtune's models use on CPU: ``RAGTUNE_THREADS``, else
    ``OMP_NUM_THREADS``, else every core. A fixed count, never chosen from the load at
    start-up: threads change how a GEMM splits its sums, so a count read from the load
    would let the load change the numbers (``benchmarks/threads.py`` measures 1 against
    every core, with and without other work on the machine)."""
    for name in ("RAGTUNE_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                raise ValueError(f"{name}={value!r}: expected a whole number of threads") from None
    return os.cpu_count() or 1


def load_average() -> float | None:
    """The 1-minute load average (runnable processes, ours included); ``None`` where the
    OS does not tell."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


class LoadMeter:
    """The machine's load while something is measured: sampled at the start, at each
    :meth:`sample` call and at the end, so a figure taken on a busy machine says so::

        meter = LoadMeter()
        for batch in batches:
            ...
            meter.sample()
        meter.to_dict()   # {"before": 0.4, "max": 2.1, "after": 2.0, "cores": 2, "threads": 2}
    """

    def __init__(self) -> None:
        self.before = load_average()
        self.samples = [self.before] if self.before is not None else []

    def sample(self) -> None:
        value = load_average()
        if value is not None:
            self.samples.append(value)

    def to_dict(self) -> dict[str, Any]:
        self.sample()
        torch = sys.modules.get("torch")
        return {
            "before": self.before,
            "max": max(self.samples) if self.samples else None,
            "after": self.samples[-1] if self.samples else None,
            "cores": os.cpu_count(),
            "threads": torch.get_num_threads() if torch is not None else None,
        }
