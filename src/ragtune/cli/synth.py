"""``ragtune synth``: training data for the fine-tuned arms, from one source."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ragtune.cli.common import (
    JsonOption,
    ProjectOption,
    SetOption,
    command_progress,
    console,
    open_project,
    print_json,
)
from ragtune.errors import ConfigError

if TYPE_CHECKING:
    from ragtune.synth.pipeline import SynthManifest


def synth(
    from_demo: Path = typer.Option(
        None, "--from-demo", help="The demo domain's qa.jsonl (or its folder)."
    ),
    qa_file: Path = typer.Option(
        None, "--qa-file", help="Your QA pairs: JSONL or CSV with question, answer(s)."
    ),
    from_corpus: bool = typer.Option(
        False,
        "--from-corpus",
        help="Synthesize QA pairs from the indexed chunks: extractive rules (no model), "
        "or the [synth.teacher] model when one is configured (synth.generator).",
    ),
    paraphrases: int = typer.Option(
        None, "--paraphrases", help="Generated rephrasings per fact (synth.paraphrases)."
    ),
    seed: int = typer.Option(
        None, "--seed", help="Seed of the split and RAFT sampling (synth.seed)."
    ),
    no_raft: bool = typer.Option(False, "--no-raft", help="Skip RAFT examples."),
    project: Path = ProjectOption,
    overrides: list[str] = SetOption,
    json_output: bool = JsonOption,
) -> None:
    """Build training data: QA pairs, paraphrases, a held-out split by fact, RAFT examples.

    Writes .ragtune/data/{train_qa,heldout,qa_sft,raft_train}.jsonl and manifest.json.
    """
    from ragtune.synth import synthesize
    from ragtune.synth.pipeline import Source

    chosen = [
        name
        for name, on in (
            ("--from-demo", from_demo),
            ("--qa-file", qa_file),
            ("--from-corpus", from_corpus),
        )
        if on
    ]
    if len(chosen) > 1:
        raise ConfigError(f"choose one source, not {' and '.join(chosen)}")
    source: Source = "demo" if from_demo else "qa-file" if qa_file else "corpus"
    path = from_demo or qa_file
    proj = open_project(project, overrides)
    with command_progress(json_output) as progress:
        manifest = synthesize(
            proj,
            source=source,
            path=path,
            paraphrases=paraphrases,
            seed=seed,
            raft=not no_raft,
            progress=progress,
        )
    if json_output:
        print_json(manifest.to_dict())
        return
    _print_summary(manifest, proj.data_dir)


def _print_summary(manifest: SynthManifest, data_dir: Path) -> None:
    """What a synth run wrote, for a person: kept and dropped questions, the split, RAFT."""
    counts = manifest.counts
    if counts.generated:
        made = counts.generated
        dropped = ", ".join(
            f"{made[name]} {name.replace('_', ' ')}"
            for name in (
                "not_span",
                "answer_in_question",
                "duplicate",
                "near_duplicate",
                "over_limit",
                "unparsed",
            )
            if made.get(name)
        )
        console.print(
            f"Questions by {manifest.settings.get('question_writer')}: {made.get('kept', 0)} kept of "
            f"{made.get('proposed', 0)} proposed over {made.get('facts', 0)} facts "
            f"from {made.get('chunks', 0)} chunks" + (f" (dropped: {dropped})" if dropped else "")
        )
    console.print(
        f"[green]Training data[/] from {manifest.source} in {data_dir} ({manifest.seconds:.1f}s):\n"
        f"  train: {counts.train} questions over {counts.train_facts} facts "
        f"({counts.train_paraphrases} generated paraphrases)\n"
        f"  held out: {counts.heldout_unseen_phrasing} unseen phrasings of trained facts, "
        f"{counts.heldout_unseen_fact} questions on {counts.heldout_unseen_fact_facts} unseen facts"
    )
    if counts.raft is not None:
        raft = manifest.raft
        console.print(
            f"  RAFT: {counts.raft} examples ({raft['with_oracle']} with the oracle, "
            f"{raft['without_oracle']} without; {raft['no_oracle_found']} questions had no oracle chunk)"
        )
    else:
        console.print(f"  RAFT: skipped ({manifest.raft.get('skipped')})")
    console.print("Next: [bold]ragtune tune --mode qa[/] and [bold]ragtune tune --mode raft[/]")
