"""How fast the local generator answers a RAG arm's worth of questions on this machine.

Builds 32 synthetic RAG prompts (~400 tokens: instructions, five numbered passages of
invented facts, a question), answers them with at most 32 new tokens each, greedy, and
compares:

- ``loop``: the same generator called one question at a time;
- ``naive_fp32_loop``: plain ``model.generate`` per question in fp32, as a first script
  would do (run on a subset, reported per question);
- ``batched_16`` / ``batched_32``: one ``generate`` call for all 32 (length-bucketed,
  left-padded, KV cache, bf16 where fast);

against a compute ceiling measured here: the bf16 GEMM rate of a model-shaped matmul
divided by the model's FLOPs per token (2 x non-embedding parameters: the strictest
count, used for ``fraction_of_ceiling``). Two other counts are recorded beside it:
``fraction_of_issue_ceiling`` uses 2 x all parameters per token (the issue's "~270
MFLOP per token"), ``fraction_of_gemm_exact_flops`` counts the FLOPs each token really
costs (attention included; the LM head only where logits are computed). It also
measures the two stage costs (prefill per prompt, one decode step, at batch 1 and 16)
and the speedup they predict, which shows how far batching can go on this workload. Writes
``benchmarks/results/generate_throughput.json`` and prints a table::

    .venv/bin/python benchmarks/generate_throughput.py [--questions 32] [--naive 8]

The machine may be shared: the load average before and after is recorded, and the
ceiling is re-measured right after each timed run (the best measurement is used, so
a busy machine lowers the reported fraction rather than flattering it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers

from ragtune.llm import ChatMessage, Generation, GenerationParams
from ragtune.llm.transformers import TransformersGenerator, cpu_bf16_is_fast

RESULTS = Path(__file__).parent / "results" / "generate_throughput.json"
SYSTEM = (
    "You answer questions about the company's products using only the numbered passages. "
    "Cite the passage you used as [n]. If the passages do not contain the answer, say you don't know."
)
NAMES = [
    "Zorvath",
    "Kelmar",
    "Ostrine",
    "Palvex",
    "Quenta",
    "Rudmor",
    "Sylvane",
    "Tarrow",
    "Ulmic",
    "Vexor",
]
THINGS = [
    "valve",
    "router",
    "pump",
    "sensor",
    "controller",
    "bracket",
    "filter",
    "module",
    "gateway",
    "relay",
]
CITIES = [
    "Lyon",
    "Tampere",
    "Graz",
    "Porto",
    "Utrecht",
    "Brno",
    "Aarhus",
    "Gdansk",
    "Cork",
    "Turin",
]


def passage(rng: random.Random) -> str:
    name, thing, city = rng.choice(NAMES), rng.choice(THINGS), rng.choice(CITIES)
    model = f"{name[:2].upper()}-{rng.randint(100, 9999)}"
    return (
        f"The {name} {thing} (model {model}) was introduced in {rng.randint(1995, 2024)} and is "
        f"assembled in {city}. It is rated for {rng.randint(5, 400)} bar and {rng.randint(1, 60)} "
        f"degrees, weighs {rng.randint(1, 90)} kg, and ships with a {rng.randint(1, 10)}-year warranty "
        f"that covers parts but not labour. Service intervals are every {rng.randint(3, 36)} months; "
        f"the replacement seal kit is part {rng.randint(10000, 99999)}. Tickets are answered "
        f"within {rng.randint(1, 5)} working days."
        + " Spare units are stocked in the regional warehouse."
        * rng.randint(0, 2)
    )


def rag_prompts(n: int, seed: int = 0) -> list[list[ChatMessage]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        passages = "\n".join(f"[{k}] {passage(rng)}" for k in range(1, 4))
        question = f"Where is the {rng.choice(NAMES)} {rng.choice(THINGS)} assembled, and what does its warranty cover? (#{i})"
        out.append(
            [
                ChatMessage("system", SYSTEM),
                ChatMessage("user", f"Passages:\n{passages}\n\nQuestion: {question}"),
            ]
        )
    return out


def gemm_gflops(rows: int, dtype: torch.dtype, repeats: int = 10) -> float:
    """Median rate of a (rows, 576) x (576, 1536) matmul: SmolLM2-135M's MLP shape."""
    a, b = torch.randn(rows, 576, dtype=dtype), torch.randn(576, 1536, dtype=dtype)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * rows * 576 * 1536 / statistics.median(times) / 1e9


def stage_costs(
    llm: TransformersGenerator, prompt_tokens: int, batch: int = 16
) -> dict[str, float]:
    """Milliseconds of one prefill (per prompt) and one decode step, at batch 1 and ``batch``.

    These bound what batching can do: a loop pays ``prefill_1 + n * decode_1`` per
    question, a batch ``prefill_B + n * decode_B / B``; prefill is compute-bound already
    at batch 1, so only the decode term shrinks.
    """
    out: dict[str, float] = {}
    for b in (1, batch):
        prefill, decode = _stage_costs_at(llm.base_model, b, prompt_tokens)
        out[f"prefill_ms_per_prompt_b{b}"] = round(prefill / b, 1)
        out[f"decode_ms_per_step_b{b}"] = round(decode, 1)
    return out


def _best_ms(fn: Any, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


@torch.inference_mode()
def _stage_costs_at(model: Any, b: int, prompt_tokens: int) -> tuple[float, float]:
    ids = torch.randint(100, 40000, (b, prompt_tokens))
    mask = torch.ones_like(ids)
    prefill = _best_ms(lambda: model(input_ids=ids, attention_mask=mask, logits_to_keep=1), 3)
    cache = model(input_ids=ids, attention_mask=mask, use_cache=True).past_key_values
    step_mask = torch.ones(b, prompt_tokens + 1, dtype=mask.dtype)

    def step() -> None:
        model(input_ids=ids[:, -1:], attention_mask=step_mask, past_key_values=cache)
        cache.crop(-1)  # drop the step's token: every repeat decodes at the same length

    return prefill, _best_ms(step, 5)


def attention_flops(context: float, config: Any) -> float:
    """FLOPs of QK^T and AV for one token attending to ``context`` earlier tokens."""
    return 4 * config.num_hidden_layers * config.num_attention_heads * config.head_dim * context


def summarize(name: str, gens: list[Generation], seconds: float, questions: int) -> dict[str, Any]:
    prompt = sum(g.prompt_tokens for g in gens)
    completion = sum(g.completion_tokens for g in gens)
    return {
        "name": name,
        "questions": questions,
        "seconds": round(seconds, 3),
        "questions_per_s": round(questions / seconds, 3),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens_per_s": round((prompt + completion) / seconds, 1),
    }


def naive_loop(
    llm: TransformersGenerator, convs: list[list[ChatMessage]], params: GenerationParams
) -> dict[str, Any]:
    """Per-question ``model.generate`` in fp32 with default settings, as a first script would."""
    model = transformers.AutoModelForCausalLM.from_pretrained(llm.path, dtype=torch.float32).eval()
    gens = []
    start = time.perf_counter()
    for conv in convs:
        enc = llm.tokenizer(llm.render(conv), return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=params.max_new_tokens,
                do_sample=False,
                pad_token_id=llm.tokenizer.pad_token_id,
            )
        gens.append(
            Generation("", enc["input_ids"].shape[1], out.shape[1] - enc["input_ids"].shape[1])
        )
    result = summarize("naive_fp32_loop", gens, time.perf_counter() - start, len(convs))
    del model
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument(
        "--naive", type=int, default=8, help="questions for the naive fp32 loop (0: skip)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: all cores)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    load_before = os.getloadavg()
    llm = TransformersGenerator("default", batch_size=16, num_threads=args.threads)
    params = GenerationParams(max_new_tokens=args.max_new_tokens)
    convs = rag_prompts(args.questions)
    prompt_lengths = [llm.count_tokens(llm.render(c)) for c in convs]

    model = llm.base_model
    embedding = model.get_input_embeddings().weight.numel()
    n_params = sum(p.numel() for p in model.parameters())  # tied lm_head counted once
    flops_per_token = 2 * (n_params - embedding)
    rows = 16 * round(statistics.mean(prompt_lengths))
    gemm = {"bf16": [gemm_gflops(rows, torch.bfloat16)], "fp32": [gemm_gflops(rows, torch.float32)]}

    llm.generate(convs[:4], GenerationParams(max_new_tokens=4))  # warm-up: oneDNN kernels, caches

    costs = stage_costs(llm, round(statistics.mean(prompt_lengths)))
    print("stage costs:", costs, flush=True)

    runs: dict[str, dict[str, Any]] = {}
    texts: dict[str, list[str]] = {}
    for batch_size in (16, 32):
        llm.batch_size = batch_size
        start = time.perf_counter()
        gens = llm.generate(convs, params)
        runs[f"batched_{batch_size}"] = summarize(
            f"batched_{batch_size}", gens, time.perf_counter() - start, len(convs)
        )
        print(runs[f"batched_{batch_size}"], flush=True)
        texts[f"batched_{batch_size}"] = [g.text for g in gens]
        gemm["bf16"].append(gemm_gflops(rows, torch.bfloat16))

    start, gens = time.perf_counter(), []
    for conv in convs:
        gens.extend(llm.generate([conv], params))
    runs["loop"] = summarize("loop", gens, time.perf_counter() - start, len(convs))
    print(runs["loop"], flush=True)
    texts["loop"] = [g.text for g in gens]
    gemm["bf16"].append(gemm_gflops(rows, torch.bfloat16))

    if args.naive:
        runs["naive_fp32_loop"] = naive_loop(llm, convs[: args.naive], params)
        print(runs["naive_fp32_loop"], flush=True)

    best_gemm = max(gemm["bf16"] if llm.dtype == torch.bfloat16 else gemm["fp32"])
    ceiling = best_gemm * 1e9 / flops_per_token
    best = max((runs["batched_16"], runs["batched_32"]), key=lambda r: r["questions_per_s"])
    for run in runs.values():
        run["fraction_of_ceiling"] = round(run["tokens_per_s"] / ceiling, 3)
    # FLOPs actually done: prompt tokens run the non-embedding matmuls (the LM head only
    # for the last one) and attend to ~half the prompt on average; generated tokens run
    # every matmul including the LM head and attend to the whole prompt.
    config = model.config
    mean_prompt = statistics.mean(prompt_lengths)
    for run in runs.values():
        exact = run["prompt_tokens"] * (
            flops_per_token + attention_flops(mean_prompt / 2, config)
        ) + run["completion_tokens"] * (2 * n_params + attention_flops(mean_prompt, config))
        run["fraction_of_gemm_exact_flops"] = round(exact / run["seconds"] / (best_gemm * 1e9), 3)
        run["fraction_of_issue_ceiling"] = round(
            run["tokens_per_s"] * 2 * n_params / (best_gemm * 1e9), 3
        )
    new_tokens = runs["loop"]["completion_tokens"] / runs["loop"]["questions"]
    loop_s = costs["prefill_ms_per_prompt_b1"] + new_tokens * costs["decode_ms_per_step_b1"]
    batch_s = costs["prefill_ms_per_prompt_b16"] + new_tokens * costs["decode_ms_per_step_b16"] / 16
    ratios = {
        "best_batched": best["name"],
        "speedup_predicted_from_stage_costs": round(loop_s / batch_s, 2),
        "speedup_bound_if_decoding_were_free": round(
            loop_s / costs["prefill_ms_per_prompt_b16"], 2
        ),
        "speedup_vs_loop": round(best["questions_per_s"] / runs["loop"]["questions_per_s"], 2),
        "fraction_of_ceiling": best["fraction_of_ceiling"],
        "fraction_of_gemm_exact_flops": best["fraction_of_gemm_exact_flops"],
        "fraction_of_issue_ceiling": best["fraction_of_issue_ceiling"],
    }
    if "naive_fp32_loop" in runs:
        ratios["speedup_vs_naive_fp32_loop"] = round(
            best["questions_per_s"] / runs["naive_fp32_loop"]["questions_per_s"], 2
        )
    result = {
        "benchmark": "generate_throughput",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "bf16_faster_than_fp32": cpu_bf16_is_fast(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        "model": {
            "name": llm.name,
            "dtype": str(llm.dtype).removeprefix("torch."),
            "params": n_params,
            "params_non_embedding": n_params - embedding,
            "flops_per_token": flops_per_token,
        },
        "gemm": {
            "shape": [rows, 576, 1536],
            "gflops_bf16": [round(x, 1) for x in gemm["bf16"]],
            "gflops_fp32": [round(x, 1) for x in gemm["fp32"]],
            "ceiling_tokens_per_s": round(ceiling, 1),
        },
        "workload": {
            "questions": len(convs),
            "prompt_tokens_mean": round(statistics.mean(prompt_lengths), 1),
            "prompt_tokens_range": [min(prompt_lengths), max(prompt_lengths)],
            "max_new_tokens": args.max_new_tokens,
            "greedy": True,
        },
        "stage_costs": costs,
        "runs": runs,
        "ratios": ratios,
        "goals": {
            "speedup_vs_loop_at_least_5x": ratios["speedup_vs_loop"] >= 5,
            "tokens_per_s_at_least_40pct_of_ceiling": ratios["fraction_of_ceiling"] >= 0.4,
        },
        "batched_equals_loop_text": round(
            sum(a == b for a, b in zip(texts[best["name"]], texts["loop"], strict=True))
            / len(convs),
            3,
        ),
        "sample_answer": texts["loop"][0],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    print(
        f"ceiling: {best_gemm:.0f} GFLOP/s / {flops_per_token / 1e6:.0f} MFLOP/token = {ceiling:.0f} tok/s"
    )
    print(f"{'run':<18}{'questions':>10}{'seconds':>10}{'q/s':>8}{'tok/s':>9}{'of ceiling':>12}")
    for run in runs.values():
        print(
            f"{run['name']:<18}{run['questions']:>10}{run['seconds']:>10.1f}{run['questions_per_s']:>8.2f}"
            f"{run['tokens_per_s']:>9.0f}{run['fraction_of_ceiling']:>12.0%}"
        )
    print(
        json.dumps(ratios),
        f"\nload average before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
