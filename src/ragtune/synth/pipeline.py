"""``synthesize``: a project's training data from one source, split, augmented, written.

Steps: read QA rows, or synthesize them from the index (extractive rules with no model,
or a configured teacher model) → split by fact (held-out never trained on) →
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
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ragtune.errors import ConfigError, DataError
from ragtune.progress import Progress
from ragtune.synth import files
from ragtune.synth.qa_file import file_fingerprint, load_qa_file
from ragtune.synth.split import Split, fact_key, split_by_fact

if TYPE_CHECKING:
    from ragtune.llm.base import Generator
    from ragtune.project import Project
    from ragtune.types import Chunk, QAExample

Source = Literal["demo", "qa-file", "corpus"]


@dataclass(eq=False)
class SynthCounts(Mapping[str, int]):
    """How many rows ``synthesize`` wrote, and of what.

    Read it by attribute (``counts.train``) or, like the manifest JSON it is written as,
    by key (``counts["train"]``, ``counts.get("raft", 0)``, ``"raft" in counts``); it
    equals a dict with the same keys. ``raft`` is ``None`` when no RAFT rows were built
    (no index, or disabled) and then absent from the keys; ``generated`` holds the
    corpus source's :class:`~ragtune.synth.filters.QuestionCounts` (questions proposed,
    kept, and dropped by each filter), written as ``generated_<name>`` keys.

    >>> counts = SynthCounts(train=20, qa_sft=20, train_facts=6, generated={"kept": 5})
    >>> counts["generated_kept"], counts.train, "raft" in counts
    (5, 20, False)
    """

    train: int = 0
    qa_sft: int = 0
    train_paraphrases: int = 0
    train_facts: int = 0
    heldout_unseen_phrasing: int = 0
    heldout_unseen_fact: int = 0
    heldout_unseen_fact_facts: int = 0
    raft: int | None = None
    generated: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, int]:
        """The manifest's ``counts`` object, keys in the order they are written."""
        out = {f"generated_{name}": value for name, value in self.generated.items()}
        out.update(
            train=self.train,
            qa_sft=self.qa_sft,
            train_paraphrases=self.train_paraphrases,
            train_facts=self.train_facts,
            heldout_unseen_phrasing=self.heldout_unseen_phrasing,
            heldout_unseen_fact=self.heldout_unseen_fact,
            heldout_unseen_fact_facts=self.heldout_unseen_fact_facts,
        )
        if self.raft is not None:
            out["raft"] = self.raft
        return out

    def __getitem__(self, key: str) -> int:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


@dataclass
class SynthManifest:
    """What ``synthesize`` wrote: ``.ragtune/data/manifest.json`` as a dataclass."""

    source: str
    source_path: str | None
    source_fingerprint: str | None
    seed: int
    counts: SynthCounts
    settings: dict[str, Any]
    generator: str | None
    files: dict[str, str]
    seconds: float
    raft: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counts": self.counts.to_dict()}


@dataclass
class LoadedRows:
    """The QA rows a source gave, and (for a corpus) the generation counts."""

    rows: list[QAExample]
    generated: dict[str, int] = field(default_factory=dict)


@dataclass
class TrainingSplit:
    """The split by fact, with the training rows' paraphrases added."""

    split: Split
    train: list[QAExample]
    paraphrased_before_split: bool


@dataclass
class RaftOutcome:
    """The RAFT rows' count (``None`` if none were built) and the manifest's ``raft`` entry."""

    count: int | None
    info: dict[str, Any]


def _require_generator(generator: Generator | None, job: str) -> Generator:
    if generator is None:
        raise ConfigError(f"{job} needs a generator: configure [llm] or pass generator=")
    return generator


def _chunks_by_doc(project: Project) -> dict[str, list[Chunk]]:
    grouped: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in project.store.iter_chunks():
        grouped[chunk.doc_id].append(chunk)
    for chunks in grouped.values():
        chunks.sort(key=lambda c: c.index)
    return dict(grouped)


def _source_path(source: Source, path: Path | str | None) -> Path | None:
    resolved = Path(path).expanduser() if path is not None else None
    if resolved is not None and source == "demo" and resolved.is_dir():
        resolved = resolved / "qa.jsonl"  # the demo corpus folder works too
    return resolved


def _corpus_chunks(project: Project) -> list[Chunk]:
    project.require_index()
    chunks = list(project.store.iter_chunks())
    limit = project.config.synth.max_chunks
    if limit is not None and len(chunks) > limit:
        import random

        chunks = sorted(
            random.Random(project.config.synth.seed).sample(chunks, limit), key=lambda c: c.id
        )
    return chunks


def _generate_from_corpus(
    project: Project, teacher: Generator | None, progress: Progress
) -> LoadedRows:
    """QA rows from the indexed chunks: extractive (no model) unless a teacher writes them."""
    synth = project.config.synth
    chunks = _corpus_chunks(project)
    if teacher is None:
        from ragtune.synth.extractive import ExtractiveSettings, extract_questions

        result = extract_questions(chunks, ExtractiveSettings.from_config(synth), progress)
        writer = "extractive"
    else:
        from ragtune.synth.teacher import teacher_questions

        result = teacher_questions(
            chunks,
            teacher,
            questions_per_chunk=synth.questions_per_chunk,
            near_duplicate=synth.near_duplicate,
            progress=progress,
        )
        writer = f"the teacher ({teacher.name})"
    if not result.examples:
        hint = (
            "configure [synth.teacher] (a stronger model)"
            if teacher is None
            else "configure a stronger synth.teacher"
        )
        raise DataError(
            f"{writer} produced no QA pairs from {len(chunks)} chunks; {hint}, "
            "or give your own pairs with --qa-file"
        )
    return LoadedRows(result.examples, result.counts.to_dict())


def load_rows(
    project: Project,
    source: Source,
    path: Path | None,
    teacher: Generator | None,
    progress: Progress,
) -> LoadedRows:
    """Phase 1: the QA rows of ``source`` (a QA file, or pairs synthesized from the index:
    extractive when ``teacher`` is ``None``, else written by the teacher)."""
    if source in ("demo", "qa-file"):
        if path is None:
            raise ConfigError(f"source {source!r} needs a path to a QA file")
        return LoadedRows(load_qa_file(path))
    if source == "corpus":
        return _generate_from_corpus(project, teacher, progress)
    raise ConfigError(f"unknown synth source {source!r}; choose demo, qa-file or corpus")


def split_and_paraphrase(
    rows: list[QAExample],
    generator: Generator | None,
    paraphrases: int,
    heldout_share: float,
    unseen_fact_share: float,
    seed: int,
    progress: Progress,
) -> TrainingSplit:
    """Phase 2: split by fact and add ``paraphrases`` rephrasings per training fact.

    Facts with one phrasing are paraphrased before the split (so an unseen phrasing of a
    trained fact can be held out); facts with several are split first and only their
    training rows paraphrased, never into a held-out question.
    """
    from ragtune.synth.generate import paraphrase

    phrasings: dict[str, int] = defaultdict(int)
    for row in rows:
        phrasings[fact_key(row)] += 1
    single_phrasing = max(phrasings.values()) <= 1
    if paraphrases > 0 and single_phrasing:
        writer = _require_generator(generator, "paraphrasing")
        rows = rows + paraphrase(rows, writer, paraphrases, progress=progress)
    split = split_by_fact(rows, heldout_share, unseen_fact_share, seed)
    late: list[QAExample] = []
    if paraphrases > 0 and not single_phrasing:
        writer = _require_generator(generator, "paraphrasing")
        late = paraphrase(
            split.train,
            writer,
            paraphrases,
            avoid=[r.question for r in split.heldout],
            progress=progress,
        )
        late = [
            r.__class__.from_dict({**r.to_dict(), "meta": {**r.meta, "split": "train"}})
            for r in late
        ]
    return TrainingSplit(split, split.train + late, single_phrasing)


def write_qa_files(
    data_dir: Path, training: TrainingSplit, generated: dict[str, int], domain: str = ""
) -> tuple[SynthCounts, dict[str, str]]:
    """Phase 3: ``train_qa``, ``heldout`` and ``qa_sft`` JSONL (in the closed-book prompt
    for ``domain``); their counts and paths."""
    data_dir.mkdir(parents=True, exist_ok=True)
    train, split = training.train, training.split
    written = {
        "train_qa": str(data_dir / files.TRAIN_QA),
        "heldout": str(data_dir / files.HELDOUT),
        "qa_sft": str(data_dir / files.QA_SFT),
    }
    n_train = files.write_jsonl(data_dir / files.TRAIN_QA, (r.to_dict() for r in train))
    files.write_jsonl(data_dir / files.HELDOUT, (r.to_dict() for r in split.heldout))
    n_sft = files.write_jsonl(
        data_dir / files.QA_SFT, (files.qa_chat_row(r, domain) for r in train)
    )
    counts = SynthCounts(
        train=n_train,
        qa_sft=n_sft,
        train_paraphrases=sum(1 for r in train if "paraphrase_of" in r.meta),
        train_facts=len({fact_key(r) for r in train}),
        heldout_unseen_phrasing=len(split.unseen_phrasing),
        heldout_unseen_fact=len(split.unseen_fact),
        heldout_unseen_fact_facts=len({fact_key(r) for r in split.unseen_fact}),
        generated=dict(generated),
    )
    return counts, written


def write_raft_file(
    project: Project,
    train: list[QAExample],
    generator: Generator | None,
    enabled: bool,
    seed: int,
    progress: Progress,
) -> RaftOutcome:
    """Phase 4: RAFT rows over the project's retriever, or none (and no stale file)."""
    raft_path = project.data_dir / files.RAFT_TRAIN
    if not (enabled and project.has_index()):
        raft_path.unlink(missing_ok=True)  # never leave RAFT rows from older data beside new QA
        return RaftOutcome(
            None, {"skipped": "no index; run: ragtune ingest PATH" if enabled else "disabled"}
        )
    from ragtune.synth.raft import RaftBuilder

    synth = project.config.synth
    builder = RaftBuilder(
        project.retriever(),
        _require_generator(generator, "RAFT examples"),
        distractors=synth.raft_distractors,
        oracle_share=synth.raft_oracle_share,
        candidates=synth.raft_candidates,
        max_new_tokens=project.config.llm.max_new_tokens,
        style=synth.raft_target_style,
        no_oracle_target=synth.raft_no_oracle_target,
        seed=seed,
    )
    examples, raft_counts = builder.build(train, _chunks_by_doc(project), progress=progress)
    count = files.write_jsonl(raft_path, (e.to_row() for e in examples))
    info = {
        **raft_counts,
        "retrieve_mode": project.config.retrieve.mode,
        "top_k": project.config.retrieve.top_k,
    }
    return RaftOutcome(count, info)


@dataclass(frozen=True)
class _Writers:
    """Who writes what: the question teacher, the paraphraser, the RAFT/tokenizer generator."""

    teacher: Generator | None
    paraphraser: Generator | None
    generator: Generator | None
    paraphrases: int


def _writers(
    project: Project,
    source: Source,
    teacher: Generator | None,
    generator: Generator | None,
    n_para: int,
    raft: bool,
) -> _Writers:
    """Resolve the models a synth run uses; the evaluated model never rephrases its own test.

    Without a teacher (or a generator handed in) the phrasings are the corpus's extractive
    templates or the QA file's own; ``synth.allow_base_as_teacher`` lets the project's
    model paraphrase a QA file.
    """
    synth = project.config.synth
    if teacher is None and synth.generator != "extractive":
        from ragtune.synth.teacher import resolve_teacher

        teacher = resolve_teacher(project.config)
    paraphraser = teacher
    own_model = generator is None  # no generator handed in: the paraphraser would be ours
    if paraphraser is None and (
        source == "corpus" or (own_model and not synth.allow_base_as_teacher)
    ):
        n_para = 0
    needs_generator = (paraphraser is None and n_para > 0) or (raft and project.has_index())
    if generator is None and needs_generator:
        generator = project.generator
    if paraphraser is None and n_para > 0:
        paraphraser = generator
    return _Writers(teacher, paraphraser, generator, n_para)


def synthesize(
    project: Project,
    source: Source = "corpus",
    path: Path | str | None = None,
    paraphrases: int | None = None,
    seed: int | None = None,
    raft: bool = True,
    generator: Generator | None = None,
    progress: Progress | None = None,
    teacher: Generator | None = None,
) -> SynthManifest:
    """Build and write a project's training data; returns its manifest.

    >>> from ragtune import Project
    >>> from ragtune.synth import synthesize
    >>> project = Project.open("acme-kb")                               # doctest: +SKIP
    >>> m = synthesize(project, source="demo", path="demo-v1/qa.jsonl")  # doctest: +SKIP
    >>> m.counts.train, m.counts.heldout_unseen_fact                     # doctest: +SKIP
    (433, 108)

    A ``corpus`` source is read by the extractive generator (no model) unless a teacher
    is given or configured (``synth.teacher``, see :func:`~ragtune.synth.teacher.resolve_teacher`);
    the teacher then writes the pairs and the paraphrases. Extractive facts come with
    ``synth.phrasings`` template phrasings and are paraphrased only by a teacher, never
    by the evaluated model. ``generator`` defaults to the project's (``llm`` config): its
    tokenizer fits RAFT prompts exactly as the ``raft`` arm will, and for a QA file with
    no teacher it writes the paraphrases.
    """
    started = time.perf_counter()
    progress = progress or Progress()
    synth = project.config.synth
    seed = synth.seed if seed is None else seed
    n_para = synth.paraphrases if paraphrases is None else paraphrases
    if n_para < 0:
        raise ConfigError(f"paraphrases must be >= 0 (got {n_para})")
    resolved = _source_path(source, path)
    w = _writers(project, source, teacher, generator, n_para, raft)
    loaded = load_rows(project, source, resolved, w.teacher, progress)
    training = split_and_paraphrase(
        loaded.rows,
        w.paraphraser,
        w.paraphrases,
        synth.heldout_share,
        synth.unseen_fact_share,
        seed,
        progress,
    )
    domain = project.config.project.domain
    counts, written = write_qa_files(project.data_dir, training, loaded.generated, domain)
    outcome = write_raft_file(project, training.train, w.generator, raft, seed, progress)
    counts.raft = outcome.count
    if outcome.count is not None:
        written["raft_train"] = str(project.data_dir / files.RAFT_TRAIN)
    manifest = SynthManifest(
        source=source,
        source_path=str(resolved) if resolved else None,
        source_fingerprint=file_fingerprint(resolved) if resolved and resolved.is_file() else None,
        seed=seed,
        counts=counts,
        settings={
            **synth.model_dump(),
            "paraphrases": w.paraphrases,
            "paraphrased_before_split": training.paraphrased_before_split,
            "question_writer": (w.teacher.name if w.teacher else "extractive")
            if source == "corpus"
            else source,
            "paraphraser": w.paraphraser.name if w.paraphraser and w.paraphrases > 0 else None,
        },
        generator=w.generator.name if w.generator is not None else None,
        files=written,
        seconds=round(time.perf_counter() - started, 3),
        raft=outcome.info,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    files.write_json(project.data_dir / files.MANIFEST, manifest.to_dict())
    return manifest
