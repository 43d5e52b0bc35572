"""Quality and speed of the extractive question generator on documentation we did not write.

Synthesizes questions from a real documentation folder (default: the Markdown docs that
ship in the sdist of black 24.8.0), measures throughput, samples ``--sample`` pairs with a
fixed seed and writes them for a person to judge. Verdicts are a person's, kept in
``results/synth_quality_verdicts.json`` by example id (answerable from its chunk?
answer correct? question natural?); this script only renders them and adds them up::

    pip download --no-binary :all: --no-deps black==24.8.0 -d /tmp/pkgs
    tar xzf /tmp/pkgs/black-24.8.0.tar.gz -C /tmp/pkgs
    python benchmarks/synth_quality.py --docs /tmp/pkgs/black-24.8.0/docs

Writes ``results/synth_quality.json`` (settings, counts, timings, machine load, the
sample) and ``results/synth_quality.md`` (the sample with its verdicts and the totals).
``--name hatch`` keeps another corpus apart: ``results/synth_quality_hatch.json``,
``results/synth_quality_hatch.md`` and verdicts in ``results/synth_quality_hatch_verdicts.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

from ragtune.corpus import RecursiveChunker, iter_load, make_token_counter
from ragtune.machine import machine_info
from ragtune.synth.extractive import ExtractiveSettings, extract_questions
from ragtune.synth.units import split_units
from ragtune.types import QAExample

RESULTS = Path(__file__).parent / "results"


def statement_of(example: QAExample) -> str:
    """The unit of the chunk the answer was taken from (what a judge reads first)."""
    start = example.meta["answer_start"]
    for unit in split_units(example.context):
        if unit.offsets and unit.offsets[0] <= start <= unit.offsets[-1]:
            return unit.text
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=Path, required=True, help="Documentation folder.")
    parser.add_argument("--corpus-name", default="black 24.8.0 docs (sdist, Markdown)")
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="Timed extraction runs.")
    parser.add_argument("--name", help="Suffix for the result and verdict files (default: none).")
    args = parser.parse_args()
    stem = f"synth_quality_{args.name}" if args.name else "synth_quality"
    verdicts_path = RESULTS / f"{stem}_verdicts.json"

    started = time.perf_counter()
    documents = [d for r in iter_load([args.docs]) for d in r.documents]
    chunker = RecursiveChunker(160, 24, count_tokens=make_token_counter("words"))
    chunks = [c for d in documents for c in chunker.split(d)]
    load_seconds = time.perf_counter() - started

    settings = ExtractiveSettings(seed=args.seed)
    load_before = os.getloadavg()
    runs = [extract_questions(chunks, settings) for _ in range(args.repeats)]
    load_after = os.getloadavg()
    result = runs[0]
    seconds = sorted(r.seconds for r in runs)
    median = seconds[len(seconds) // 2]
    per_minute = 60 * len(result.examples) / median

    rng = random.Random(args.seed)
    sample = sorted(
        rng.sample(result.examples, min(args.sample, len(result.examples))), key=lambda e: e.id
    )
    verdicts = json.loads(verdicts_path.read_text()) if verdicts_path.exists() else {}
    rows = [
        {
            "id": e.id,
            "relation": e.meta["relation"],
            "question": e.question,
            "answers": e.answers,
            "doc_id": e.doc_ids[0],
            "statement": statement_of(e),
            "verdict": verdicts.get(e.id),
        }
        for e in sample
    ]
    judged = [r for r in rows if r["verdict"]]
    totals = {
        "judged": len(judged),
        "answerable": sum(r["verdict"]["answerable"] for r in judged),
        "correct": sum(r["verdict"]["correct"] for r in judged),
        "answerable_and_correct": sum(
            r["verdict"]["answerable"] and r["verdict"]["correct"] for r in judged
        ),
        "natural": sum(r["verdict"]["natural"] for r in judged),
    }
    record = {
        "corpus": args.corpus_name,
        "documents": len(documents),
        "chunks": len(chunks),
        "chunker": "recursive, 160 words, 24 overlap",
        "settings": vars(settings),
        "counts": result.counts.to_dict(),
        "questions": len(result.examples),
        "load_and_chunk_seconds": round(load_seconds, 3),
        "extract_seconds": [round(s, 4) for s in seconds],
        "questions_per_minute": round(per_minute),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "machine": machine_info(),
        "sample_seed": args.seed,
        "totals": totals,
        "sample": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"{stem}.md").write_text(render(record))
    print(
        json.dumps(
            {k: record[k] for k in ("questions", "questions_per_minute", "totals")}, indent=2
        )
    )


def render(record: dict) -> str:
    t = record["totals"]
    lines = [
        "# Extractive questions: a judged sample",
        "",
        f"Corpus: {record['corpus']} — {record['documents']} documents, {record['chunks']} chunks "
        f"({record['chunker']}). {record['questions']} questions over {record['counts']['facts']} facts; "
        f"{record['questions_per_minute']:,} questions/min (median of {len(record['extract_seconds'])} runs, "
        f"load average {record['loadavg_before'][0]:.1f} before, {record['loadavg_after'][0]:.1f} after, "
        f"{os.cpu_count()} CPUs).",
        "",
        f"Sample: {len(record['sample'])} pairs, seed {record['sample_seed']}. Each verdict is a person's "
        "reading of the pair against the statement it came from: **A** answerable from its chunk, "
        "**C** the answer is correct (and complete enough), **N** the question reads naturally.",
        "",
        f"**Totals ({t['judged']} judged): answerable and correct {t['answerable_and_correct']}/{t['judged']}, "
        f"answerable {t['answerable']}, correct {t['correct']}, natural {t['natural']}.**",
        "",
        "| # | rule | question | answer | statement in the chunk | A | C | N | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, row in enumerate(record["sample"], 1):
        v = row["verdict"] or {}

        def mark(key: str, v: dict = v) -> str:
            return "?" if key not in v else ("yes" if v[key] else "no")

        cells = [
            str(number),
            row["relation"],
            row["question"],
            row["answers"][0],
            f"{row['statement']} ({row['doc_id']})",
            mark("answerable"),
            mark("correct"),
            mark("natural"),
            v.get("note", ""),
        ]
        lines.append(
            "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
