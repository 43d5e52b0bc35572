"""``synthesize``: a project's training data from one source, split, augmented, written.

Steps: read or generate QA rows → split by fact (held-out never trained on) →
paraphrase the training facts → closed-book chat rows → RAFT rows over the project's
retriever → files under ``.ragtune/data/`` (see :mod:`ragtune.synth.files`).

Facts that come with several phrasings (the demo's ``qa.jsonl``) are split first, so
the held-out questions are the human-written ones and paraphrases are made from
training questions only. Facts with one phrasing (corpus-generated, most QA files)
are paraphrased first, so that an unseen phrasing of a trained fact can be held out.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ragtune.errors import ConfigError, DataError
from ragtune.progress import Progress
from ragtune.synth import files
from ragtune.synth.qa_file import file_fingerprint, load_qa_file
from ragtune.synth.split import fact_key, split_by_fact

if TYPE_CHECKING:
    from ragtune.llm.base import Generator
    from ragtune.project import Project
    from ragtune.types import Chunk, QAExample

Source = Literal["demo", "qa-file", "corpus"]


@dataclass
class SynthManifest:
    """What ``synthesize`` wrote: ``.ragtune/data/manifest.json`` as a dataclass."""

    source: str
    source_path: str | None
    source_fingerprint: str | None
    seed: int
    counts: dict[str, int]
    settings: dict[str, Any]
    generator: str | None
    files: dict[str, str]
    seconds: float
    raft: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _chunks_by_doc(project: Project) -> dict[str, list[Chunk]]:
    grouped: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in project.store.iter_chunks():
        grouped[chunk.doc_id].append(chunk)
    for chunks in grouped.values():
        chunks.sort(key=lambda c: c.index)
    return dict(grouped)


def _load_rows(
    project: Project,
    source: Source,
    path: Path | None,
    generator: Generator | None,
    progress: Progress,
) -> tuple[list[QAExample], dict[str, int]]:
    if source in ("demo", "qa-file"):
        if path is None:
            raise ConfigError(f"source {source!r} needs a path to a QA file")
        return load_qa_file(path), {}
    if source == "corpus":
        from ragtune.synth.generate import generate_from_chunks

        project.require_index()
        assert generator is not None
        chunks = list(project.store.iter_chunks())
        limit = project.config.synth.max_chunks
        if limit is not None and len(chunks) > limit:
            import random

            chunks = sorted(
                random.Random(project.config.synth.seed).sample(chunks, limit), key=lambda c: c.id
            )
        rows, counts = generate_from_chunks(
            chunks,
            generator,
            questions_per_chunk=project.config.synth.questions_per_chunk,
            progress=progress,
        )
        if not rows:
            raise DataError(
                f"the generator ({generator.name}) produced no supported QA pairs from {len(chunks)} chunks; "
                "configure a stronger llm.model, or give your own pairs with --qa-file"
            )
        return rows, {f"generated_{k}": v for k, v in counts.items()}
    raise ConfigError(f"unknown synth source {source!r}; choose demo, qa-file or corpus")


def synthesize(
    project: Project,
    source: Source = "corpus",
    path: Path | str | None = None,
    paraphrases: int | None = None,
    seed: int | None = None,
    raft: bool = True,
    generator: Generator | None = None,
    progress: Progress | None = None,
) -> SynthManifest:
    """Build and write a project's training data; returns its manifest.

    >>> from ragtune import Project
    >>> from ragtune.synth import synthesize
    >>> project = Project.open("acme-kb")                               # doctest: +SKIP
    >>> m = synthesize(project, source="demo", path="demo-v1/qa.jsonl")  # doctest: +SKIP
    >>> m.counts["train"], m.counts["heldout_unseen_fact"]               # doctest: +SKIP
    (433, 108)

    ``generator`` defaults to the project's (``llm`` config); it writes corpus pairs and
    paraphrases, and its tokenizer fits RAFT prompts exactly as the ``raft`` arm will.
    """
    started = time.perf_counter()
    progress = progress or Progress()
    synth = project.config.synth
    seed = synth.seed if seed is None else seed
    n_para = synth.paraphrases if paraphrases is None else paraphrases
    if n_para < 0:
        raise ConfigError(f"paraphrases must be >= 0 (got {n_para})")
    resolved = Path(path).expanduser() if path is not None else None
    if resolved is not None and source == "demo" and resolved.is_dir():
        resolved = resolved / "qa.jsonl"  # the demo corpus folder works too
    needs_generator = source == "corpus" or n_para > 0 or (raft and project.has_index())
    if generator is None and needs_generator:
        generator = project.generator
    rows, counts = _load_rows(project, source, resolved, generator, progress)

    from ragtune.synth.generate import paraphrase

    phrasings: dict[str, int] = defaultdict(int)
    for row in rows:
        phrasings[fact_key(row)] += 1
    single_phrasing = max(phrasings.values()) <= 1
    early: list[QAExample] = []
    if n_para > 0 and single_phrasing:
        assert generator is not None
        early = paraphrase(rows, generator, n_para, progress=progress)
        rows = rows + early
    split = split_by_fact(rows, synth.heldout_share, synth.unseen_fact_share, seed)
    late: list[QAExample] = []
    if n_para > 0 and not single_phrasing:
        assert generator is not None
        late = paraphrase(
            split.train,
            generator,
            n_para,
            avoid=[r.question for r in split.heldout],
            progress=progress,
        )
        late = [
            r.__class__.from_dict({**r.to_dict(), "meta": {**r.meta, "split": "train"}})
            for r in late
        ]
    train = split.train + late

    data_dir = project.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "train_qa": str(data_dir / files.TRAIN_QA),
        "heldout": str(data_dir / files.HELDOUT),
        "qa_sft": str(data_dir / files.QA_SFT),
    }
    counts["train"] = files.write_jsonl(data_dir / files.TRAIN_QA, (r.to_dict() for r in train))
    files.write_jsonl(data_dir / files.HELDOUT, (r.to_dict() for r in split.heldout))
    counts["qa_sft"] = files.write_jsonl(
        data_dir / files.QA_SFT, (files.qa_chat_row(r) for r in train)
    )
    counts["train_paraphrases"] = sum(1 for r in train if "paraphrase_of" in r.meta)
    counts["train_facts"] = len({fact_key(r) for r in train})
    counts["heldout_unseen_phrasing"] = len(split.unseen_phrasing)
    counts["heldout_unseen_fact"] = len(split.unseen_fact)
    counts["heldout_unseen_fact_facts"] = len({fact_key(r) for r in split.unseen_fact})

    raft_info: dict[str, Any] = {}
    raft_path = data_dir / files.RAFT_TRAIN
    if raft and project.has_index():
        from ragtune.synth.raft import RaftBuilder

        assert generator is not None
        builder = RaftBuilder(
            project.retriever(),
            generator,
            distractors=synth.raft_distractors,
            oracle_share=synth.raft_oracle_share,
            candidates=synth.raft_candidates,
            max_new_tokens=project.config.llm.max_new_tokens,
            style=synth.raft_target_style,
            no_oracle_target=synth.raft_no_oracle_target,
            seed=seed,
        )
        examples, raft_counts = builder.build(train, _chunks_by_doc(project), progress=progress)
        counts["raft"] = files.write_jsonl(raft_path, (e.to_row() for e in examples))
        raft_info = {
            **raft_counts,
            "retrieve_mode": project.config.retrieve.mode,
            "top_k": project.config.retrieve.top_k,
        }
        written["raft_train"] = str(raft_path)
    else:
        raft_path.unlink(
            missing_ok=True
        )  # never leave RAFT rows from older data beside new QA rows
        raft_info = {"skipped": "no index; run: ragtune ingest PATH" if raft else "disabled"}

    manifest = SynthManifest(
        source=source,
        source_path=str(resolved) if resolved else None,
        source_fingerprint=file_fingerprint(resolved) if resolved and resolved.is_file() else None,
        seed=seed,
        counts=counts,
        settings={
            **synth.model_dump(),
            "paraphrases": n_para,
            "paraphrased_before_split": single_phrasing,
        },
        generator=generator.name if generator is not None else None,
        files=written,
        seconds=round(time.perf_counter() - started, 3),
        raft=raft_info,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    files.write_json(data_dir / files.MANIFEST, manifest.to_dict())
    return manifest
