"""Run the benchmarks one after another (``make bench``), never two at once.

Each script runs in its own process on an otherwise quiet machine (two cores are easily
oversubscribed, and a benchmark beside another measures the contention); the load
average before and after each is recorded with its wall time in
``benchmarks/results/run_all.json``. Each script writes its own figures under
``benchmarks/results/``::

    .venv/bin/python benchmarks/run_all.py                 # the default set (~30 min)
    .venv/bin/python benchmarks/run_all.py threads ingest_soak
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
# The scripts that need nothing but the installed package and its default models; the
# demo, the real-corpus comparison and the serve benchmarks have their own entries in
# benchmarks/README.md (they take longer or start servers).
DEFAULT = (
    "knowledge_base",
    "generate_throughput",
    "train_throughput",
    "threads",
    "ingest_soak",
    "synth_quality",
)


def main(names: list[str]) -> int:
    runs = []
    failed = 0
    for name in names or DEFAULT:
        script = HERE / f"{name}.py"
        if not script.is_file():
            print(f"{script}: no such benchmark", file=sys.stderr)
            return 2
        before = os.getloadavg()[0]
        started = time.perf_counter()
        print(f"== {name} (load {before:.2f})", flush=True)
        code = subprocess.call([sys.executable, str(script)])
        runs.append(
            {
                "benchmark": name,
                "returncode": code,
                "wall_s": round(time.perf_counter() - started, 1),
                "load_before": round(before, 2),
                "load_after": round(os.getloadavg()[0], 2),
            }
        )
        failed += code != 0
    (HERE / "results" / "run_all.json").write_text(json.dumps(runs, indent=2))
    print(json.dumps(runs, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
