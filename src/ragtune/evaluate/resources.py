"""Measured compute: peak resident memory of this process while a block runs.

    with PeakMemory() as peak:
        system.answer_batch(questions)
    peak.bytes   # the highest RSS seen during the block (sampled every 20 ms)

The process-wide high-water mark (``ru_maxrss``) never goes down, so it cannot tell
the second arm from the first; a sampling thread can.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_bytes() -> int:
    """This process's resident set size now (Linux ``/proc``; else the peak so far)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return max_rss_bytes()


def max_rss_bytes() -> int:
    """The process's peak RSS since it started (``ru_maxrss``; KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def cpu_seconds() -> float:
    """User + system CPU seconds this process has used (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class PeakMemory:
    """Context manager sampling RSS in a background thread; ``bytes`` is the peak seen."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        self.bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.bytes = max(self.bytes, current_rss_bytes())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakMemory:
        self.bytes = current_rss_bytes()
        self._thread = threading.Thread(target=self._sample, name="ragtune-peak-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.bytes = max(self.bytes, current_rss_bytes())


class Stopwatch:
    """Wall and CPU seconds of a block: ``with Stopwatch() as sw: ...; sw.seconds, sw.cpu_seconds``."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), cpu_seconds()
        self.seconds = self.cpu_seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = round(time.perf_counter() - self._wall, 3)
        self.cpu_seconds = round(cpu_seconds() - self._cpu, 3)
