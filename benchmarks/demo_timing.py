"""Time the demo end to end and keep the figures and a screenshot of its report.

    python benchmarks/demo_timing.py [--quick] [--no-train] [--dir /tmp/demo-bench]

Writes ``benchmarks/results/demo[-quick].json`` (per-stage seconds, load average before
and after, machine, per-arm accuracy and freshness from the run files) and
``benchmarks/results/demo[-quick]_report.png`` (headless Chromium, if installed).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ragtune-demo-bench"))
    args = parser.parse_args()

    from ragtune.demo.runner import DemoPlan, run_demo
    from ragtune.evaluate.records import (
        load_eval_run,
        load_freshness_run,
        machine_info,
        package_versions,
    )

    plan = DemoPlan.quick() if args.quick else DemoPlan.full()
    plan.train = not args.no_train
    load_before = os.getloadavg()
    started = time.perf_counter()
    result = run_demo(args.dir, plan, say=lambda m: print(m, flush=True))
    wall = time.perf_counter() - started
    eval_run = load_eval_run(result.eval_run) if result.eval_run else None
    fresh = load_freshness_run(result.freshness_run) if result.freshness_run else None
    name = "demo" + ("-quick" if args.quick else "") + ("-no-train" if args.no_train else "")
    figures = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_seconds": round(wall, 1),
        "stages": result.stages,
        "skipped": result.skipped,
        "plan": plan.__dict__,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "machine": machine_info(),
        "versions": package_versions(),
        "recommendation": result.recommendation,
        "accuracy": {
            a: s.accuracy["contains"].model_dump()
            for a, s in (eval_run.arms if eval_run else {}).items()
            if s.ok and "contains" in s.accuracy
        },
        "seeds": {
            a: s.seeds.model_dump()
            for a, s in (eval_run.arms if eval_run else {}).items()
            if s.ok and s.seeds is not None
        },
        "by_split": {
            a: {k: v["contains"].mean for k, v in s.by_split.items() if "contains" in v}
            for a, s in (eval_run.arms if eval_run else {}).items()
            if s.ok
        },
        "speed_load": {
            a: s.speed.load.model_dump()
            for a, s in (eval_run.arms if eval_run else {}).items()
            if s.ok
        },
        "freshness": {
            a: {
                "after_update": s.after_update,
                "final": s.final,
                "time_to_fresh": s.time_to_fresh.model_dump(),
                "phases": {
                    p: {
                        k: v["mean"]
                        for k, v in ph.model_dump().items()
                        if isinstance(v, dict) and "mean" in v
                    }
                    for p, ph in s.phases.items()
                },
            }
            for a, s in (fresh.arms if fresh else {}).items()
            if s.ok
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    from ragtune.report.screenshot import screenshot

    if result.report_html and screenshot(
        result.report_html, RESULTS / f"{name}_report.png", height=6000
    ):
        print(f"screenshot: {RESULTS / f'{name}_report.png'}")
    print(f"{name}: {wall / 60:.1f} min; results in {RESULTS / f'{name}.json'}")


if __name__ == "__main__":
    main()
