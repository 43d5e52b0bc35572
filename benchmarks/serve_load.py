"""Serving load benchmark: 64 concurrent chat requests, batched server vs one-at-a-time.

    .venv/bin/python benchmarks/serve_load.py                  # real default model, rag arm (~5-15 min)
    .venv/bin/python benchmarks/serve_load.py --requests 16    # quicker
    .venv/bin/python benchmarks/serve_load.py --scripted       # no model: checks the script itself

Both servers run the same project, the same loaded model (SmolLM2-135M-Instruct, the
``rag`` arm over the demo corpus, ``max_tokens`` 16) on a free loopback port, in this
process, one after the other; the only difference is ``serve.max_batch`` (32 vs 1). Each
gets a warm-up request, then all requests at once, each from its own connection through
the real HTTP stack, and the clock runs until the last answer arrives.

Targets: no errors; batched throughput >= 4x the one-at-a-time server's.
Writes benchmarks/results/serve_load.json and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx

from ragtune.demo import load_qa, write_demo_corpus
from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer

RESULTS = Path(__file__).parent / "results" / "serve_load.json"
KEY = "serve-load-benchmark"
SCRIPTED = {
    "embed": {"backend": "hash"},
    "corpus": {"tokenizer": "words"},
    "llm": {"backend": "scripted"},
}


def build_project(
    work: Path, scripted: bool, max_new_tokens: int, llm_batch: int
) -> tuple[Project, list[str]]:
    """The demo corpus (version 1, seed 0) ingested into a fresh project; its questions."""
    info = write_demo_corpus(work / "demo", version=1, seed=0)
    overrides: dict[str, Any] = dict(SCRIPTED) if scripted else {}
    overrides["llm"] = {
        **overrides.get("llm", {}),
        "max_new_tokens": max_new_tokens,
        "batch_size": llm_batch,
    }
    project = Project.init(work / "proj", overrides)
    started = time.perf_counter()
    report = project.ingest([info.docs_dir])
    print(
        f"ingested {report.added} documents ({report.chunks_embedded} chunks) in {time.perf_counter() - started:.1f} s"
    )
    # One question per fact, so prompts differ as they would across real users.
    seen: set[str] = set()
    questions = []
    for row in load_qa(info.out / "qa.jsonl"):
        if row.fact_id not in seen:
            seen.add(row.fact_id)
            questions.append(row.question)
    return project, questions


async def fire(
    url: str, arm: str, questions: list[str], max_tokens: int, timeout_s: float
) -> dict[str, Any]:
    """All questions at once, one connection each; wall time until the last answer."""
    limits = httpx.Limits(
        max_connections=len(questions) + 4, max_keepalive_connections=len(questions) + 4
    )
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, limits=limits, timeout=timeout_s
    ) as client:

        async def one(question: str) -> tuple[float, dict[str, Any] | str]:
            started = time.perf_counter()
            try:
                response = await client.post(
                    "/v1/chat/completions",
                    json={
                        "model": arm,
                        "max_tokens": max_tokens,
                        "messages": [{"role": "user", "content": question}],
                    },
                )
            except httpx.HTTPError as exc:
                return time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            if response.status_code != 200:
                return seconds, f"HTTP {response.status_code}: {response.text[:200]}"
            body: dict[str, Any] = response.json()
            if not body["choices"][0]["message"]["content"].strip():
                return seconds, "empty answer"
            return seconds, body

        started = time.perf_counter()
        results = await asyncio.gather(*(one(q) for q in questions))
        wall = time.perf_counter() - started
    latencies = sorted(s for s, _ in results)
    bodies = [b for _, b in results if isinstance(b, dict)]
    errors = [b for _, b in results if isinstance(b, str)]
    completion_tokens = sum(b["usage"]["completion_tokens"] for b in bodies)
    return {
        "requests": len(questions),
        "ok": len(bodies),
        "errors": len(errors),
        "error_examples": errors[:3],
        "wall_seconds": round(wall, 2),
        "throughput_rps": round(len(bodies) / wall, 3),
        "completion_tokens": completion_tokens,
        "completion_tokens_per_s": round(completion_tokens / wall, 2),
        "prompt_tokens_mean": round(
            statistics.fmean(b["usage"]["prompt_tokens"] for b in bodies), 1
        )
        if bodies
        else 0,
        "latency_s": {
            "p50": round(statistics.median(latencies), 2),
            "p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2),
            "max": round(latencies[-1], 2),
        },
    }


def measure(
    project: Project,
    arm: str,
    max_batch: int,
    questions: list[str],
    max_tokens: int,
    timeout_s: float,
) -> dict[str, Any]:
    project.config.serve.max_batch = max_batch
    app = create_app(project, api_key=KEY)
    with BackgroundServer(app, log_level="error") as server:
        asyncio.run(fire(server.url, arm, questions[:1], max_tokens, timeout_s))  # warm-up
        service = app.state.service
        batches_before = service.queue.batches_run
        result = asyncio.run(fire(server.url, arm, questions, max_tokens, timeout_s))
        result["model_batches"] = service.queue.batches_run - batches_before
    result["max_batch"] = max_batch
    label = "batched" if max_batch > 1 else "one-at-a-time"
    print(
        f"{label:>14} (serve.max_batch={max_batch:>2}): {result['ok']}/{result['requests']} ok, "
        f"{result['wall_seconds']:.1f} s wall, {result['throughput_rps']:.2f} req/s, "
        f"p50 {result['latency_s']['p50']:.1f} s, p95 {result['latency_s']['p95']:.1f} s, "
        f"{result['model_batches']} answer_batch calls"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=64, help="Concurrent chat requests per server (<= 256)."
    )
    parser.add_argument("--arm", default="rag", help="The arm asked (model name).")
    parser.add_argument("--max-tokens", type=int, default=16, help="max_tokens per request.")
    parser.add_argument(
        "--max-batch", type=int, default=32, help="serve.max_batch of the batched server."
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="Per-request timeout, seconds."
    )
    parser.add_argument(
        "--scripted", action="store_true", help="Scripted generator + hash embedder (no model)."
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--label",
        default=None,
        help="Keep the file's main figures and add this run under other_runs.LABEL (e.g. decode-heavy).",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 256:
        parser.error("--requests must be between 1 and 256")

    work = Path(tempfile.mkdtemp(prefix="ragtune-serve-load-"))
    try:
        project, questions = build_project(
            work, args.scripted, args.max_tokens, llm_batch=args.max_batch
        )
        questions = (questions * (args.requests // max(1, len(questions)) + 1))[: args.requests]
        load_before = os.getloadavg()
        started = time.perf_counter()
        # One-at-a-time first, then batched: the model is warm for both (loaded once).
        serial = measure(project, args.arm, 1, questions, args.max_tokens, args.timeout)
        batched = measure(
            project, args.arm, args.max_batch, questions, args.max_tokens, args.timeout
        )
        total = time.perf_counter() - started
        load_after = os.getloadavg()
        generator = project.generator
        project.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    speedup = (
        batched["throughput_rps"] / serial["throughput_rps"] if serial["throughput_rps"] else 0.0
    )
    passed = batched["errors"] == 0 and serial["errors"] == 0 and speedup >= 4.0
    result = {
        "benchmark": "serve_load",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "note": "shared machine: other jobs ran alongside; both servers measured in the same run",
        },
        "setup": {
            "model": getattr(generator, "name", "?"),
            "backend": "scripted" if args.scripted else "transformers",
            "dtype": str(getattr(generator, "dtype", "")),
            "arm": args.arm,
            "max_tokens": args.max_tokens,
            "requests": args.requests,
            "concurrency": args.requests,
            "corpus": "demo v1 seed 0",
            "batch_window_ms": project.config.serve.batch_window_ms,
            "llm_batch_size": args.max_batch,
            "transport": "HTTP on 127.0.0.1, one connection per request, server in-process (uvicorn thread)",
        },
        "one_at_a_time": serial,
        "batched": batched,
        "speedup_throughput": round(speedup, 2),
        "target": {"speedup_at_least": 4.0, "errors": 0},
        "passed": passed,
        "total_seconds": round(total, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.label and args.out.exists():
        main_run = json.loads(args.out.read_text())
        main_run.setdefault("other_runs", {})[args.label] = result
        result = main_run
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"speedup {speedup:.2f}x (target >= 4x), errors {serial['errors'] + batched['errors']} -> "
        f"{'PASS' if passed else 'FAIL'}; wrote {args.out}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
