"""How a run is handed to TRL: precision, packed batch shapes, ``SFTConfig``, the trainer class.

Pure decisions over a :class:`~ragtune.config.TuneConfig` and the data's token lengths,
kept apart from :func:`ragtune.tune.trainer.train` which runs them::

    >>> from ragtune.config import TuneConfig
    >>> batch_shape(TuneConfig(batch_size=16), [60] * 300, context_window=8192)
    (960, 1, 1)

Importing this module does not import torch; the functions that need it do.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune._lazy import require

if TYPE_CHECKING:
    from ragtune.config import TuneConfig
    from ragtune.tune.data import TrainingData

__all__ = [
    "batch_shape",
    "build_sft_config",
    "completion_cross_entropy",
    "completion_positions",
    "cpu_sft_trainer",
    "token_lengths",
    "use_bf16",
]


def use_bf16(setting: str) -> bool:
    """``tune.bf16``: "true", "false", or "auto" (GPUs that support it; CPUs with fast bf16)."""
    if setting in ("true", "false"):
        return setting == "true"
    torch = require("torch", "train")
    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    from ragtune.llm.transformers import cpu_bf16_is_fast

    return cpu_bf16_is_fast()


def token_lengths(tokenizer: Any, data: TrainingData) -> list[int]:
    """Each row's length in tokens as the trainer will see it (chat template applied)."""
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
    """TRL's ``SFTConfig`` for one run: ``shape`` is :func:`batch_shape`'s triple, ``lm_mode``
    trains on whole documents (loss on every token) instead of QA completions."""
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
        # LoRA and full fine-tuning use every trainable weight in each forward pass: DDP
        # needs no extra traversal of the graph to look for unused ones.
        ddp_find_unused_parameters=False,
        include_num_input_tokens_seen="all" if tune.packing else "non_padding",
        remove_unused_columns=True,
        **{checkpointing: tune.gradient_checkpointing},
    )


def completion_positions(labels: Any) -> Any:
    """The positions whose logits the loss reads: those whose next token is a label
    (in any row of the batch), as a 1-D index for the model's ``logits_to_keep``."""
    return (labels[:, 1:] != -100).any(dim=0).nonzero().flatten()


def completion_cross_entropy(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
    """The causal-LM loss over logits kept at :func:`completion_positions` only.

    The same sum of token cross-entropies over every label, in float32, divided by
    ``num_items_in_batch`` (the labels of the whole accumulated batch) as transformers'
    ``ForCausalLMLoss`` does, or by this batch's labels when the trainer gives none.
    """
    torch = require("torch", "train")
    targets = labels[:, 1:][:, completion_positions(labels)]
    logits = outputs.logits
    total = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]),
        targets.reshape(-1).to(logits.device),
        ignore_index=-100,
        reduction="sum",
    )
    count = num_items_in_batch if num_items_in_batch is not None else (targets != -100).sum()
    if isinstance(count, torch.Tensor):
        count = count.to(total.device)
    return total / count


def cpu_sft_trainer() -> Any:
    """``SFTTrainer`` with a plain cross-entropy over the completion's logits only.

    TRL computes the loss through a fused LM head (log-probs over the 49k-token
    vocabulary in fp32 tiles, plus entropy and top-1 metrics). Without Triton that kernel
    runs as a torch fallback: a 16-example step of the demo's QA took 4.7 s with it and
    3.45 s with the model's own cross-entropy over bf16 logits, which trains the same
    loss (the collator already puts -100 on prompts and on every packed-sequence start).
    The model's own loss still projects every prompt token onto the vocabulary; here the
    LM head runs only where a label is (``logits_to_keep``): a RAFT row is ~90% prompt,
    and the head is a fifth of the model's weights. The price: no entropy /
    token-accuracy metrics in the log.
    """
    trl = require("trl", "train")

    class CPUSFTTrainer(trl.SFTTrainer):  # type: ignore[name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.compute_loss_func = completion_cross_entropy

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            transformers = require("transformers", "train")
            inputs["use_cache"] = False
            inputs["logits_to_keep"] = completion_positions(inputs["labels"])
            return transformers.Trainer.compute_loss(
                self,
                model,
                inputs,
                return_outputs=return_outputs,
                num_items_in_batch=num_items_in_batch,
            )

    return CPUSFTTrainer
