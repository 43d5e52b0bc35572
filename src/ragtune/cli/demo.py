"""``ragtune demo``: the main job on the fictional demo domain, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ragtune.cli.common import console


def demo(
    directory: Path = typer.Argument(Path("demo-project"), help="Where to build the demo project."),
    seed: int = typer.Option(0, "--seed", help="Seed of the demo domain."),
    question: str = typer.Option(None, "--question", help="Question to ask (default: one from qa.jsonl)."),
) -> None:
    """Write the demo domain, index it incrementally, search it and answer a question with RAG."""
    from ragtune.demo import load_qa, write_demo_corpus
    from ragtune.progress import RichProgress
    from ragtune.project import Project
    from ragtune.systems import build_system

    corpus_dir = directory / "corpus-v1"
    info = write_demo_corpus(corpus_dir, version=1, seed=seed)
    console.print(f"[bold]1.[/] Demo domain written: {info.n_documents} documents, {info.n_questions} questions in {corpus_dir}")
    project = Project.open(directory) if (directory / "ragtune.toml").exists() else Project.init(directory)
    docs_dir = corpus_dir / "docs" if (corpus_dir / "docs").is_dir() else corpus_dir
    with RichProgress() as progress:
        report = project.ingest([docs_dir], progress=progress)
    console.print(
        f"[bold]2.[/] Ingested: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.failed} failed, {report.chunks_embedded} chunks embedded in {report.seconds:.1f}s"
    )
    qa = load_qa(corpus_dir / "qa.jsonl")
    example = next((q for q in qa if "price" in q.question.lower()), qa[0])
    question = question or example.question
    hits = project.search(question, k=3)
    console.print(f"[bold]3.[/] Search: {question!r}")
    for hit in hits:
        console.print(f"     {hit.rank}. {hit.chunk.doc_id} [dim](chars {hit.chunk.start_char}-{hit.chunk.end_char})[/]")
    console.print("[bold]4.[/] Answer from the rag arm (SmolLM2-135M, on this CPU):")
    answer = build_system(project, "rag").answer(question)
    from ragtune.cli.ask import print_answer

    print_answer(answer)
    if not question or question == example.question:
        console.print(f"[dim]Expected: {', '.join(example.answers)}[/]")
    out = project.runs_dir / "demo-answer.json"
    out.write_text(json.dumps(answer.to_dict(), indent=2))
    console.print(f"\nProject: {project.root}  ·  answer JSON: {out}")
    project.close()
