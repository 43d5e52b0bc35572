"""``ragtune tune`` and ``ragtune adapters list``: fine-tune, resume, merge, inspect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ragtune.cli.common import (
    JsonOption,
    ProjectOption,
    SetOption,
    command_progress,
    console,
    open_project,
    print_json,
)

adapters_app = typer.Typer(help="Fine-tuned adapters of the project.", no_args_is_help=True)


def tune(
    mode: str = typer.Option(
        "qa", "--mode", help="qa (ft, ft+rag arms), raft (raft arm) or continued (raw documents)."
    ),
    method: str = typer.Option(None, "--method", help="lora or full (tune.method)."),
    epochs: float = typer.Option(None, "--epochs", help="Passes over the data (tune.epochs)."),
    learning_rate: float = typer.Option(
        None, "--lr", help="Peak learning rate (tune.learning_rate)."
    ),
    save_steps: int = typer.Option(
        None, "--save-steps", help="Checkpoint every N steps (tune.save_steps)."
    ),
    max_steps: int = typer.Option(
        None, "--max-steps", help="Stop after N optimizer steps (overrides epochs)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue a killed run from its last complete checkpoint."
    ),
    merge: bool = typer.Option(
        False, "--merge", help="Also write base+adapter as one HF model folder (<mode>-merged)."
    ),
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Fine-tune the base model (LoRA by default) on the synthesized data; writes .ragtune/adapters/<mode>/.

    Under `accelerate launch` every process trains; only rank 0 writes and prints.
    """
    from ragtune.tune import merge_adapter, train
    from ragtune.tune.distributed import World

    proj = open_project(project, overrides)
    values: dict[str, Any] = {
        "method": method,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "save_steps": save_steps,
    }
    changes = {k: v for k, v in values.items() if v is not None}
    with command_progress(json_output) as progress:
        manifest = train(
            proj, mode, resume=resume, progress=progress, max_steps=max_steps, **changes
        )
    if not World.from_env().is_main:
        return  # rank 0 has written the adapter and says so
    merged = merge_adapter(proj, mode) if merge else None
    if merged is not None:
        manifest.merged_path = str(merged)
    if json_output:
        print_json(manifest.to_dict())
        return
    processes = int(manifest.hyperparameters.get("world_size", 1))
    on_processes = f" on {processes} processes" if processes > 1 else ""
    console.print(
        f"[green]Trained[/] {manifest.mode} ({manifest.method}){on_processes} in {manifest.train_seconds:.0f}s "
        f"({manifest.cpu_seconds:.0f} CPU s): {manifest.steps} steps, {manifest.tokens_seen:,} tokens "
        f"({manifest.tokens_per_second:,.0f}/s), final loss {manifest.final_loss:.4f}, "
        f"peak memory {manifest.peak_rss_mb:,.0f} MiB"
    )
    console.print(f"Adapter: {manifest.path}" + (f"\nMerged model: {merged}" if merged else ""))
    from ragtune.registry import arms

    arm = arms.arm_for_adapter(mode)
    if arm:
        console.print(f'Try it: [bold]ragtune ask --arm {arm} "..."[/]')


@adapters_app.command("list")
def adapters_list(project: Path = ProjectOption, json_output: bool = JsonOption) -> None:
    """The project's adapters with steps, tokens, cost and final loss."""
    from ragtune.tune import list_adapters

    proj = open_project(project, None)
    manifests = list_adapters(proj.adapters_dir)
    if json_output:
        print_json([m.to_dict() for m in manifests])
        return
    if not manifests:
        console.print("No adapters yet; run: ragtune synth && ragtune tune --mode qa")
        return
    table = Table(
        "name", "method", "steps", "tokens", "train s", "CPU s", "peak MiB", "final loss", "created"
    )
    for m in manifests:
        table.add_row(
            m.mode,
            m.method,
            str(m.steps),
            f"{m.tokens_seen:,}",
            f"{m.train_seconds:.0f}",
            f"{m.cpu_seconds:.0f}",
            f"{m.peak_rss_mb:,.0f}",
            "-" if m.final_loss is None else f"{m.final_loss:.4f}",
            m.created_at,
        )
    console.print(table)
