"""vLLM's CPU server against ragtune's built-in transformers generator, same prompts.

The prompts are ``generate_throughput.py``'s synthetic RAG prompts (three numbered
passages of invented facts and a question, ~400 tokens), answered greedily with at most
``--max-new-tokens``. Both engines serve the default model (SmolLM2-135M-Instruct, the
HF folder converted from its GGUF) and, with ``--adapter``, a LoRA adapter too:

- ``builtin``: :class:`~ragtune.llm.transformers.TransformersGenerator` in this
  process, batched as ``ragtune eval`` runs it (``llm.batch_size`` 16); a question's
  latency is its batch's wall time;
- ``vllm``: the server from ``ragtune engine vllm start`` (prefix caching off, so
  repeated prompts are not answered from a cache), asked through the ``openai``
  backend with ``--concurrency`` requests in flight; a question's latency is its request's.

With ``--merged`` (the same adapter merged into the base: ``ragtune tune --merge``), a
second server then serves that folder as a model of its own (no LoRA kernels; one
server per fine-tuned model), asked the LoRA prompts against the built-in adapter path.

Rounds alternate (builtin, vllm, builtin, vllm, ...) so drifting load hits both. Records
questions per second, p50/p95 latency per question, memory (this process's RSS after the
model loaded for builtin; the server's process group's peak RSS for vllm), the start
time of each engine, greedy agreement of the answers, and the load average around every
round, in ``benchmarks/results/vllm_engine.json``::

    .venv/bin/python benchmarks/vllm_engine.py [--questions 32] [--rounds 2]
        [--adapter .ragtune/adapters/qa --lora-questions 8] [--merged .ragtune/adapters/qa-merged]
        [--venv ~/.cache/ragtune/vllm-venv]

Needs the vLLM virtualenv (``ragtune engine vllm install``) and a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

from generate_throughput import rag_prompts

from ragtune.evaluate.resources import current_rss_bytes
from ragtune.llm import (
    ChatMessage,
    Generation,
    GenerationParams,
    Generator,
    vllm_engine,
)
from ragtune.llm.openai import OpenAIGenerator
from ragtune.machine import load_average, machine_info, package_versions

RESULTS = Path(__file__).parent / "results" / "vllm_engine.json"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in group ``pgid`` (the server and its workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 of /proc/PID/stat: the process group
                total += int((stat.parent / "statm").read_text().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds used so far by every process in group ``pgid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total


class GroupPeak:
    """The peak of :func:`group_rss_bytes` while a block runs (sampled every 0.2 s)."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.bytes = pgid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.bytes = max(self.bytes, group_rss_bytes(self.pgid))
            self._stop.wait(0.2)

    def __enter__(self) -> GroupPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_round(
    llm: Generator, prompts: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
) -> tuple[dict[str, Any], list[Generation]]:
    load_before = load_average()
    started = time.perf_counter()
    gens = llm.generate(prompts, params, adapter=adapter)
    wall = time.perf_counter() - started
    latencies = [g.seconds for g in gens]
    return {
        "questions": len(prompts),
        "wall_s": round(wall, 2),
        "questions_per_s": round(len(prompts) / wall, 3),
        "latency_p50_s": round(percentile(latencies, 0.5), 2),
        "latency_p95_s": round(percentile(latencies, 0.95), 2),
        "completion_tokens": sum(g.completion_tokens for g in gens),
        "load_before": load_before,
        "load_after": load_average(),
    }, gens


def agreement(a: list[Generation], b: list[Generation], words: int = 10) -> dict[str, int]:
    """How many answers match exactly, and in their first ``words`` words."""
    same = sum(x.text.strip() == y.text.strip() for x, y in zip(a, b, strict=True))
    prefix = sum(
        x.text.split()[:words] == y.text.split()[:words] for x, y in zip(a, b, strict=True)
    )
    return {"exact": same, f"first_{words}_words": prefix, "of": len(a)}


def start_builtin(adapters: dict[str, str], batch_size: int) -> tuple[Generator, dict[str, Any]]:
    from ragtune.llm.transformers import TransformersGenerator

    rss_before = current_rss_bytes()
    started = time.perf_counter()
    llm = TransformersGenerator("default", batch_size=batch_size, adapters=adapters or None)
    start_s = time.perf_counter() - started
    return llm, {
        "start_s": round(start_s, 1),
        "rss_after_load_mb": round(current_rss_bytes() / 2**20),
        "model_rss_mb": round((current_rss_bytes() - rss_before) / 2**20),
        "compute": llm.compute_settings().to_dict(),
    }


def start_vllm(
    adapters: dict[str, str], state_dir: Path, args: argparse.Namespace, model: str = "default"
) -> tuple[vllm_engine.EngineState, dict[str, Any]]:
    options = vllm_engine.EngineOptions(
        venv=Path(args.venv), port=0, prefix_caching=False, kv_cache_gib=args.kv_cache_gib
    )
    started = time.perf_counter()
    state = vllm_engine.start(model, adapters, state_dir, options, say=print)
    return state, {
        "start_s": round(time.perf_counter() - started, 1),
        "idle_rss_mb": round(group_rss_bytes(state.pid) / 2**20),
        "command": state.command,
        "kv_cache_gib": args.kv_cache_gib,
    }


def run_rounds(
    engines: dict[str, Generator],
    prompts: list[list[ChatMessage]],
    params: GenerationParams,
    adapter_of: dict[str, str | None],
    rounds: int,
    server_pgid: int,
) -> dict[str, Any]:
    """Alternate the engines ``rounds`` times; the medians, every round, the agreement.
    ``adapter_of`` names the adapter each engine is asked for (``None``: its own model,
    which for a server of a merged adapter is the fine-tuned one)."""
    out: dict[str, Any] = {name: {"rounds": []} for name in engines}
    answers: dict[str, list[Generation]] = {}
    for name, llm in engines.items():  # warm-up: first-call allocations, LoRA loads
        llm.generate(prompts[:2], GenerationParams(max_new_tokens=4), adapter=adapter_of[name])
    for _ in range(rounds):
        for name, llm in engines.items():
            server_cpu = group_cpu_s(server_pgid)
            if name == "vllm":
                with GroupPeak(server_pgid) as peak:
                    figures, answers[name] = timed_round(llm, prompts, params, adapter_of[name])
                figures["server_peak_rss_mb"] = round(peak.bytes / 2**20)
            else:
                figures, answers[name] = timed_round(llm, prompts, params, adapter_of[name])
                figures["process_rss_mb"] = round(current_rss_bytes() / 2**20)
            # CPU the server spent meanwhile: its work, or (builtin rounds) its idle cost.
            figures["server_cpu_s"] = round(group_cpu_s(server_pgid) - server_cpu, 2)
            out[name]["rounds"].append(figures)
            print(f"  {name:7} {adapter_of[name] or 'base':5} {figures}", flush=True)
    for name in engines:
        rs = out[name]["rounds"]
        for key in ("questions_per_s", "latency_p50_s", "latency_p95_s"):
            out[name][key] = round(statistics.median(r[key] for r in rs), 3)
    out["vllm_vs_builtin_questions_per_s"] = [
        round(v["questions_per_s"] / b["questions_per_s"], 2)
        for b, v in zip(out["builtin"]["rounds"], out["vllm"]["rounds"], strict=True)
    ]
    out["agreement"] = agreement(answers["builtin"], answers["vllm"])
    return out


def merged_rounds(
    builtin: Generator, prompts: list[list[ChatMessage]], params: GenerationParams, args: Any
) -> dict[str, Any]:
    """The merged model on a server of its own against the built-in adapter path."""
    merged = str(Path(args.merged).resolve())
    with tempfile.TemporaryDirectory(prefix="ragtune-vllm-bench-") as state_dir:
        state, start = start_vllm({}, Path(state_dir), args, model=merged)
        try:
            served = OpenAIGenerator(
                state.model, base_url=state.base_url, batch_size=args.concurrency, timeout_s=600
            )
            engines: dict[str, Generator] = {"builtin": builtin, "vllm": served}
            adapter_of = {"builtin": "qa", "vllm": None}
            out = run_rounds(engines, prompts, params, adapter_of, args.rounds, state.pid)
        finally:
            vllm_engine.stop(Path(state_dir))
    return {"vllm_start": start, "model": merged, **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=32)
    parser.add_argument("--lora-questions", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--kv-cache-gib", type=int, default=4)
    parser.add_argument("--adapter", help="A LoRA adapter folder to measure as 'qa' on both.")
    parser.add_argument(
        "--merged", help="The same adapter merged into the base (ragtune tune --merge)."
    )
    parser.add_argument("--venv", default=str(vllm_engine.default_venv()))
    parser.add_argument("--out", type=Path, default=RESULTS, help="The results file.")
    args = parser.parse_args()
    if args.merged and not args.adapter:
        parser.error("--merged needs --adapter (the adapter it was merged from)")

    adapters = {"qa": str(Path(args.adapter).resolve())} if args.adapter else {}
    prompts = rag_prompts(args.questions)
    params = GenerationParams(max_new_tokens=args.max_new_tokens)
    result: dict[str, Any] = {
        "benchmark": "vllm_engine",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "versions": package_versions(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "load_at_start": load_average(),
    }
    builtin, result["builtin_start"] = start_builtin(adapters, args.batch_size)
    with tempfile.TemporaryDirectory(prefix="ragtune-vllm-bench-") as state_dir:
        state, result["vllm_start"] = start_vllm(adapters, Path(state_dir), args)
        try:
            served = OpenAIGenerator(
                state.model,
                base_url=state.base_url,
                batch_size=args.concurrency,
                adapters=adapters or None,
                timeout_s=600,
            )
            engines: dict[str, Generator] = {"builtin": builtin, "vllm": served}
            base = {"builtin": None, "vllm": None}
            result["base"] = run_rounds(engines, prompts, params, base, args.rounds, state.pid)
            if adapters:
                lora_prompts = prompts[: args.lora_questions]
                lora = {"builtin": "qa", "vllm": "qa"}
                result["lora"] = run_rounds(
                    engines, lora_prompts, params, lora, args.rounds, state.pid
                )
        finally:
            vllm_engine.stop(Path(state_dir))
    if args.merged:
        result["merged"] = merged_rounds(builtin, prompts[: args.lora_questions], params, args)
    result["load_at_end"] = load_average()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("builtin_start", "load_at_end")}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
