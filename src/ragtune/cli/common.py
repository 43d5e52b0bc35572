"""Shared CLI plumbing: project options, config overrides, JSON and table output."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ragtune.errors import ConfigError
from ragtune.progress import RichProgress

console = Console()
# Errors and skipped-file lines carry paths and line numbers that scripts grep for:
# never wrap them at the terminal width.
err_console = Console(stderr=True, soft_wrap=True)

ProjectOption = typer.Option(
    None,
    "--project",
    "-p",
    help="Project folder (default: the one containing the working directory).",
)
SetOption = typer.Option(
    None,
    "--set",
    help="Override a config key for this run, e.g. --set retrieve.top_k=8 (repeatable).",
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")
SeedsOption = typer.Option(
    None,
    "--seeds",
    min=1,
    help="Training seeds of the fine-tuned arms (default 3, quick 1); the interval covers them.",
)


def command_progress(json_output: bool) -> RichProgress:
    """Rich progress bars on a terminal; none under ``--json`` (stdout stays parseable)."""

    return RichProgress(enabled=False if json_output else None)


def stage_printer(progress: RichProgress, json_output: bool) -> Callable[[str], None]:
    """``say(message)`` for a long command's stage lines: above the live bars when they
    are shown, plain lines otherwise (make, CI logs), nothing under ``--json``."""

    def say(message: str) -> None:
        if not json_output:
            (progress.console if progress.enabled else console).print(
                message, highlight=False, markup=False
            )

    return say


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``["retrieve.top_k=8", "embed.backend=hash"]`` -> ``{"retrieve": {"top_k": "8"}, ...}``."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or "." not in key:
            raise ConfigError(f"--set {pair!r}: expected SECTION.KEY=VALUE, e.g. retrieve.top_k=8")
        section, _, name = key.strip().partition(".")
        parsed: Any = value
        if value[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):
                parsed = json.loads(value)
        out.setdefault(section, {})[name] = parsed
    return out


def open_project(
    project: Path | None, overrides: list[str] | None, extra: dict[str, Any] | None = None
) -> Any:
    from ragtune.config import _deep_merge
    from ragtune.project import Project

    merged = _deep_merge(parse_overrides(overrides), extra or {})
    return Project.open(project, merged)


def to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, list | tuple):
        return [to_jsonable(o) for o in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, default=str) + "\n")
