"""Ingest soak: 1,000 random add/modify/delete/rename operations, `ingest --mirror` after
each round, real SIGKILLs (at writes, deletes, a re-index's sibling writes and its folder
swap) and chunk-size changes (re-indexes), then a comparison with a clean ingest of the
final folder: documents, chunk texts, vector bytes, top-5 hybrid hits of 20 queries.

    .venv/bin/python benchmarks/ingest_soak.py                 # full: 1000 ops, 10 kills
    .venv/bin/python benchmarks/ingest_soak.py --operations 100 --kills 2

Target: 0 differences. Writes benchmarks/results/ingest_soak.json; benchmarks/README.md
keeps the last figures. The engine is ``tests/index/soak.py`` (its short version runs in
the default tests, the full one under ``-m slow``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from tests.index.soak import run_soak

    from ragtune.machine import machine_info, package_versions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/ingest_soak.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragtune-soak-") as workdir:
        result = run_soak(
            Path(workdir) / "soak",
            operations=args.operations,
            kills=args.kills,
            seed=args.seed,
            per_round=args.per_round,
        )
    record = {
        "benchmark": "ingest_soak",
        "config": vars(args) | {"out": str(args.out.relative_to(REPO))},
        "result": dataclasses.asdict(result),
        "machine": machine_info(),
        "load_average": os.getloadavg(),
        "versions": package_versions(("ragtune", "numpy", "faiss-cpu")),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["result"], indent=2))
    sys.exit(1 if result.differences else 0)


if __name__ == "__main__":
    main()
