"""``ragtune demo-corpus``: write the fictional demo domain (documents + ground-truth questions).

Registered by the main app as ``app.command("demo-corpus")(demo_corpus)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def demo_corpus(
    out: Path = typer.Argument(..., help="Folder to write; must be new, empty or a demo corpus."),
    version: int = typer.Option(
        1, "--version", min=1, max=2, help="1 = the world today; 2 = later, ~20% of facts changed."
    ),
    seed: int = typer.Option(0, "--seed", help="Same seed, same bytes."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write a fictional company's documents (md, txt, html, pdf, docx) and its questions.

    OUT gets 150-300 documents, qa.jsonl (four phrasings per fact, with the documents
    that state each answer), manifest.json and, for --version 2, changes.jsonl.
    Writing version 2 over version 1 replaces it, as a document update would.

    Example: ragtune demo-corpus demo-v1 && ragtune demo-corpus demo-v2 --version 2
    """
    from ragtune.demo import write_demo_corpus

    info = write_demo_corpus(out, version=version, seed=seed)
    if json_output:
        typer.echo(json.dumps(info.to_dict(), indent=2))
        return
    console = Console()
    table = Table(title=f"{info.company} demo corpus v{info.version} (seed {info.seed})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for fmt, count in info.by_format.items():
        table.add_row(f"{fmt} documents", str(count))
    table.add_row("documents", str(info.n_documents))
    table.add_row("facts", str(info.n_facts))
    table.add_row("questions", str(info.n_questions))
    if info.version == 2:
        table.add_row("changed facts", str(info.n_changed_facts))
    console.print(table)
    console.print(f"Written to [bold]{info.out}[/bold]: qa.jsonl, manifest.json", end="")
    console.print(", changes.jsonl" if info.version == 2 else "")
