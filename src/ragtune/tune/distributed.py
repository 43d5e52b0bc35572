"""Training under ``accelerate launch`` / ``torchrun``: which process this is, how many
threads it may use, and what the processes agree on.

One process (plain ``ragtune tune``) is the world of size 1, so every function here is
also correct without a launcher::

    world = World.from_env()                  # rank 0 of 1 without a launcher
    if world.is_main:
        manifest.write(folder)                # only rank 0 writes
    die_with_launcher()                       # a SIGKILLed launcher takes its workers along
    combined = gather_objects({"cpu_seconds": 12.5})   # one entry per process, every rank

Importing this module does not import torch; :func:`gather_objects` uses it once loaded.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any

from ragtune.errors import ConfigError
from ragtune.machine import cpu_threads

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (from the launcher's variables)."""

    rank: int = 0
    local_rank: int = 0
    size: int = 1
    local_size: int = 1

    @classmethod
    def from_env(cls) -> World:
        """Read ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE`` (torchrun's names)."""

        def number(name: str, default: int) -> int:
            return int(os.environ.get(name, "") or default)

        size = number("WORLD_SIZE", 1)
        return cls(
            rank=number("RANK", 0),
            local_rank=number("LOCAL_RANK", 0),
            size=size,
            local_size=number("LOCAL_WORLD_SIZE", size),
        )

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the adapter, manifest and progress."""
        return self.rank == 0

    @property
    def launched(self) -> bool:
        """Started by a launcher (``torchrun`` sets ``LOCAL_RANK``), even with one process."""
        return "LOCAL_RANK" in os.environ

    def threads_per_process(self, cores: int | None = None) -> int:
        """This machine's threads (:func:`ragtune.machine.cpu_threads`: RAGTUNE_THREADS,
        OMP_NUM_THREADS or every core) shared among the processes on it: 2 processes on a
        2-core machine get 1 thread each instead of 2 each fighting over the same cores."""
        cores = cores or cpu_threads()
        return max(1, cores // max(1, self.local_size))


def die_with_launcher() -> None:
    """Have the kernel SIGKILL this process when its launcher dies (Linux).

    torchrun starts each worker in a session of its own, so a launcher killed with
    SIGKILL (the OOM killer, ``kill -9``) used to leave its workers training on as
    orphans, racing the next ``--resume`` for the same checkpoints. Does nothing outside
    a launcher or off Linux.
    """
    if "LOCAL_RANK" not in os.environ or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return
    if os.getppid() == 1:  # the launcher died before the line above took effect
        os.kill(os.getpid(), signal.SIGKILL)


def gather_objects(value: Any) -> list[Any]:
    """``value`` from every process, in rank order; ``[value]`` in a single process.

    A collective: every rank must call it at the same point, or the ones that did wait.
    """
    torch = sys.modules.get("torch")
    dist = getattr(torch, "distributed", None) if torch is not None else None
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return [value]
    if dist.get_world_size() == 1:
        return [value]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, value)
    return out


def require_agreement(value: Any, what: str, hint: str) -> None:
    """Raise ``ConfigError`` on every rank unless all processes hold the same ``value``
    (a collective). Catches a split decision before it becomes a hang in the first
    all-reduce: ``require_agreement(checkpoint, "where to resume from", "...")``."""
    values = gather_objects(value)
    if any(v != values[0] for v in values[1:]):
        seen = ", ".join(f"rank {rank}: {v}" for rank, v in enumerate(values))
        raise ConfigError(f"the training processes disagree on {what} ({seen}); {hint}")


def distributed_type(accelerator: Any) -> str:
    """accelerate's name for how the processes train: NO, MULTI_CPU, MULTI_GPU, FSDP, ..."""
    return str(accelerator.distributed_type).split(".")[-1]


def downgrade_note(requested_fsdp: bool, distributed_type: str) -> str | None:
    """What to tell the user when the launcher asked for FSDP and accelerate runs
    something else (on CPU it runs the processes as plain data parallel, MULTI_CPU)."""
    if not requested_fsdp or distributed_type == "FSDP":
        return None
    return (
        f"the launcher asked for FSDP, but accelerate runs these processes as "
        f"{distributed_type} (on the CPU: plain data parallel): each holds the whole model"
    )
