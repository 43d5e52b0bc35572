"""The ``ragtune`` command. Each command is a thin layer over ``ragtune.Project``."""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from pathlib import Path

import typer
from rich.table import Table

from ragtune.cli.ask import ask
from ragtune.cli.common import (
    JsonOption,
    ProjectOption,
    SetOption,
    command_progress,
    console,
    err_console,
    open_project,
    print_json,
)
from ragtune.cli.compare import compare_command
from ragtune.cli.demo import demo
from ragtune.cli.demo_corpus import demo_corpus
from ragtune.cli.engine import engine_app
from ragtune.cli.eval import eval_command, freshness_command
from ragtune.cli.report import recommend_command, report_command
from ragtune.cli.serve import serve
from ragtune.cli.synth import synth
from ragtune.cli.tune import adapters_app, tune
from ragtune.errors import RagtuneError

app = typer.Typer(
    name="ragtune",
    help="RAG, fine-tuning, or both? Build each on your documents, measure them side by side.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Inspect and verify the knowledge base.", no_args_is_help=True)


def init(
    directory: Path = typer.Argument(
        Path("."), help="Folder to make a project of (created if missing)."
    ),
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Create a project: ragtune.toml and the .ragtune/ state folder."""
    from ragtune.cli.common import parse_overrides
    from ragtune.project import Project

    project = Project.init(directory, parse_overrides(overrides))
    if json_output:
        print_json({"root": project.root, "config": project.config.model_dump()})
    else:
        console.print(f"[green]Created ragtune project[/] in {project.root}")
        console.print("Next: [bold]ragtune ingest PATH[/] to index your documents.")


def ingest(
    paths: list[Path] = typer.Argument(
        ..., help="Files and folders: txt, md, html, pdf, docx, jsonl."
    ),
    mirror: bool = typer.Option(
        False,
        "--mirror",
        help="Also delete indexed documents that are not in PATHS (make the index mirror them).",
    ),
    chunk_size: int = typer.Option(
        None, "--chunk-size", help="Chunk size in tokens (corpus.chunk_size_tokens)."
    ),
    chunk_overlap: int = typer.Option(
        None, "--chunk-overlap", help="Overlap in tokens (corpus.chunk_overlap_tokens)."
    ),
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Index documents incrementally: only new or changed files are embedded."""

    corpus: dict[str, int] = {}
    if chunk_size is not None:
        corpus["chunk_size_tokens"] = chunk_size
    if chunk_overlap is not None:
        corpus["chunk_overlap_tokens"] = chunk_overlap
    proj = open_project(project, overrides, {"corpus": corpus} if corpus else None)
    with command_progress(json_output) as progress:
        report = proj.ingest(paths, mirror=mirror, progress=progress)
    proj.close()
    if json_output:
        print_json(report)
        return
    table = Table(title=f"Ingested into {proj.store_dir}", show_header=True)
    for column in (
        "added",
        "updated",
        "deleted",
        "unchanged",
        "failed",
        "chunks embedded",
        "seconds",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(v)
            for v in (report.added, report.updated, report.deleted, report.unchanged, report.failed)
        ),
        str(report.chunks_embedded),
        f"{report.seconds:.1f}",
    )
    console.print(table)
    if report.reindexed:
        console.print(
            "[yellow]Embedding or chunking settings changed: the whole index was rebuilt.[/]"
        )
    print_failures(report.failures)


def print_failures(failures: list[dict[str, str]], per_file: int = 3) -> None:
    """Each skipped file with its reason; a file with many bad lines shows the first few."""
    by_path: dict[str, list[str]] = {}
    for failure in failures:
        by_path.setdefault(failure["path"], []).append(failure["reason"])
    for path, reasons in by_path.items():
        for reason in reasons[:per_file]:
            err_console.print(f"[red]skipped[/] {path}: {reason}", highlight=False)
        if len(reasons) > per_file:
            err_console.print(
                f"[red]skipped[/] {path}: … and {len(reasons) - per_file} more problems (see --json)"
            )


def search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(None, "-k", "--top-k", help="How many hits (retrieve.top_k)."),
    mode: str = typer.Option(None, "--mode", help="dense, bm25 or hybrid (retrieve.mode)."),
    filters: list[str] = typer.Option(
        None, "--filter", help="Metadata filter KEY=VALUE (repeatable)."
    ),
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Search the knowledge base: hybrid BM25 + dense by default, optional rerank."""
    extra = {"retrieve": {"mode": mode}} if mode else None
    proj = open_project(project, overrides, extra)
    parsed_filters = {}
    for item in filters or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise RagtuneError(f"--filter {item!r}: expected KEY=VALUE, e.g. --filter format=pdf")
        parsed_filters[key] = value
    hits = proj.search(query, k=k, filters=parsed_filters or None)
    if json_output:
        print_json({"query": query, "mode": proj.config.retrieve.mode, "hits": hits})
        return
    if not hits:
        console.print("No hits.")
    for hit in hits:
        chunk = hit.chunk
        where = " › ".join(chunk.heading_path) or chunk.title
        console.print(
            f"[bold cyan]{hit.rank}.[/] [bold]{chunk.doc_id}[/] [dim]chars {chunk.start_char}-{chunk.end_char}"
            f" · score {hit.score:.4f}[/]" + (f"\n   [dim]{where}[/]" if where else "")
        )
        text = " ".join(chunk.text.split())
        console.print(f"   {text[:300]}{'…' if len(text) > 300 else ''}", highlight=False)


@index_app.command("check")
def index_check(project: Path = ProjectOption, json_output: bool = JsonOption) -> None:
    """Verify the store: every chunk has a vector, every vector a chunk, no duplicates."""
    proj = open_project(project, None)
    report = proj.check()
    if json_output:
        print_json({**dataclasses.asdict(report), "ok": report.ok})
    else:
        console.print(
            f"{report.documents} documents, {report.chunks} chunks, {report.vectors} vectors"
        )
        for problem in report.problems:
            console.print(f"[red]problem:[/] {problem}")
        console.print("[green]consistent[/]" if report.ok else "[red]inconsistent[/]")
    if not report.ok:
        raise typer.Exit(1)


@index_app.command("stats")
def index_stats(project: Path = ProjectOption, json_output: bool = JsonOption) -> None:
    """Documents, chunks, vector size and bytes on disk."""
    proj = open_project(project, None)
    stats = proj.store.stats()
    if json_output:
        print_json(stats)
    else:
        for key, value in stats.items():
            console.print(f"{key:>12}: {value}")


@index_app.command("list")
def index_list(project: Path = ProjectOption, json_output: bool = JsonOption) -> None:
    """The indexed documents with their chunk counts."""
    proj = open_project(project, None)
    records = proj.store.list_documents()
    if json_output:
        print_json(records)
        return
    table = Table("id", "title", "chunks", "source")
    for r in records:
        table.add_row(r.id, r.title, str(r.n_chunks), r.source)
    console.print(table)


# Commands in the order a user meets them: build the knowledge base, ask, train,
# measure, serve; then the demo domain.
app.command()(init)
app.command()(ingest)
app.command()(search)
app.add_typer(index_app, name="index")
app.command()(ask)
app.command()(synth)
app.command()(tune)
app.add_typer(adapters_app, name="adapters")
app.command("compare")(compare_command)
app.command("eval")(eval_command)
app.command("freshness")(freshness_command)
app.command("recommend")(recommend_command)
app.command("report")(report_command)
app.command()(serve)
app.add_typer(engine_app, name="engine")
app.command("demo-corpus")(demo_corpus)
app.command()(demo)


def main() -> None:
    """Entry point: ragtune errors print as one line and exit 1, never as a traceback."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Library load bars (transformers' "Loading weights") would interleave with
    # ragtune's own progress; transformers reads this when it is first imported.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # Libraries' deprecation notices (transformers renaming its own arguments) are
    # for their callers' developers, not for ragtune's users.
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        app()
    except RagtuneError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
