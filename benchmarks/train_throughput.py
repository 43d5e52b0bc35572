"""Training throughput: ragtune's ``train`` against a plain TRL ``SFTTrainer`` on the same data.

Both train LoRA (rank 16, all linear projections) on the default SmolLM2-135M-Instruct
over the same 300 closed-book QA rows of the demo domain, in the same process, one
after the other (alternating for ``--rounds`` > 1), because other jobs share this
machine's cores and an absolute figure alone would mislead:

- ``plain``: ``SFTTrainer(model=path, args=SFTConfig(...defaults...), peft_config=lora)``
  on the ``{"messages": [...]}`` rows: padded batches of 8, fp32 weights under bf16
  autocast, gradient checkpointing on (TRL's defaults).
- ``ragtune``: ``ragtune.tune.train(project, "qa")``: prompt-completion rows,
  best-fit-decreasing packing into padding-free rows, bf16 frozen base weights,
  no gradient checkpointing, 16 examples per step.

Tokens are the real (non-padding) tokens of the batches; seconds are wall seconds from
the end of the first ``--warmup`` steps to the end of the last, timed by the same trainer
callback on both sides. FLOPs: LoRA training costs ~4 x P x tokens (forward 2P,
backward through the activations 2P; the frozen weights get no gradients; LoRA's own
matrices add <1%); attention-score FLOPs are left out. P = every base parameter
(134.5M; the tied embedding counts once, as the LM head's matmul). The share is of
the 380 GFLOP/s bf16 GEMM ceiling of this 2-core machine, and of a bf16 GEMM measured
in the same run (what the cores gave us while shared).

    python benchmarks/train_throughput.py                 # writes benchmarks/results/train_throughput.json
    python benchmarks/train_throughput.py --steps 7 --rounds 2
    python benchmarks/train_throughput.py --full-run      # also times the whole 300 x 3 run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CEILING_GFLOPS = 380.0
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def gemm_gflops(torch: Any, seconds: float = 3.0) -> float:
    a, b = (
        torch.randn(1024, 576, dtype=torch.bfloat16),
        torch.randn(576, 1536, dtype=torch.bfloat16),
    )
    for _ in range(3):
        a @ b
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
    return 2 * 1024 * 576 * 1536 * n / (time.perf_counter() - start) / 1e9


def qa_rows(n: int) -> list[dict[str, Any]]:
    from ragtune.demo import load_qa, write_demo_corpus
    from ragtune.synth.files import qa_chat_row

    out = Path(tempfile.mkdtemp()) / "demo"
    write_demo_corpus(out, version=1, seed=0)
    return [qa_chat_row(row) for row in load_qa(out / "qa.jsonl")[:n]]


def step_timer(warmup: int) -> Any:
    """A trainer callback timing the steps after the first ``warmup`` (kernel set-up,
    first allocations), with the tokens those steps saw; the same for both sides."""
    import transformers

    class StepTimer(transformers.TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.marks: list[tuple[float, float, int]] = []

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            mark = (time.perf_counter(), time.process_time(), int(state.num_input_tokens_seen))
            self.marks.append(mark)

        def window(self) -> dict[str, Any]:
            if len(self.marks) <= warmup:
                raise SystemExit(f"need more than {warmup} steps to time (got {len(self.marks)})")
            (t0, c0, n0), (t1, c1, n1) = self.marks[warmup - 1], self.marks[-1]
            return {
                "steps_timed": len(self.marks) - warmup,
                "tokens": n1 - n0,
                "seconds": round(t1 - t0, 3),
                "cpu_seconds": round(c1 - c0, 3),
            }

    return StepTimer()


def run_plain(
    rows: list[dict[str, Any]], steps: int, warmup: int, model_path: str
) -> dict[str, Any]:
    import datasets
    import peft
    import trl

    args = trl.SFTConfig(
        output_dir=tempfile.mkdtemp(),
        max_steps=steps,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        include_num_input_tokens_seen="non_padding",
        use_cpu=True,  # required on CPU with bf16
    )
    lora = peft.LoraConfig(r=16, lora_alpha=32, target_modules=TARGETS, task_type="CAUSAL_LM")
    trainer = trl.SFTTrainer(
        model=model_path,
        args=args,
        train_dataset=datasets.Dataset.from_list(rows),
        peft_config=lora,
    )
    timer = step_timer(warmup)
    trainer.add_callback(timer)
    trainer.train()
    return {
        "config": "plain SFTTrainer defaults (batch 8, padded, gradient checkpointing, fp32 weights + bf16 autocast; use_cpu=True)",
        "steps": steps,
        **timer.window(),
    }


def run_ragtune(rows: list[dict[str, Any]], steps: int, warmup: int) -> dict[str, Any]:
    from ragtune.project import Project
    from ragtune.synth.files import QA_SFT, write_jsonl
    from ragtune.tune import train

    project = Project.init(Path(tempfile.mkdtemp()) / "p", {"embed": {"backend": "hash"}})
    write_jsonl(project.data_dir / QA_SFT, rows)
    timer = step_timer(warmup)
    manifest = train(project, "qa", max_steps=steps, save_steps=10_000, callbacks=[timer])
    return {
        "config": "ragtune.tune.train qa (bfd packing, padding-free, bf16 base, 16 examples/step, LoRA r16)",
        "steps": manifest.steps,
        **timer.window(),
        "sequence_length": manifest.hyperparameters["sequence_length"],
        "accumulation_steps": manifest.hyperparameters["accumulation_steps"],
    }


def run_full(rows: list[dict[str, Any]], epochs: float) -> dict[str, Any]:
    """The whole ``qa`` run as ``ragtune tune`` does it: every row, every epoch."""
    from ragtune.project import Project
    from ragtune.synth.files import QA_SFT, write_jsonl
    from ragtune.tune import train

    project = Project.init(Path(tempfile.mkdtemp()) / "p", {"embed": {"backend": "hash"}})
    write_jsonl(project.data_dir / QA_SFT, rows)
    started = time.perf_counter()
    manifest = train(project, "qa", epochs=epochs)
    return {
        "examples": len(rows),
        "epochs": epochs,
        "steps": manifest.steps,
        "tokens": manifest.tokens_seen,
        "train_seconds": manifest.train_seconds,
        "wall_seconds_with_model_load": round(time.perf_counter() - started, 1),
        "final_loss": manifest.final_loss,
        "cpu_seconds": manifest.cpu_seconds,
        "peak_rss_mb": manifest.peak_rss_mb,
        "loadavg": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument(
        "--steps", type=int, default=7, help="optimizer steps run per configuration"
    )
    parser.add_argument("--warmup", type=int, default=1, help="first steps left out of the timing")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--full-run",
        action="store_true",
        help="also run the whole qa training (examples x epochs) and time it",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "train_throughput.json"
    )
    args = parser.parse_args(argv)

    import torch
    import transformers

    from ragtune.llm.gguf import resolve_default_model

    torch.set_num_threads(os.cpu_count() or 1)
    transformers.utils.logging.set_verbosity_error()
    model_path = str(resolve_default_model())
    rows = qa_rows(args.examples)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_path)
    encoded = [tokenizer.apply_chat_template(r["messages"], tokenize=True) for r in rows]
    data_tokens = sum(len(e["input_ids"] if hasattr(e, "keys") else e) for e in encoded)
    params = sum(
        p.numel()
        for p in transformers.AutoModelForCausalLM.from_pretrained(model_path).parameters()
    )

    runs: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    for round_number in range(args.rounds):
        for name in ("plain", "ragtune"):
            gemm = gemm_gflops(torch)
            result = (
                run_plain(rows, args.steps, args.warmup, model_path)
                if name == "plain"
                else run_ragtune(rows, args.steps, args.warmup)
            )
            tps = result["tokens"] / result["seconds"]
            flops = 4 * params * tps
            result.update(
                name=name,
                round=round_number,
                tokens_per_second=round(tps, 2),
                tokens_per_cpu_second=round(result["tokens"] / result["cpu_seconds"], 2),
                gemm_gflops_measured=round(gemm, 1),
                training_gflops=round(flops / 1e9, 2),
                share_of_ceiling=round(flops / 1e9 / CEILING_GFLOPS, 4),
                share_of_measured_gemm=round(flops / 1e9 / gemm, 4),
                loadavg=os.getloadavg()[0],
            )
            runs.append(result)
            print(json.dumps(result), flush=True)

    def mean(name: str, key: str) -> float:
        values = [r[key] for r in runs if r["name"] == name]
        return sum(values) / len(values)

    total_tokens = data_tokens * args.epochs
    summary = {
        "ratio_tokens_per_second": round(
            mean("ragtune", "tokens_per_second") / mean("plain", "tokens_per_second"), 2
        ),
        "ratio_tokens_per_cpu_second": round(
            mean("ragtune", "tokens_per_cpu_second") / mean("plain", "tokens_per_cpu_second"), 2
        ),
        "qa_run_tokens": int(total_tokens),
        "qa_run_projected_minutes": round(
            total_tokens / mean("ragtune", "tokens_per_second") / 60, 1
        ),
        "qa_run_projected_minutes_at_2_idle_cores": round(
            total_tokens / (mean("ragtune", "tokens_per_cpu_second") * 2) / 60, 1
        ),
    }
    if args.full_run:
        summary["qa_run_measured"] = run_full(rows, args.epochs)
        print(json.dumps(summary["qa_run_measured"]), flush=True)
    report = {
        "benchmark": "train_throughput",
        "what": f"LoRA SFT, {args.examples} demo QA rows, {data_tokens} tokens per epoch, {args.epochs} epochs",
        "flops_formula": "LoRA: 4 x params x tokens (fwd 2P + activation grads 2P; no frozen-weight grads). "
        "Full FT would be 6 x params x tokens. Attention scores excluded.",
        "params": params,
        "ceiling_gflops": CEILING_GFLOPS,
        "runs": runs,
        "summary": summary,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
