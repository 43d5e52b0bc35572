"""``ragtune ask``: one question to one arm, with its sources."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ragtune.cli.common import (
    JsonOption,
    ProjectOption,
    SetOption,
    console,
    open_project,
    print_json,
)
from ragtune.types import Answer


def print_answer(answer: Answer, show_text: bool = True) -> None:
    if show_text:
        console.print(f"[bold]{answer.text}[/]", highlight=False)
    timing = " · ".join(f"{k} {v:.2f}s" for k, v in answer.timings.items())
    console.print(
        f"[dim]arm {answer.arm} · {answer.prompt_tokens} prompt + {answer.completion_tokens} new tokens · {timing}[/]"
    )
    if answer.citations:
        console.print("Sources:")
        for citation in answer.citations:
            console.print(
                f"  [{citation.marker}] {citation.doc_id} (chars {citation.start_char}-{citation.end_char})"
                f" [dim]{citation.source}[/]",
                highlight=False,
            )
    elif answer.hits:
        console.print("[dim]Retrieved (not cited):[/]")
        for number, hit in enumerate(answer.hits, start=1):
            console.print(f"  [dim][{number}] {hit.chunk.doc_id}[/]", highlight=False)


def ask(
    question: str = typer.Argument(..., help="The question."),
    arm: str = typer.Option("rag", "--arm", help="base, rag, ft, ft+rag or raft."),
    stream: bool = typer.Option(False, "--stream", help="Print the answer as it is generated."),
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Answer a question with one arm; prints the answer and the passages it cites."""
    from ragtune.systems import RAGSystem, build_system

    proj = open_project(project, overrides)
    system = build_system(proj, arm)
    if stream and not json_output and isinstance(system, RAGSystem):
        answer = None
        for piece in system.stream(question):
            if isinstance(piece, Answer):
                answer = piece
            else:
                sys.stdout.write(piece)
                sys.stdout.flush()
        sys.stdout.write("\n")
        assert answer is not None
        print_answer(answer, show_text=False)
        return
    answer = system.answer(question)
    if json_output:
        print_json(answer)
    else:
        print_answer(answer)
