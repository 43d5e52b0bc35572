"""``train``: one TRL ``SFTTrainer`` run (LoRA or full) for a mode, measured and resumable.

What TRL and PEFT do here: chat templating, completion-only loss, best-fit-decreasing
packing into padding-free batches, the optimizer loop, checkpoints, LoRA. What ragtune
owns: choosing shapes and precision for the machine, the data each arm needs, a packing
length that never cuts an answer off, resume from the last *complete* checkpoint, the
measured cost, the progress bar, and an atomic write of the adapter where the arms
look for it (``.ragtune/adapters/<mode>/``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune._compat import quiet_upstream_deprecations
from ragtune._lazy import require
from ragtune.errors import ConfigError, DataError
from ragtune.machine import machine_info, package_versions
from ragtune.progress import Progress
from ragtune.tune.data import MODES, TrainingData, load_training_data
from ragtune.tune.distributed import (
    World,
    die_with_launcher,
    distributed_type,
    downgrade_note,
    require_agreement,
)
from ragtune.tune.manifest import CHECKPOINTS_DIR, AdapterManifest
from ragtune.tune.sft import batch_shape, build_sft_config, cpu_sft_trainer, token_lengths, use_bf16

if TYPE_CHECKING:
    from ragtune.config import TuneConfig
    from ragtune.project import Project

#: The packages whose versions an adapter manifest records.
TRAINING_PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate")


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


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Replace ``target`` with ``tmp`` so readers see the old or the new adapter, never half."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


# -- the phases of one run ---------------------------------------------------------------
@dataclass
class LoadedModel:
    """The base model and tokenizer a run starts from, loaded in the run's precision."""

    path: Path
    tokenizer: Any
    model: Any
    bf16: bool
    context_window: int


@dataclass
class BatchPlan:
    """How the examples go through the model: see :func:`batch_shape`."""

    sequence_length: int
    rows_per_forward: int
    accumulation_steps: int
    longest_example_tokens: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.sequence_length, self.rows_per_forward, self.accumulation_steps)


@dataclass
class Checkpoints:
    """Where a mode's checkpoints live, and the one this run resumes from (if any)."""

    folder: Path
    resume_from: Path | None


@dataclass
class FinishedTraining:
    """A trainer after ``train()``, with the cost its meter measured."""

    trainer: Any
    meter: Any  # ragtune.tune.callbacks.CostMeter (imports transformers)
    training_loss: float


def resolve_tune_config(tune: TuneConfig, overrides: dict[str, Any]) -> TuneConfig:
    """``tune`` with ``overrides`` applied and validated; a bad one is a ``ConfigError``
    naming ``tune.<field>``."""
    if not overrides:
        return tune
    from pydantic import ValidationError

    try:
        return type(tune).model_validate({**tune.model_dump(), **overrides})
    except ValidationError as exc:
        problems = "; ".join(
            f"tune.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(problems) from None


def _set_up_libraries(world: World) -> None:
    """Fail early if a training library is missing; on a CPU run the machine's cores
    shared among its training processes; no library progress bars (ragtune draws its own)."""
    torch = require("torch", "train")
    require("trl", "train")
    die_with_launcher()
    if not torch.cuda.is_available():
        torch.set_num_threads(world.threads_per_process())
    require("datasets", "train").disable_progress_bars()
    require("transformers", "train").utils.logging.disable_progress_bar()


def load_base_model(model_name: str, tune: TuneConfig) -> LoadedModel:
    """The tokenizer (with a pad token) and the model for ``tune.method``, in its dtype."""
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    from ragtune.llm.gguf import resolve_model_path

    path = resolve_model_path(model_name)
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    bf16 = use_bf16(tune.bf16)
    # Frozen LoRA base weights can live in bf16 (half the memory traffic); trained weights
    # stay fp32 masters under bf16 autocast.
    lora = tune.method == "lora"
    attention: dict[str, str] = {}
    if tune.packing and not torch.cuda.is_available():
        # Padding-free rows on CPU: each packed example attends over its own tokens.
        from ragtune.tune import packed_attention

        attention["attn_implementation"] = packed_attention.register()
    model = transformers.AutoModelForCausalLM.from_pretrained(
        path, dtype=torch.bfloat16 if (bf16 and lora) else torch.float32, **attention
    )
    context_window = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
    return LoadedModel(Path(path), tokenizer, model, bf16, context_window)


def plan_batches(tune: TuneConfig, data: TrainingData, base: LoadedModel) -> BatchPlan:
    """The batch plan for ``data``; drops (from ``data.rows``) QA examples too long for the
    model's window, and raises ``DataError`` if none is left."""
    lengths = token_lengths(base.tokenizer, data)
    lm_mode = data.kind == "language-modeling"
    shape = batch_shape(
        tune, lengths if not lm_mode else [tune.max_seq_tokens], base.context_window
    )
    length = shape[0]
    if not lm_mode and max(lengths) >= length:
        keep = [i for i, n in enumerate(lengths) if n < length]
        if not keep:
            raise DataError(
                f"every {data.mode} example is longer than the model's window "
                f"({base.context_window} tokens)"
            )
        data.rows = [data.rows[i] for i in keep]
        lengths = [lengths[i] for i in keep]
    return BatchPlan(*shape, longest_example_tokens=max(lengths))


def prepare_checkpoints(
    adapters_dir: Path, mode: str, resume: bool, progress: Progress
) -> Checkpoints:
    """The checkpoint folder for ``mode``: kept and resumed from with ``resume``, else emptied."""
    folder = adapters_dir / CHECKPOINTS_DIR / mode
    resume_from = last_complete_checkpoint(folder) if resume else None
    if resume and resume_from is None:
        progress.log(f"no complete checkpoint in {folder}; starting from step 0")
    if resume_from is None and World.from_env().is_main:
        shutil.rmtree(folder, ignore_errors=True)  # a fresh run never resumes stale state
    folder.mkdir(parents=True, exist_ok=True)
    return Checkpoints(folder, resume_from)


def lora_config(tune: TuneConfig) -> Any:
    """PEFT's ``LoraConfig`` for ``tune`` (``None`` for full fine-tuning)."""
    if tune.method != "lora":
        return None
    peft = require("peft", "train")
    return peft.LoraConfig(
        r=tune.lora_rank,
        lora_alpha=tune.lora_alpha,
        lora_dropout=tune.lora_dropout,
        target_modules=list(tune.lora_targets),
        bias="none",
        task_type="CAUSAL_LM",
    )


def run_training(
    tune: TuneConfig,
    data: TrainingData,
    base: LoadedModel,
    plan: BatchPlan,
    checkpoints: Checkpoints,
    progress: Progress,
    max_steps: int | None,
    callbacks: Sequence[Any],
) -> FinishedTraining:
    """Build the ``SFTTrainer`` with ragtune's callbacks and train (resuming if planned)."""
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    trl = require("trl", "train")
    datasets = require("datasets", "train")
    from ragtune.tune.callbacks import CostMeter, ProgressCallback

    lm_mode = data.kind == "language-modeling"
    args = build_sft_config(tune, checkpoints.folder, plan.shape, base.bf16, lm_mode, max_steps)
    trainer_class = trl.SFTTrainer if torch.cuda.is_available() else cpu_sft_trainer()
    resume_from = checkpoints.resume_from
    if args.world_size > 1:  # reading world_size starts the process group
        require_agreement(
            resume_from.name if resume_from else None,
            "the checkpoint to resume from",
            "every node must see the same project folder (a shared filesystem)",
        )
    with quiet_upstream_deprecations():
        trainer = trainer_class(
            model=base.model,
            args=args,
            train_dataset=datasets.Dataset.from_list(data.rows),
            processing_class=base.tokenizer,
            peft_config=lora_config(tune),
        )
        # The progress bar and the manifest say it all.
        trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        note = downgrade_note(
            os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true",
            distributed_type(trainer.accelerator),
        )
        if note:
            progress.log(note)
        meter = CostMeter.resume_from(resume_from)
        epoch_tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"])
        total_tokens = None if max_steps else int(epoch_tokens * tune.epochs)
        for callback in (meter, ProgressCallback(progress, total_tokens, data.mode), *callbacks):
            trainer.add_callback(callback)
        result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    return FinishedTraining(trainer, meter, float(result.training_loss))


def build_manifest(
    tune: TuneConfig,
    data: TrainingData,
    base: LoadedModel,
    plan: BatchPlan,
    done: FinishedTraining,
    target: Path,
    max_steps: int | None,
    totals: dict[str, Any],
) -> AdapterManifest:
    """The measured manifest of a finished run; ``totals`` is the meter's
    :meth:`~ragtune.tune.callbacks.CostMeter.totals` (over every process)."""
    torch = require("torch", "train")
    state = done.trainer.state
    losses = list(totals["loss_history"])
    cuda = torch.cuda.is_available()
    return AdapterManifest(
        mode=data.mode,
        method=tune.method,
        base_model=str(base.path),
        path=str(target),
        steps=int(state.global_step),
        epochs=float(tune.epochs),
        examples=len(data.rows),
        tokens_seen=int(state.num_input_tokens_seen),
        train_seconds=totals["train_seconds"],
        cpu_seconds=totals["cpu_seconds"],
        peak_rss_mb=totals["peak_rss_mb"],
        final_loss=losses[-1][1] if losses else done.training_loss,
        hyperparameters={
            **tune.model_dump(),
            "max_steps": max_steps,
            "planned_steps": int(state.max_steps),
            "sequence_length": plan.sequence_length,
            "rows_per_forward": plan.rows_per_forward,
            "accumulation_steps": plan.accumulation_steps,
            "bf16_effective": base.bf16,
            "device": "cuda" if cuda else "cpu",
            "threads": torch.get_num_threads(),
            "world_size": int(done.trainer.args.world_size),
            # NO, MULTI_CPU, MULTI_GPU, FSDP, DEEPSPEED (accelerate's names) and the
            # torch.distributed backend (gloo, nccl; None in one process).
            "distributed_type": distributed_type(done.trainer.accelerator),
            "distributed_backend": done.trainer.accelerator.state.backend,
            "longest_example_tokens": plan.longest_example_tokens,
        },
        data={"file": data.source, "kind": data.kind, "manifest": data.data_manifest},
        sessions=totals["sessions"],
        loss_history=losses,
        peak_gpu_mb=round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None,
        tokens_per_second=round(
            state.num_input_tokens_seen / max(1e-9, totals["train_seconds"]), 1
        ),
        versions={k: v or "?" for k, v in package_versions(TRAINING_PACKAGES).items()},
        machine=machine_info(),
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def save_adapter(
    tune: TuneConfig,
    data: TrainingData,
    base: LoadedModel,
    plan: BatchPlan,
    done: FinishedTraining,
    target: Path,
    max_steps: int | None,
) -> AdapterManifest:
    """Write the adapter (or full model), its tokenizer and manifest to ``target`` atomically.

    Every rank takes part in saving (FSDP gathers the shards) and in measuring the cost;
    only rank 0 writes, and the other ranks return a manifest of how far they got.
    """
    trainer = done.trainer
    main = trainer.is_world_process_zero()
    tmp = target.parent / f".{target.name}.tmp"
    if main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(tmp))
    totals = done.meter.totals()  # a collective: before the ranks part ways
    if not main:
        return AdapterManifest(
            data.mode,
            tune.method,
            str(base.path),
            str(target),
            steps=int(trainer.state.global_step),
            epochs=tune.epochs,
            examples=len(data.rows),
            tokens_seen=int(trainer.state.num_input_tokens_seen),
        )
    base.tokenizer.save_pretrained(str(tmp))
    manifest = build_manifest(tune, data, base, plan, done, target, max_steps, totals)
    manifest.write(tmp)
    _swap_into_place(tmp, target)
    return manifest


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
    objects handed to the trainer (timers, loggers). The project only supplies the
    inputs of :func:`fit`, which does the work.

    Under ``accelerate launch`` every process calls it (``configs/accelerate/``); rank 0
    writes the folder and returns the full manifest, the other ranks one with the steps.

    >>> from ragtune import Project
    >>> from ragtune.tune import train
    >>> m = train(Project.open("acme-kb"), "qa", epochs=3)     # doctest: +SKIP
    >>> m.steps, m.tokens_seen, m.train_seconds, m.final_loss   # doctest: +SKIP
    (57, 58112, 301.4, 0.38)
    """
    if mode not in MODES:
        raise ConfigError(f"unknown tuning mode {mode!r}; choose one of: {', '.join(MODES)}")
    tune = resolve_tune_config(project.config.tune, overrides)  # a bad override fails first
    return fit(
        load_training_data(project, mode),
        project.config.llm.model,
        tune,
        project.adapters_dir,
        resume=resume,
        progress=progress,
        max_steps=max_steps,
        callbacks=callbacks,
    )


def fit(
    data: TrainingData,
    base_model: str,
    tune: TuneConfig,
    adapters_dir: Path,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    max_steps: int | None = None,
    callbacks: Sequence[Any] = (),
) -> AdapterManifest:
    """Fine-tune ``base_model`` (``"default"``, an HF id or folder, a ``.gguf``) on
    ``data`` with ``tune``; the adapter goes to ``adapters_dir/<data.mode>/``. No project
    needed, as with trl's ``SFTTrainer(model, args, train_dataset)``::

        data = TrainingData.from_examples(examples)       # closed-book QA rows
        manifest = fit(data, "default", TuneConfig(epochs=3), Path("adapters"))
    """
    world = World.from_env()
    # One progress display and one set of log lines, from rank 0.
    progress = (progress or Progress()) if world.is_main else Progress()
    _set_up_libraries(world)
    base = load_base_model(base_model, tune)
    plan = plan_batches(tune, data, base)
    checkpoints = prepare_checkpoints(adapters_dir, data.mode, resume, progress)
    done = run_training(tune, data, base, plan, checkpoints, progress, max_steps, callbacks)
    manifest = save_adapter(tune, data, base, plan, done, adapters_dir / data.mode, max_steps)
    if done.trainer.is_world_process_zero():
        # The run finished: its checkpoints are spent.
        shutil.rmtree(checkpoints.folder, ignore_errors=True)
    return manifest
