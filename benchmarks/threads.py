"""How many intra-op threads should ragtune use on a CPU that other work may share?

Runs three workloads with the default models — generation (8 RAG-sized prompts answered
as one batch, greedy, 16 new tokens), embedding (256 passages of ~120 words) and LoRA
training (``ragtune.tune.fit``, 6 steps of batch 4) — at 1 thread, at every core's worth
of threads, and at every core with OpenMP told not to spin while it waits
(``OMP_WAIT_POLICY=PASSIVE``; spinning threads waiting on a preempted peer are the known
cause of the collapse under contention), on a quiet machine and again beside a CPU hog
(one ``while 1: pass`` process per core). Each measurement runs in a fresh process (``--worker``), so torch's thread pool
is the one asked for; the order is interleaved and the best of ``--repeats`` kept.
Writes ``benchmarks/results/threads.json`` with wall and CPU seconds per cell, the load
average around each, and the ratios that decide the default::

    .venv/bin/python benchmarks/threads.py [--repeats 2] [--only gen,embed,train]

The quiet cells need a quiet machine: check ``uptime`` first; the load is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "threads.json"
WORKLOADS = ("gen", "embed", "train")
PASSAGE = (
    "The scheduler assigns each job to the least loaded worker, retries a failed job up "
    "to three times with exponential backoff, and records every attempt in the audit log. "
)


def _gen() -> dict[str, Any]:
    from ragtune.llm import ChatMessage, GenerationParams
    from ragtune.llm.transformers import TransformersGenerator

    llm = TransformersGenerator("default", max_new_tokens=16)
    prompts = [
        [ChatMessage("user", PASSAGE * 8 + f"\nQuestion {i}: how many retries does a job get?")]
        for i in range(8)
    ]
    llm.generate(prompts[:2], GenerationParams(4))  # warm-up: first-call allocations
    started, cpu = time.perf_counter(), time.process_time()
    llm.generate(prompts, GenerationParams(16))
    return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def _embed() -> dict[str, Any]:
    from ragtune.config import EmbedConfig
    from ragtune.embed import create_embedder

    embedder = create_embedder(EmbedConfig())
    texts = [f"{i}: " + PASSAGE * 4 for i in range(256)]
    embedder.embed(texts[:16])
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed(texts)
    return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def _train() -> dict[str, Any]:
    import tempfile

    from ragtune.config import TuneConfig
    from ragtune.tune import TrainingData, fit
    from ragtune.types import QAExample

    rows = [
        QAExample(id=f"q{i}", question=f"What is the retry limit of queue {i}?", answers=[str(i)])
        for i in range(32)
    ]
    with tempfile.TemporaryDirectory() as folder:
        started, cpu = time.perf_counter(), time.process_time()
        manifest = fit(
            TrainingData.from_examples(rows),
            "default",
            TuneConfig(batch_size=4, gradient_accumulation_steps=1, logging_steps=100),
            Path(folder),
            max_steps=6,
        )
        return {
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
            "train_s": manifest.train_seconds,
        }


def worker(workload: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    result = {"_gen": _gen, "_embed": _embed, "_train": _train}[f"_{workload}"]()
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result))


@contextmanager
def cpu_hog(processes: int):  # type: ignore[no-untyped-def]
    hogs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(processes)]
    try:
        time.sleep(2)
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def measure(workload: str, threads: int, passive: bool = False) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    if passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    before = os.getloadavg()[0]
    out = subprocess.run(
        [sys.executable, __file__, "--worker", workload, "--threads", str(threads)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["load_before"], result["load_after"] = round(before, 2), round(os.getloadavg()[0], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=WORKLOADS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.threads)
        return
    cores = os.cpu_count() or 1
    settings = [(1, False), (cores, False), (cores, True)]
    workloads = [w for w in args.only.split(",") if w]
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for hog in (False, True):
        for _ in range(args.repeats):
            for workload in workloads:
                for threads, passive in settings:
                    wait = " passive" if passive else ""
                    key = f"{workload} threads={threads}{wait} hog={'on' if hog else 'off'}"
                    if hog:
                        with cpu_hog(cores):
                            cell = measure(workload, threads, passive)
                    else:
                        cell = measure(workload, threads, passive)
                    cells.setdefault(workload, {}).setdefault(key, []).append(cell)
                    print(
                        f"{key}: {cell['wall_s']:.2f} s wall, {cell['cpu_s']:.2f} s CPU", flush=True
                    )
    best = {
        key: min(runs, key=lambda r: r["wall_s"])
        for by_key in cells.values()
        for key, runs in by_key.items()
    }
    ratios = {}
    for workload in workloads:
        for hog in ("off", "on"):
            one = best[f"{workload} threads=1 hog={hog}"]
            for wait in ("", " passive"):
                many = best[f"{workload} threads={cores}{wait} hog={hog}"]
                # > 1: the many-thread run is faster; < 1: one thread wins.
                name = f"{workload} hog={hog}: wall(1 thread) / wall({cores} threads{wait})"
                ratios[name] = round(one["wall_s"] / many["wall_s"], 2)
    out = {"cores": cores, "repeats": args.repeats, "best": best, "runs": cells, "ratios": ratios}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2))
    print(json.dumps(ratios, indent=2))


if __name__ == "__main__":
    main()
