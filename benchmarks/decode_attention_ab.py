"""A/B of ragtune's decoding attention against transformers' SDPA in whole ``generate`` calls.

Same loaded model, switched between ``attn_implementation`` "ragtune_cpu" and "sdpa",
alternating for ``--rounds``: 32 closed-book questions and the 32 RAG prompts of
``generate_throughput.py``, batched 16, ≤ 32 new tokens, and the RAG prompts one at a
time. Writes ``benchmarks/results/decode_attention_ab.json``::

    .venv/bin/python benchmarks/decode_attention_ab.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from generate_throughput import rag_prompts

from ragtune.llm import ChatMessage, GenerationParams
from ragtune.llm.transformers import TransformersGenerator

RESULTS = Path(__file__).parent / "results" / "decode_attention_ab.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    llm = TransformersGenerator("default", batch_size=16)
    config = llm.base_model.config
    params = GenerationParams(max_new_tokens=32)
    closed = [
        [
            ChatMessage("system", "Answer in one short sentence."),
            ChatMessage("user", f"What does the warranty of product {i} cover?"),
        ]
        for i in range(32)
    ]
    workloads = {"closed_book_batched": closed, "rag_batched": rag_prompts(32), "rag_loop": None}
    llm.generate(closed[:4], GenerationParams(max_new_tokens=4))  # warm-up
    seconds: dict[str, dict[str, list[float]]] = {}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for impl in ("ragtune_cpu", "sdpa"):
            config._attn_implementation = impl
            for name, convs in workloads.items():
                start = time.perf_counter()
                if convs is None:
                    for conv in rag_prompts(32)[:8]:
                        llm.generate([conv], params)
                else:
                    llm.generate(convs, params)
                took = time.perf_counter() - start
                seconds.setdefault(name, {}).setdefault(impl, []).append(round(took, 3))
                print(f"{impl:<12} {name:<20} {took:6.2f} s", flush=True)
    result = {
        "benchmark": "decode_attention_ab",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "workloads": "32 closed-book (batched 16), 32 RAG prompts ~414 tokens (batched 16), 8 RAG prompts one at a time; <= 32 new tokens",
        "seconds": seconds,
        "ratio_sdpa_over_ragtune": {
            name: round(statistics.median(s["sdpa"]) / statistics.median(s["ragtune_cpu"]), 3)
            for name, s in seconds.items()
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["ratio_sdpa_over_ragtune"]), f"wrote {args.out}")


if __name__ == "__main__":
    main()
