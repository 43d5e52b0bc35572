"""``ragtune serve``: the project's arms over an OpenAI-compatible HTTP API, with a web page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from ragtune.cli.common import ProjectOption, SetOption, console, err_console, open_project
from ragtune.cli.engine import EngineOption, engine_overrides


def serve(
    host: str = typer.Option(
        None, "--host", help="Interface to bind (serve.host; default 127.0.0.1, loopback)."
    ),
    port: int = typer.Option(None, "--port", help="Port (serve.port; default 8000)."),
    allow_unauthenticated_writes: bool = typer.Option(
        False,
        "--allow-unauthenticated-writes",
        help="Without RAGTUNE_API_KEY, allow document writes anyway (loopback hosts only; for local development).",
    ),
    no_warm: bool = typer.Option(
        False, "--no-warm", help="Load the models on the first request, not at startup."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    engine: str = EngineOption,
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
) -> None:
    """Serve the arms (OpenAI-compatible /v1/chat/completions, model = arm), documents, search and a web page.

    Security: with RAGTUNE_API_KEY set, every route but /healthz and the page's static
    files needs 'Authorization: Bearer <key>'. Without it, reads are open and writes
    (document upload and delete) are refused unless --allow-unauthenticated-writes.
    """
    from ragtune.serve.server import check_bind

    extra = {"serve": {k: v for k, v in (("host", host), ("port", port)) if v is not None}}
    proj = open_project(project, overrides, extra)
    # An unsafe bind is refused before a vLLM server is started for nothing.
    api_key = os.environ.get("RAGTUNE_API_KEY") or None
    warnings = check_bind(proj.config.serve.host, api_key, allow_unauthenticated_writes)
    say = lambda message: console.print(message, highlight=False, markup=False)  # noqa: E731
    with engine_overrides(engine, proj, say) as engine_extra:
        if engine_extra:
            proj = open_project(project, overrides, {**extra, **engine_extra})
        for warning in warnings:
            err_console.print(f"[yellow]warning:[/] {warning}")
        _serve(proj, api_key, allow_unauthenticated_writes, no_warm, log_level)


def _serve(
    proj: Any,
    api_key: str | None,
    allow_unauthenticated_writes: bool,
    no_warm: bool,
    log_level: str,
) -> None:
    from ragtune.serve import create_app
    from ragtune.serve.server import run

    settings = proj.config.serve
    app = create_app(
        proj,
        api_key=api_key,
        allow_unauthenticated_writes=allow_unauthenticated_writes,
        warm=not no_warm,
    )
    auth = (
        "API key required"
        if api_key
        else (
            "no API key: writes allowed (dev mode)"
            if allow_unauthenticated_writes
            else "no API key: read-only"
        )
    )
    console.print(
        f"ragtune serving {proj.root} at [bold]http://{settings.host}:{settings.port}/[/] ({auth})"
    )
    run(app, settings.host, settings.port, log_level=log_level)
