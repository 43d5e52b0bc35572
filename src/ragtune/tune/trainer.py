"""``train``: one TRL ``SFTTrainer`` run (LoRA or full) for a mode, measured and resumable.

What TRL and PEFT do here: chat templating, completion-only loss, best-fit-decreasing
packing into padding-free batches, the optimizer loop, checkpoints, LoRA. What ragtune
owns: choosing shapes and precision for the machine, the data each arm needs, a packing
length that never cuts an answer off, resume from the last *complete* checkpoint, the
measured cost, the progress bar, and an atomic write of the adapter where the arms
look for it (``.ragtune/adapters/<mode>/``).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune._compat import quiet_upstream_deprecations
from ragtune._lazy import require
from ragtune.errors import ConfigError, DataError
from ragtune.progress import Progress
from ragtune.tune.data import MODES, TrainingData, load_training_data
from ragtune.tune.manifest import CHECKPOINTS_DIR, AdapterManifest

if TYPE_CHECKING:
    from ragtune.config import TuneConfig
    from ragtune.project import Project


def use_bf16(setting: str) -> bool:
    """``tune.bf16``: "true", "false", or "auto" (GPUs that support it; CPUs with fast bf16)."""
    if setting in ("true", "false"):
        return setting == "true"
    torch = require("torch", "train")
    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    from ragtune.llm.transformers import cpu_bf16_is_fast

    return cpu_bf16_is_fast()


def last_complete_checkpoint(folder: Path) -> Path | None:
    """The newest ``checkpoint-N`` that was fully written (it holds our cost file,
    which is written after the trainer finished saving it)."""
    from ragtune.tune.callbacks import COST_FILE

    if not folder.is_dir():
        return None
    done = [
        p
        for p in folder.glob("checkpoint-*")
        if (p / COST_FILE).is_file() and (p / "trainer_state.json").is_file()
    ]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _token_lengths(tokenizer: Any, data: TrainingData) -> list[int]:
    if data.kind == "language-modeling":
        return [len(ids) for ids in tokenizer([r["text"] for r in data.rows])["input_ids"]]
    lengths = []
    for row in data.rows:
        ids = tokenizer.apply_chat_template([*row["prompt"], *row["completion"]], tokenize=True)
        lengths.append(
            len(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
        )
    return lengths


def batch_shape(tune: TuneConfig, lengths: list[int], context_window: int) -> tuple[int, int, int]:
    """``(sequence length, rows per device step, accumulation steps)`` for ``tune.batch_size``
    examples per optimizer step.

    Packed (padding-free) rows are concatenated into one sequence whose attention mask is
    block-diagonal but dense, so its cost grows with the square of its length: one packed
    row of at most ``max_seq_tokens`` per forward, and gradient accumulation for the rest.
    The length is raised (to a multiple of 64) to hold the longest example, so best-fit
    packing never truncates an answer away. Without packing: padded batches as given.

    >>> from ragtune.config import TuneConfig
    >>> batch_shape(TuneConfig(batch_size=16, max_seq_tokens=1024), [60] * 300, 8192)
    (960, 1, 1)
    >>> batch_shape(TuneConfig(batch_size=16, max_seq_tokens=1024), [700] * 300, 8192)
    (1024, 1, 11)
    """
    longest = max(lengths)
    floor = -(-(longest + 1) // 64) * 64
    if not tune.packing:
        return (
            min(max(tune.max_seq_tokens, floor), context_window),
            tune.batch_size,
            tune.gradient_accumulation_steps,
        )
    per_step = tune.batch_size * sum(lengths) / len(lengths)
    length = min(max(floor, min(tune.max_seq_tokens, -(-int(per_step) // 64) * 64)), context_window)
    accumulate = max(1, round(per_step / length)) * tune.gradient_accumulation_steps
    return length, 1, accumulate


def build_sft_config(
    tune: TuneConfig,
    output_dir: Path,
    shape: tuple[int, int, int],
    bf16: bool,
    lm_mode: bool,
    max_steps: int | None,
) -> Any:
    trl = require("trl", "train")
    torch = require("torch", "train")
    # transformers 5 renamed gradient checkpointing and warns on the old name.
    fields = {f.name for f in dataclasses.fields(trl.SFTConfig)}
    checkpointing = (
        "activation_checkpointing"
        if "activation_checkpointing" in fields
        else "gradient_checkpointing"
    )
    return trl.SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=tune.epochs,
        max_steps=max_steps if max_steps else -1,
        learning_rate=tune.learning_rate,
        lr_scheduler_type=tune.lr_scheduler,
        warmup_steps=tune.warmup_ratio,  # a float below 1 is a share of the steps
        weight_decay=0.0,
        per_device_train_batch_size=shape[1],
        gradient_accumulation_steps=shape[2],
        max_length=shape[0],
        packing=tune.packing,
        # Short QA rows go whole into bins (bfd); documents are cut across bins instead.
        packing_strategy="bfd_split" if lm_mode else "bfd",
        padding_free=tune.packing,
        completion_only_loss=None if lm_mode else True,
        bf16=bf16,
        use_cpu=not torch.cuda.is_available(),
        logging_steps=tune.logging_steps,
        save_strategy="steps",
        save_steps=tune.save_steps,
        save_total_limit=2,
        save_only_model=False,
        report_to="none",
        disable_tqdm=True,
        seed=tune.seed,
        data_seed=tune.seed,
        dataloader_num_workers=0,
        include_num_input_tokens_seen="all" if tune.packing else "non_padding",
        remove_unused_columns=True,
        **{checkpointing: tune.gradient_checkpointing},
    )


def cpu_sft_trainer() -> Any:
    """``SFTTrainer`` with the model's own loss instead of TRL's fused LM-head loss.

    TRL computes the loss through a fused LM head (log-probs over the 49k-token
    vocabulary in fp32 tiles, plus entropy and top-1 metrics). Without Triton that kernel
    runs as a torch fallback: a 16-example step of the demo's QA took 4.7 s with it and
    3.45 s with the model's own cross-entropy over bf16 logits, which trains the same
    loss (the collator already puts -100 on prompts and on every packed-sequence start).
    The price: no entropy / token-accuracy metrics in the log.
    """
    transformers = require("transformers", "train")
    trl = require("trl", "train")

    class CPUSFTTrainer(trl.SFTTrainer):  # type: ignore[name-defined]
        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            inputs["use_cache"] = False
            return transformers.Trainer.compute_loss(
                self,
                model,
                inputs,
                return_outputs=return_outputs,
                num_items_in_batch=num_items_in_batch,
            )

    return CPUSFTTrainer


def _versions() -> dict[str, str]:
    out = {}
    for name in ("torch", "transformers", "trl", "peft", "accelerate"):
        try:
            out[name] = str(require(name, "train").__version__)
        except Exception:  # pragma: no cover - reporting only
            out[name] = "?"
    return out


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Replace ``target`` with ``tmp`` so readers see the old or the new adapter, never half."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def train(
    project: Project,
    mode: str = "qa",
    resume: bool = False,
    progress: Progress | None = None,
    max_steps: int | None = None,
    callbacks: Sequence[Any] = (),
    **overrides: Any,
) -> AdapterManifest:
    """Fine-tune the project's base model for ``mode``; returns the adapter's manifest.

    ``overrides`` replace :class:`~ragtune.config.TuneConfig` fields for this run
    (``epochs=5``, ``method="full"``, ``lora_rank=8`` ...). With ``resume=True`` a run
    that was killed continues from its last complete checkpoint and ends at the same
    step count as an uninterrupted run. The result is written atomically to
    ``.ragtune/adapters/<mode>/``: ``adapter_config.json`` + ``adapter_model.safetensors``
    (PEFT, vLLM ``--lora-modules``) for LoRA, a full HF model folder for ``method="full"``,
    and ``ragtune_manifest.json``. ``callbacks`` are extra ``transformers.TrainerCallback``
    objects handed to the trainer (timers, loggers).

    >>> from ragtune import Project
    >>> from ragtune.tune import train
    >>> m = train(Project.open("acme-kb"), "qa", epochs=3)     # doctest: +SKIP
    >>> m.steps, m.tokens_seen, m.train_seconds, m.final_loss   # doctest: +SKIP
    (57, 58112, 301.4, 0.38)
    """
    if mode not in MODES:
        raise ConfigError(f"unknown tuning mode {mode!r}; choose one of: {', '.join(MODES)}")
    tune = project.config.tune
    if overrides:
        from pydantic import ValidationError

        try:
            tune = type(tune).model_validate({**tune.model_dump(), **overrides})
        except ValidationError as exc:
            problems = "; ".join(
                f"tune.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(problems) from None
    progress = progress or Progress()
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    trl = require("trl", "train")
    datasets = require("datasets", "train")
    from ragtune.llm.gguf import resolve_model_path
    from ragtune.tune.callbacks import CostMeter, ProgressCallback

    if not torch.cuda.is_available():
        torch.set_num_threads(os.cpu_count() or 1)
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    data = load_training_data(project, mode)
    base_path = resolve_model_path(project.config.llm.model)
    tokenizer = transformers.AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    bf16 = use_bf16(tune.bf16)
    lora = tune.method == "lora"
    # Frozen LoRA base weights can live in bf16 (half the memory traffic); trained weights
    # stay fp32 masters under bf16 autocast.
    model = transformers.AutoModelForCausalLM.from_pretrained(
        base_path, dtype=torch.bfloat16 if (bf16 and lora) else torch.float32
    )
    context_window = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
    lengths = _token_lengths(tokenizer, data)
    lm_mode = data.kind == "language-modeling"
    shape = batch_shape(tune, lengths if not lm_mode else [tune.max_seq_tokens], context_window)
    length = shape[0]
    if not lm_mode and max(lengths) >= length:
        keep = [i for i, n in enumerate(lengths) if n < length]
        if not keep:
            raise DataError(
                f"every {mode} example is longer than the model's window ({context_window} tokens)"
            )
        data.rows = [data.rows[i] for i in keep]
        lengths = [lengths[i] for i in keep]

    checkpoints = project.adapters_dir / CHECKPOINTS_DIR / mode
    resume_from = last_complete_checkpoint(checkpoints) if resume else None
    if resume and resume_from is None:
        progress.log(f"no complete checkpoint in {checkpoints}; starting from step 0")
    if resume_from is None and int(os.environ.get("RANK", "0")) == 0:
        shutil.rmtree(checkpoints, ignore_errors=True)  # a fresh run never resumes stale state
    checkpoints.mkdir(parents=True, exist_ok=True)

    peft_config = None
    if lora:
        peft = require("peft", "train")
        peft_config = peft.LoraConfig(
            r=tune.lora_rank,
            lora_alpha=tune.lora_alpha,
            lora_dropout=tune.lora_dropout,
            target_modules=list(tune.lora_targets),
            bias="none",
            task_type="CAUSAL_LM",
        )
    args = build_sft_config(tune, checkpoints, shape, bf16, lm_mode, max_steps)
    dataset = datasets.Dataset.from_list(data.rows)
    trainer_class = trl.SFTTrainer if torch.cuda.is_available() else cpu_sft_trainer()
    with quiet_upstream_deprecations():
        trainer = trainer_class(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
        )
        trainer.remove_callback(
            transformers.trainer_callback.PrinterCallback
        )  # progress and manifest say it all
        meter = CostMeter.resume_from(resume_from)
        epoch_tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"])
        for callback in (
            meter,
            ProgressCallback(
                progress, None if max_steps else int(epoch_tokens * tune.epochs), mode
            ),
            *callbacks,
        ):
            trainer.add_callback(callback)
        result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)

    state = trainer.state
    target = project.adapters_dir / mode
    # Every rank takes part in saving (FSDP gathers the shards); only rank 0 writes.
    main = trainer.is_world_process_zero()
    tmp = target.parent / f".{mode}.tmp"
    if main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(tmp))
    if not main:  # rank 0 measures and writes; the others only report how far they got
        return AdapterManifest(
            mode,
            tune.method,
            str(base_path),
            str(target),
            steps=int(state.global_step),
            epochs=tune.epochs,
            examples=len(data.rows),
            tokens_seen=int(state.num_input_tokens_seen),
        )
    tokenizer.save_pretrained(str(tmp))
    totals = meter.totals()
    losses = list(totals["loss_history"])
    final_loss = losses[-1][1] if losses else float(result.training_loss)
    manifest = AdapterManifest(
        mode=mode,
        method=tune.method,
        base_model=str(base_path),
        path=str(target),
        steps=int(state.global_step),
        epochs=float(tune.epochs),
        examples=len(data.rows),
        tokens_seen=int(state.num_input_tokens_seen),
        train_seconds=totals["train_seconds"],
        cpu_seconds=totals["cpu_seconds"],
        peak_rss_mb=totals["peak_rss_mb"],
        final_loss=final_loss,
        hyperparameters={
            **tune.model_dump(),
            "max_steps": max_steps,
            "planned_steps": int(state.max_steps),
            "sequence_length": length,
            "rows_per_forward": shape[1],
            "accumulation_steps": shape[2],
            "bf16_effective": bf16,
            "device": "cuda" if torch.cuda.is_available() else "cpu",
            "threads": torch.get_num_threads(),
            "world_size": int(trainer.args.world_size),
            "longest_example_tokens": max(lengths),
        },
        data={"file": data.source, "kind": data.kind, "manifest": data.data_manifest},
        sessions=totals["sessions"],
        loss_history=losses,
        peak_gpu_mb=round(torch.cuda.max_memory_allocated() / 2**20, 1)
        if torch.cuda.is_available()
        else None,
        tokens_per_second=round(
            state.num_input_tokens_seen / max(1e-9, totals["train_seconds"]), 1
        ),
        versions=_versions(),
        machine={
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    manifest.write(tmp)
    _swap_into_place(tmp, target)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the run finished: its checkpoints are spent
    return manifest
