"""Serving under hostile load: chats, streams, upserts and hang-ups at once (issue 14).

    .venv/bin/python benchmarks/serve_hardening.py             # scripted generator, paced (~1 min)
    .venv/bin/python benchmarks/serve_hardening.py --real      # the default model (SmolLM2-135M)
    .venv/bin/python benchmarks/serve_hardening.py --real --probes   # + issue 14's one-off repros
    .venv/bin/python benchmarks/serve_hardening.py --clients 128 --rounds 3

One server (a real uvicorn on a free loopback port, in this process) over the demo
corpus. Each round sends ``--clients`` requests at once, each on its own connection:
half plain chat requests, a quarter streams, an eighth document upserts, and an eighth
clients that hang up (half of them mid-stream, half before a plain answer arrives).
Throughout, a prober asks ``/healthz`` every 50 ms and records how long it took.

``--probes`` then sends issue 14's repros one at a time: 80 KB and 10 MB prompts to
``base`` and ``rag`` (refused, and how fast), three requests with distinct 64-character
stop strings (the server's memory before and after), and a stream abandoned after its
first piece followed by a 1-token request (how long the hang-up still costs).

Targets (issue 14): 0 errors (every request that stayed gets its 200 and its answer);
``/healthz`` under 1 s throughout; the server's memory (RSS, after a collection) back
within 10 % of where it started, "start" being after one full-size warm-up round (the
model's batch buffers and the allocator's arenas are at their high-water mark by then,
so what grows after it is a leak, not a first batch). Writes benchmarks/results/serve_hardening.json with the
figures and the machine's load, and prints them. ``run_load`` is also what the CI-sized
test in tests/serve/test_hardening_load.py runs, with the scripted generator.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx

RESULTS = Path(__file__).parent / "results" / "serve_hardening.json"
KEY = "serve-hardening-benchmark"
HEALTH_PERIOD_S = 0.05


@dataclass
class LoadResult:
    """What one load run saw, from the clients' side."""

    requests: int = 0
    errors: list[str] = field(default_factory=list)
    chat_seconds: list[float] = field(default_factory=list)
    stream_seconds: list[float] = field(default_factory=list)
    upsert_seconds: list[float] = field(default_factory=list)
    hung_up: int = 0
    health_seconds: list[float] = field(default_factory=list)
    health_failures: int = 0

    def summary(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)

        return {
            "requests": self.requests,
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "hung_up": self.hung_up,
            "chat_p50_s": pct(self.chat_seconds, 0.5),
            "chat_p95_s": pct(self.chat_seconds, 0.95),
            "stream_p95_s": pct(self.stream_seconds, 0.95),
            "upsert_p95_s": pct(self.upsert_seconds, 0.95),
            "health_probes": len(self.health_seconds),
            "health_failures": self.health_failures,
            "health_p50_s": pct(self.health_seconds, 0.5),
            "health_p95_s": pct(self.health_seconds, 0.95),
            "health_max_s": round(max(self.health_seconds), 4) if self.health_seconds else None,
        }


def _chat(question: str, model: str, stream: bool, max_tokens: int) -> dict[str, Any]:
    return {
        "model": model,
        "stream": stream,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": question}],
    }


async def run_load(
    url: str,
    questions: list[str],
    *,
    key: str | None = None,
    clients: int = 64,
    rounds: int = 1,
    model: str = "rag",
    max_tokens: int = 16,
    hang_up_after_s: float = 0.05,
    timeout_s: float = 600.0,
) -> LoadResult:
    """Send ``rounds`` bursts of ``clients`` mixed requests to the server at ``url``."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    result = LoadResult()
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=clients + 8, max_keepalive_connections=0)

    async def probe_health(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            started = time.perf_counter()
            try:
                response = await client.get(url + "/healthz")
                if response.status_code != 200:
                    result.health_failures += 1
            except httpx.HTTPError:
                result.health_failures += 1
            result.health_seconds.append(time.perf_counter() - started)
            await asyncio.sleep(HEALTH_PERIOD_S)

    async def chat(client: httpx.AsyncClient, i: int) -> None:
        started = time.perf_counter()
        body = _chat(questions[i % len(questions)], model, False, max_tokens)
        response = await client.post(url + "/v1/chat/completions", json=body, headers=headers)
        if response.status_code != 200 or not response.json()["choices"][0]["message"]["content"]:
            result.errors.append(f"chat {i}: {response.status_code} {response.text[:200]}")
        result.chat_seconds.append(time.perf_counter() - started)

    async def stream(client: httpx.AsyncClient, i: int) -> None:
        started = time.perf_counter()
        body = _chat(questions[i % len(questions)], model, True, max_tokens)
        async with client.stream(
            "POST", url + "/v1/chat/completions", json=body, headers=headers
        ) as response:
            lines = [line async for line in response.aiter_lines() if line]
        if response.status_code != 200 or not lines or lines[-1] != "data: [DONE]":
            result.errors.append(f"stream {i}: {response.status_code} {lines[-1:]}")
        elif not any('"content": "' in line and '"content": ""' not in line for line in lines):
            result.errors.append(f"stream {i}: no text")
        result.stream_seconds.append(time.perf_counter() - started)

    async def upsert(client: httpx.AsyncClient, i: int, round_: int) -> None:
        started = time.perf_counter()
        doc = {"id": f"load/{i}.md", "text": f"The L{i} unit ships from port {round_}."}
        response = await client.post(
            url + "/v1/documents", json={"documents": [doc]}, headers=headers
        )
        if response.status_code != 200:
            result.errors.append(f"upsert {i}: {response.status_code} {response.text[:200]}")
        result.upsert_seconds.append(time.perf_counter() - started)

    async def hang_up(client: httpx.AsyncClient, i: int) -> None:
        body = _chat(questions[i % len(questions)], model, i % 2 == 0, max_tokens)
        try:
            async with asyncio.timeout(hang_up_after_s):
                async with client.stream(
                    "POST", url + "/v1/chat/completions", json=body, headers=headers
                ) as response:
                    async for _ in response.aiter_lines():
                        pass  # read until the deadline closes the connection
        except TimeoutError:
            pass
        result.hung_up += 1

    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
        prober = asyncio.create_task(probe_health(client))
        try:
            for round_ in range(rounds):
                jobs = []
                for i in range(clients):
                    kind = i % 8
                    if kind < 4:
                        jobs.append(chat(client, i))
                    elif kind < 6:
                        jobs.append(stream(client, i))
                    elif kind == 6:
                        jobs.append(upsert(client, i, round_))
                    else:
                        jobs.append(hang_up(client, i))
                outcomes = await asyncio.gather(*jobs, return_exceptions=True)
                result.requests += len(jobs)
                result.errors += [f"{type(o).__name__}: {o}" for o in outcomes if o is not None]
        finally:
            done.set()
            await prober
    return result


def rss_bytes() -> int:
    import psutil

    gc.collect()
    return int(psutil.Process().memory_info().rss)


def metric_total(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def probes(url: str, key: str) -> dict[str, Any]:
    """One request at a time, each a repro from issue 14, with what it cost the server."""
    headers = {"Authorization": f"Bearer {key}"}
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        for label, words in (("80kb", 40_000), ("10mb", 5_000_000)):
            for model in ("base", "rag"):
                body = _chat("w " * words, model, False, 1)
                started = time.perf_counter()
                response = client.post("/v1/chat/completions", json=body)
                out[f"overlong_{label}_{model}"] = {
                    "status": response.status_code,
                    "code": response.json()["error"]["code"],
                    "seconds": round(time.perf_counter() - started, 3),
                }
        # Distinct stop strings at the longest allowed length: memory must stay flat-ish.
        rss_before = rss_bytes()
        for i in range(3):
            stop = [f"{i}{chr(97 + j)}" * 32 for j in range(4)]  # 4 x 64 characters
            body = _chat("Who runs the Oslo office?", "base", False, 4) | {"stop": stop}
            response = client.post("/v1/chat/completions", json=body)
            out.setdefault("stop_statuses", []).append(response.status_code)
        out["stop_rss_growth_mb"] = round((rss_bytes() - rss_before) / 2**20, 1)
        # A stream abandoned after its first piece; then how long a 1-token answer takes.
        body = _chat("Describe the company in detail.", "rag", True, 256)
        started = time.perf_counter()
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            for line in response.iter_lines():
                if '"content": "' in line and '"content": ""' not in line:
                    break
        out["stream_first_piece_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        after = client.post("/v1/chat/completions", json=_chat("Hi", "base", False, 1))
        out["next_1_token_after_hang_up_s"] = round(time.perf_counter() - started, 3)
        out["next_status"] = after.status_code
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", action="store_true", help="the default model, not scripted")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pace-ms", type=float, default=20.0, help="scripted: ms per batch")
    parser.add_argument(
        "--hang-up-s",
        type=float,
        default=None,
        help="when hang-up clients leave (default 0.05 s scripted, 1 s with --real)",
    )
    parser.add_argument("--probes", action="store_true", help="also run the one-off repros")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from ragtune.demo import load_qa, write_demo_corpus
    from ragtune.project import Project
    from ragtune.serve import create_app
    from ragtune.serve.server import BackgroundServer
    from ragtune.testing.scripted_generator import ScriptedGenerator

    class PacedScripted(ScriptedGenerator):
        """Scripted answers, each batch taking ``pace`` seconds, as a model's would."""

        def __init__(self, pace: float) -> None:
            super().__init__()
            self.pace = pace

        def _generate_batch(self, conversations, params, adapter):  # type: ignore[no-untyped-def]
            time.sleep(self.pace)
            return super()._generate_batch(conversations, params, adapter)

    work = Path(tempfile.mkdtemp(prefix="serve-hardening-"))
    info = write_demo_corpus(work / "demo", version=1, seed=0)
    overrides: dict[str, Any] = {"llm": {"max_new_tokens": 16}}
    if not args.real:
        overrides = {
            "embed": {"backend": "hash"},
            "corpus": {"tokenizer": "words"},
            "llm": {"backend": "scripted", "max_new_tokens": 16},
        }
    project = Project.init(work / "proj", overrides)
    project.ingest([info.docs_dir])
    if not args.real:
        project.generator = PacedScripted(args.pace_ms / 1000)
    questions = [qa.question for qa in load_qa(info.out / "qa.jsonl")][:64]
    load_before = os.getloadavg()
    hang_up_s = args.hang_up_s if args.hang_up_s is not None else (1.0 if args.real else 0.05)
    with BackgroundServer(create_app(project, api_key=KEY)) as server:
        # A full-size warm-up round: the model's batch buffers and the allocator's arenas
        # reach their high-water mark here, so growth after it would be a leak.
        asyncio.run(run_load(server.url, questions, key=KEY, clients=args.clients))
        rss_start = rss_bytes()
        started = time.perf_counter()
        result = LoadResult()
        rss_by_round = []
        for _ in range(args.rounds):  # one at a time, to see whether memory keeps growing
            one = asyncio.run(
                run_load(
                    server.url,
                    questions,
                    key=KEY,
                    clients=args.clients,
                    hang_up_after_s=hang_up_s,
                )
            )
            for name in vars(result):
                setattr(result, name, getattr(result, name) + getattr(one, name))
            rss_by_round.append(round(rss_bytes() / 2**20, 1))
        seconds = time.perf_counter() - started
        rss_peak_after = rss_bytes()
        time.sleep(1.0)
        rss_end = rss_bytes()
        metrics = httpx.get(server.url + "/metrics", headers={"Authorization": f"Bearer {KEY}"})
        check = project.store.check()
        repros = probes(server.url, KEY) if args.probes else {}
    summary = result.summary()
    record = {
        "benchmark": "serve_hardening",
        "generator": "default model" if args.real else f"scripted, {args.pace_ms:g} ms per batch",
        "clients": args.clients,
        "rounds": args.rounds,
        "hang_up_after_s": hang_up_s,
        "seconds": round(seconds, 2),
        **summary,
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_after_mb": round(rss_peak_after / 2**20, 1),
        "rss_after_each_round_mb": rss_by_round,
        "rss_end_mb": round(rss_end / 2**20, 1),
        "rss_change": round(rss_end / rss_start - 1, 4),
        "abandoned_queued": metric_total(
            metrics.text, "ragtune_abandoned_requests_total", stage="queued"
        ),
        "abandoned_running": metric_total(
            metrics.text, "ragtune_abandoned_requests_total", stage="running"
        ),
        "generated_tokens": metric_total(metrics.text, "ragtune_generated_tokens_total"),
        "index_check_ok": bool(check.ok),
        "probes": repros,
        "targets": {
            "zero_errors": summary["errors"] == 0 and summary["health_failures"] == 0,
            "health_under_1s": (summary["health_max_s"] or 0) < 1.0,
            "memory_within_10pct": rss_end <= rss_start * 1.10,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return record


if __name__ == "__main__":
    outcome = main()
    sys.exit(0 if all(outcome["targets"].values()) else 1)
