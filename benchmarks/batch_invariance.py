"""Does a greedy answer depend on which other questions shared its batch? And at what cost?

Answers 32 varied prompts (16 closed-book questions, 16 RAG prompts of ~400 tokens) with
the default generator (SmolLM2-135M-Instruct, greedy, default ``max_new_tokens``) alone,
in batches of 3 and in batches of 16, each with two different sets of neighbours, and
counts the answers that differ from the prompt's solo answer. It does so for:

- ``rowwise``: ragtune's generation (each prompt prefilled alone, each decoding row over
  its own keys, at least two rows per step; see ``ragtune.llm.rowwise``);
- ``padded``: the previous generation (left-padded prompt pass, one attention over the
  padded cache, a lone prompt decoded as a 1-row batch),

each in bfloat16 and float32. It then times the chosen configuration against the others
on the same workloads in one run (interleaved, best of ``--repeats``), and records the
component-level evidence of where differences come from: the prompt pass with and
without left padding, one decoding step at 1, 2, 3 and 16 rows, and the decoding
attention over a padded versus an unpadded cache. Writes
``benchmarks/results/batch_invariance.json``::

    .venv/bin/python benchmarks/batch_invariance.py [--quick] [--threads 2]

The machine may be shared: the load average before and after is recorded beside the
figures, which are for comparing configurations within this run, not across machines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch

from ragtune.evaluate.records import machine_info
from ragtune.llm import ChatMessage, Generation, attention
from ragtune.llm.dtype import choose_dtype
from ragtune.llm.rowwise import cache_argument
from ragtune.llm.transformers import TransformersGenerator
from ragtune.prompts import RAG_SYSTEM, closed_book_messages

RESULTS = Path(__file__).parent / "results" / "batch_invariance.json"
Conversation = list[ChatMessage]

CLOSED_BOOK = [
    "What colour is the sky on a clear day?",
    "Name a fruit that is yellow.",
    "Hi!",
    "What is the capital of France?",
    "List three colours of the rainbow.",
    "Why is the sea salty?",
    "How many days are in a leap year?",
    "What does a warranty usually cover?",
    "Who answers support tickets at a small company?",
    "What is the boiling point of water in Celsius?",
    "Give one reason to keep a receipt.",
    "What is a service interval?",
    "Which is heavier, a kilogram of iron or a kilogram of feathers?",
    "Say hello to the team in one sentence.",
    "What is the difference between a pump and a valve?",
    "How long should a password be?",
]
NAMES = ["Zorvath", "Kelmar", "Ostrine", "Palvex", "Quenta", "Rudmor", "Sylvane", "Tarrow"]
THINGS = ["valve", "router", "pump", "sensor", "controller", "bracket", "filter", "relay"]
CITIES = ["Lyon", "Tampere", "Graz", "Porto", "Utrecht", "Brno", "Aarhus", "Cork"]


def _passage(rng: random.Random, marker: int) -> str:
    name, thing, city = rng.choice(NAMES), rng.choice(THINGS), rng.choice(CITIES)
    return (
        f"[{marker}] ({name} {thing} datasheet) The {name} {thing} (model "
        f"{name[:2].upper()}-{rng.randint(100, 9999)}) was introduced in {rng.randint(1995, 2024)} "
        f"and is assembled in {city}. It is rated for {rng.randint(5, 400)} bar, weighs "
        f"{rng.randint(1, 90)} kg and ships with a {rng.randint(1, 10)}-year warranty that covers "
        f"parts but not labour. Service is due every {rng.randint(3, 36)} months; the seal kit is "
        f"part {rng.randint(10000, 99999)}."
        + " Spare units are stocked in the regional warehouse."
        * rng.randint(0, 2)
    )


def rag_prompts(n: int, seed: int = 0) -> list[Conversation]:
    """``n`` RAG conversations in ragtune's prompt format, ~400 tokens each (varied)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        passages = "\n".join(_passage(rng, k) for k in range(1, rng.randint(4, 6) + 1))
        question = f"Where is the {rng.choice(NAMES)} {rng.choice(THINGS)} assembled? (#{i})"
        user = f"Passages:\n{passages}\n\nQuestion: {question}\nAnswer:"
        out.append([ChatMessage("system", RAG_SYSTEM), ChatMessage("user", user)])
    return out


@contextlib.contextmanager
def previous_generation(llm: TransformersGenerator) -> Iterator[None]:
    """Generate as ragtune did before row-wise prefill: one padded prompt pass, decoding
    attention over the padded cache at once, a lone prompt as a 1-row batch."""
    kept_flag, kept_starts = llm.rowwise, attention.first_attended_keys
    llm.rowwise = False
    attention.first_attended_keys = lambda *args: None  # type: ignore[assignment]
    try:
        yield
    finally:
        llm.rowwise = kept_flag
        attention.first_attended_keys = kept_starts  # type: ignore[assignment]


def _mode(llm: TransformersGenerator, mode: str) -> contextlib.AbstractContextManager[None]:
    return previous_generation(llm) if mode == "padded" else contextlib.nullcontext()


def _key(gen: Generation) -> tuple[str, int, str]:
    return gen.text, gen.completion_tokens, gen.finish_reason


def identity(
    llm: TransformersGenerator, convs: list[Conversation], shuffles: int, seed: int = 0
) -> dict[str, Any]:
    """Answers alone, in batches of 3 and of 16 (``shuffles`` neighbour sets each);
    every answer that differs from its solo answer is listed."""
    alone = [_key(llm.generate([c])[0]) for c in convs]
    rng = random.Random(seed)
    mismatches: list[dict[str, Any]] = []
    compared = 0
    for size in (3, 16):
        for shuffle in range(shuffles):
            order = list(range(len(convs)))
            rng.shuffle(order)
            for start in range(0, len(order), size):
                group = order[start : start + size]
                for i, gen in zip(group, llm.generate([convs[i] for i in group]), strict=True):
                    compared += 1
                    if _key(gen) != alone[i]:
                        mismatches.append(
                            {
                                "prompt": i,
                                "batch": len(group),
                                "shuffle": shuffle,
                                "alone": alone[i][0],
                                "batched": gen.text,
                            }
                        )
    return {"compared": compared, "mismatched": len(mismatches), "mismatches": mismatches}


def throughput(
    llms: dict[str, TransformersGenerator], workloads: dict[str, list[Conversation]], repeats: int
) -> dict[str, dict[str, Any]]:
    """Completion tokens per second of each configuration on each workload, interleaved so
    that load changes hit all alike; the best of ``repeats`` is kept."""
    configs = [(dtype, mode) for dtype in llms for mode in ("rowwise", "padded")]
    best: dict[str, dict[str, Any]] = {}
    for _ in range(repeats):
        for workload, convs in workloads.items():
            for dtype, mode in configs:
                llm = llms[dtype]
                with _mode(llm, mode):
                    start = time.perf_counter()
                    # "solo" answers one prompt per call; the others one call for all.
                    gens = (
                        [llm.generate([c])[0] for c in convs]
                        if workload.startswith("solo")
                        else llm.generate(convs)
                    )
                    seconds = time.perf_counter() - start
                tokens = sum(g.completion_tokens for g in gens)
                name = f"{dtype}/{mode}"
                entry = best.setdefault(workload, {}).get(name)
                if entry is None or tokens / seconds > entry["tokens_per_s"]:
                    best[workload][name] = {
                        "tokens_per_s": round(tokens / seconds, 2),
                        "seconds": round(seconds, 2),
                        "completion_tokens": tokens,
                    }
    return best


def diagnose(llm: TransformersGenerator, short: Conversation, long: Conversation) -> dict[str, Any]:
    """Where a row's numbers change with its batch, op by op (bitwise, max |diff|)."""
    model, tok = llm.base_model, llm.tokenizer
    cache_kw = cache_argument(model)
    prompts = [llm.render(short), llm.render(long)]

    def diff(a: Any, b: Any) -> dict[str, Any]:
        return {
            "bitwise_equal": bool(torch.equal(a, b)),
            "max_abs_diff": float((a - b).abs().max()),
        }

    with torch.inference_mode():
        alone = model(**tok(prompts[:1], return_tensors="pt", add_special_tokens=False))
        padded_enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        padded = model(**padded_enc)
        pad = int((padded_enc["attention_mask"][0] == 0).sum())
        prefill = diff(alone.logits[0, -1].float(), padded.logits[0, -1].float())
        prefill["left_padding_tokens"] = pad

        enc = tok(prompts[:1], return_tensors="pt", add_special_tokens=False)
        steps: dict[int, Any] = {}
        for rows in (1, 2, 3, 16):
            ids = enc["input_ids"].repeat(rows, 1)
            out = model(input_ids=ids, use_cache=True)
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            mask = torch.ones(rows, ids.shape[1] + 1, dtype=torch.long)
            cache = {cache_kw: getattr(out, cache_kw)}
            step = model(input_ids=nxt, attention_mask=mask, use_cache=True, **cache)
            steps[rows] = step.logits[0, -1].float()
        decode_rows = {
            f"{rows}_rows_vs_{ref}": diff(steps[ref], steps[rows])
            for ref in (1, 2)
            for rows in (2, 3, 16)
            if rows > ref
        }

    gen = torch.Generator().manual_seed(0)
    q = torch.randn(2, 9, 1, 64, generator=gen).to(llm.dtype)
    k = torch.randn(2, 3, 413, 64, generator=gen).to(llm.dtype)
    v = torch.randn(2, 3, 413, 64, generator=gen).to(llm.dtype)
    mask = torch.ones(2, 1, 1, 413, dtype=torch.bool)
    mask[1, ..., :37] = False  # row 1: the same keys as a 376-key row, left-padded by 37
    k[1, :, 37:], v[1, :, 37:], q[1] = k[0, :, :376], v[0, :, :376], q[0]
    solo_k, solo_v = k[:1, :, :376].contiguous(), v[:1, :, :376].contiguous()
    module = type("Module", (), {"num_key_value_groups": 3, "is_causal": True, "training": False})
    solo, _ = attention.decode_attention(module, q[:1], solo_k, solo_v, None, scaling=0.125)
    ours, _ = attention.decode_attention(module, q, k, v, mask, scaling=0.125)
    at_once = attention._padded_decode_attention(q, k, v, mask, 0.125)
    return {
        "prefill_left_padded_vs_alone": prefill,
        "decode_step_rows": decode_rows,
        "decode_attention_padded_row_vs_alone": {
            "per_row": diff(solo[0].float(), ours[1].float()),
            "all_rows_at_once": diff(solo[0].float(), at_once[1].float()),
        },
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 + 8 prompts, one shuffle")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats per workload")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n = 8 if args.quick else 16
    closed = [closed_book_messages(q) for q in CLOSED_BOOK[:n]]
    rag = rag_prompts(n)
    convs = closed + rag

    load_before = load_average()
    started = time.perf_counter()
    auto = choose_dtype("auto", "cpu").dtype
    llms = {
        dtype: TransformersGenerator(
            "default", dtype="auto" if dtype == auto else dtype, num_threads=args.threads
        )
        for dtype in ("bfloat16", "float32")
    }
    chosen = f"{auto}/rowwise"
    prompt_tokens = [llms["float32"].count_tokens(llms["float32"].render(c)) for c in convs]

    results: dict[str, Any] = {}
    for dtype, llm in llms.items():
        for mode in ("rowwise", "padded"):
            with _mode(llm, mode):
                results[f"{dtype}/{mode}"] = identity(llm, convs, shuffles=1 if args.quick else 2)
            print(f"{dtype}/{mode}: {results[f'{dtype}/{mode}']['mismatched']} mismatched")
    diagnosis = {dtype: diagnose(llm, closed[1], rag[0]) for dtype, llm in llms.items()}
    workloads = {
        "closed_book_batch": closed,
        "rag_batch": rag,
        "solo_closed_book_4": closed[:4],
        "solo_rag_2": rag[:2],
    }
    speed = throughput(llms, workloads, args.repeats)
    ratios = {
        workload: {
            name: round(figures[chosen]["tokens_per_s"] / entry["tokens_per_s"], 3)
            for name, entry in figures.items()
            if name != chosen
        }
        for workload, figures in speed.items()
    }
    report = {
        "benchmark": "batch_invariance",
        "question": "is a greedy answer the same alone, in a batch of 3 and in a batch of 16?",
        "model": llms["float32"].name,
        "chosen": chosen,
        "compute_settings": llms[auto].compute_settings().to_dict(),
        "prompts": {
            "closed_book": len(closed),
            "rag": len(rag),
            "prompt_tokens_min_median_max": [
                min(prompt_tokens),
                sorted(prompt_tokens)[len(prompt_tokens) // 2],
                max(prompt_tokens),
            ],
            "max_new_tokens": llms["float32"].default_params.max_new_tokens,
            "greedy": True,
        },
        "identity": results,
        "diagnosis": diagnosis,
        "throughput_tokens_per_s": speed,
        "chosen_over_alternative": ratios,
        "machine": {
            **machine_info(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "note": "shared machine; figures compare configurations within this run",
        },
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    for workload, figures in speed.items():
        line = ", ".join(f"{name} {entry['tokens_per_s']}" for name, entry in figures.items())
        print(f"{workload} tokens/s: {line}")
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
