"""synthesize end to end on test doubles: files, counts, RAFT prompts that match the arm."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.errors import ConfigError
from ragtune.llm.base import ChatMessage
from ragtune.progress import Progress
from ragtune.project import Project
from ragtune.prompts import CLOSED_BOOK_SYSTEM, RAG_SYSTEM, closed_book_messages
from ragtune.synth import synthesize
from ragtune.synth.files import read_examples
from ragtune.synth.pipeline import split_and_paraphrase
from ragtune.systems.rag import RAGSystem
from ragtune.testing.scripted_generator import ScriptedGenerator
from ragtune.types import QAExample

DOCS = {
    "x200.md": "# Ambrel X200\nThe Ambrel X200 weighs 1.4 kg. It lists at $1,759 and is assembled in Calderwick.",
    "x300.md": "# Ambrel X300\nThe Ambrel X300 weighs 2.1 kg. It lists at $2,029 and is assembled in Quenby.",
    "k500.md": "# Kestrane K500\nThe Kestrane K500 weighs 1.0 kg. It lists at $899 and is assembled in Nysa Falls.",
    "policy.md": "# Returns\nPurchases can be returned within 45 days. Support answers within 2 business days.",
    "about.md": "# About\nVeltrona Systems was founded in 1998. Its headquarters are in Calderwick.",
}
FACTS = [
    (
        "x200.weight",
        [
            "How much does the Ambrel X200 weigh?",
            "What is the weight of the Ambrel X200?",
            "Ambrel X200 weight?",
        ],
        ["1.4 kg"],
        "x200.md",
    ),
    (
        "x200.price",
        [
            "What does the Ambrel X200 cost?",
            "List price of the Ambrel X200?",
            "How much is the Ambrel X200?",
        ],
        ["$1,759", "1759"],
        "x200.md",
    ),
    (
        "x300.plant",
        [
            "Where is the Ambrel X300 assembled?",
            "Which city builds the Ambrel X300?",
            "Ambrel X300 plant city?",
        ],
        ["Quenby"],
        "x300.md",
    ),
    (
        "k500.price",
        [
            "What does the Kestrane K500 cost?",
            "Kestrane K500 list price?",
            "Price of the Kestrane K500?",
        ],
        ["$899"],
        "k500.md",
    ),
    (
        "returns",
        [
            "How many days to return a purchase?",
            "What is the return window?",
            "Return period in days?",
        ],
        ["45 days"],
        "policy.md",
    ),
    (
        "founded",
        [
            "When was Veltrona Systems founded?",
            "Founding year of Veltrona Systems?",
            "In what year did Veltrona Systems start?",
        ],
        ["1998"],
        "about.md",
    ),
]


#: The manifest's count keys every source writes, in order (readers outside synth use them).
MANIFEST_COUNT_KEYS = [
    "train",
    "qa_sft",
    "train_paraphrases",
    "train_facts",
    "heldout_unseen_phrasing",
    "heldout_unseen_fact",
    "heldout_unseen_fact_facts",
]


def rephrase(conversation: list[ChatMessage]) -> str:
    question = conversation[-1].content.split("Question:", 1)[-1].strip().rstrip("?")
    return f"1. Tell me: {question}?\n2. I wonder, {question}?\n3. Quick one: {question}?"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    proj = Project.init(
        tmp_path / "proj", {"embed": {"backend": "hash"}, "llm": {"backend": "scripted"}}
    )
    proj.ingest([docs])
    return proj


@pytest.fixture
def qa_file(tmp_path: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    rows = [
        {
            "id": f"{fact}:p{i}",
            "question": q,
            "answers": answers,
            "fact_id": fact,
            "phrasing": f"p{i}",
            "doc_ids": [doc],
        }
        for fact, questions, answers, doc in FACTS
        for i, q in enumerate(questions)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_projects_own_model_never_paraphrases_a_qa_file_unless_allowed(
    project: Project, qa_file: Path
) -> None:
    """No teacher and no generator handed in: the QA file's own phrasings only."""
    manifest = synthesize(project, source="qa-file", path=qa_file, paraphrases=2, raft=False)
    assert manifest.counts["train_paraphrases"] == 0 and manifest.counts["train"] > 0


def test_qa_file_to_training_files(project: Project, qa_file: Path) -> None:
    manifest = synthesize(
        project,
        source="qa-file",
        path=qa_file,
        paraphrases=2,
        seed=0,
        generator=ScriptedGenerator(rephrase),
    )
    data = project.data_dir
    train, heldout = read_examples(data / "train_qa.jsonl"), read_examples(data / "heldout.jsonl")
    c = manifest.counts
    assert c["heldout_unseen_fact_facts"] == 1 and c["heldout_unseen_phrasing"] == 5
    assert c["train_paraphrases"] == 10 and c["train"] == len(train) == 10 + 10
    assert {r.meta["split"] for r in heldout} == {"unseen_phrasing", "unseen_fact"}
    assert not {r.question for r in train} & {r.question for r in heldout}
    on_disk = json.loads((data / "manifest.json").read_text())
    assert on_disk["source"] == "qa-file" and on_disk["seed"] == 0 and on_disk["counts"] == c
    assert list(on_disk["counts"]) == [*MANIFEST_COUNT_KEYS, "raft"]
    assert c.train == on_disk["counts"]["train"] and c.raft == on_disk["counts"]["raft"]
    assert on_disk["source_fingerprint"]

    sft = [json.loads(line) for line in (data / "qa_sft.jsonl").read_text().splitlines()]
    assert len(sft) == len(train)
    first = sft[0]["messages"]
    assert first[:-1] == [m.to_dict() for m in closed_book_messages(train[0].question)]
    assert first[0]["content"] == CLOSED_BOOK_SYSTEM and first[-1] == {
        "role": "assistant",
        "content": train[0].answers[0],
    }


def test_raft_rows_use_the_arm_prompt_and_cite_the_oracle(project: Project, qa_file: Path) -> None:
    manifest = synthesize(
        project,
        source="qa-file",
        path=qa_file,
        paraphrases=0,
        seed=0,
        generator=ScriptedGenerator(),
    )
    raft_rows = [
        json.loads(line)["messages"]
        for line in (project.data_dir / "raft_train.jsonl").read_text().splitlines()
    ]
    assert manifest.counts["raft"] == len(raft_rows) == manifest.counts["train"]
    assert manifest.raft["no_oracle_found"] == 0
    train = read_examples(project.data_dir / "train_qa.jsonl")
    # The raft arm's own prompt for the same question has the same shape, system turn and frame.
    arm = RAGSystem(project.retriever(), ScriptedGenerator(), top_k=project.config.retrieve.top_k)
    with_oracle = 0
    for row, messages in zip(train, raft_rows, strict=True):
        system, user, target = messages
        arm_messages, _, _ = arm.prepare(row.question)
        assert system == arm_messages[0].to_dict() and system["content"] == RAG_SYSTEM
        assert user["content"].startswith("Passages:\n[1] (") and arm_messages[
            1
        ].content.startswith("Passages:\n[1] (")
        assert user["content"].endswith(f"\n\nQuestion: {row.question}\nAnswer:")
        assert user["content"].count("\n[") == project.config.synth.raft_distractors + 1  # passages
        if target["content"].startswith("##Quote:"):
            with_oracle += 1
            marker = target["content"].rsplit("[", 1)[1].rstrip("]")
            cited = next(
                line for line in user["content"].splitlines() if line.startswith(f"[{marker}] ")
            )
            assert any(a.lower() in cited.lower() for a in row.answers)
            assert target["content"].split("\n")[1].startswith("##Answer: ")
        else:
            assert target["content"].startswith("##Answer: ")
    assert with_oracle == manifest.raft["with_oracle"] > 0


def test_datasets_load_every_file(project: Project, qa_file: Path) -> None:
    datasets = pytest.importorskip("datasets")
    synthesize(
        project, source="qa-file", path=qa_file, paraphrases=0, generator=ScriptedGenerator()
    )
    for name in ("train_qa", "heldout", "qa_sft", "raft_train"):
        path = project.data_dir / f"{name}.jsonl"
        loaded = datasets.load_dataset("json", data_files=str(path), split="train")
        rows = path.read_text(encoding="utf-8").splitlines()
        assert len(rows) > 0 and len(loaded) == len(rows), name


def test_from_corpus_with_a_scripted_teacher(project: Project) -> None:
    def writer(conversation: list[ChatMessage]) -> str:
        if "Rewrite" in conversation[-1].content:
            return rephrase(conversation)
        passage = conversation[-1].content.split("Passage:\n", 1)[1]
        name = passage.split("\n")[0].lstrip("# ").strip()
        number = next(
            w for w in passage.split() if any(ch.isdigit() for ch in w) and w not in name
        ).rstrip(".")
        return f"Q: Which number is stated about {name}?\nA: {number}\nQ: What colour is {name}?\nA: purple"

    manifest = synthesize(
        project, source="corpus", paraphrases=2, seed=0, teacher=ScriptedGenerator(writer)
    )
    c = manifest.counts
    assert c["generated_kept"] == 5 and c["generated_not_span"] == 5
    assert c.generated["kept"] == 5 and c.generated["relation_teacher"] == 5
    on_disk = json.loads((project.data_dir / "manifest.json").read_text())["counts"]
    generated = [
        "chunks",
        "units",
        "proposed",
        "kept",
        "facts",
        "not_span",
        "answer_in_question",
        "duplicate",
        "near_duplicate",
        "over_limit",
        "unparsed",
        "relation_teacher",
    ]
    assert list(on_disk) == [f"generated_{k}" for k in generated] + [*MANIFEST_COUNT_KEYS, "raft"]
    assert manifest.settings["paraphrased_before_split"] is True
    assert c["heldout_unseen_phrasing"] > 0 and c["train_paraphrases"] > 0
    assert c["train"] + c["heldout_unseen_phrasing"] + c["heldout_unseen_fact"] == 15


def test_bad_qa_file_fails_with_the_line_in_the_cli(tmp_path: Path, project: Project) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nfine?,yes\nno answer here?,\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ragtune.cli.main",
            "synth",
            "--qa-file",
            str(bad),
            "-p",
            str(project.root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert f"{bad}:3: row has no answer" in run.stderr.replace("\n", "")


def test_without_raft_the_counts_have_no_raft_key(project: Project, qa_file: Path) -> None:
    manifest = synthesize(
        project, source="qa-file", path=qa_file, paraphrases=0, raft=False, seed=0
    )
    assert manifest.counts.raft is None and "raft" not in manifest.counts
    assert manifest.counts.get("raft", 0) == 0 and manifest.raft == {"skipped": "disabled"}
    on_disk = json.loads((project.data_dir / "manifest.json").read_text())
    assert list(on_disk["counts"]) == MANIFEST_COUNT_KEYS
    assert not (project.data_dir / "raft_train.jsonl").exists()


def test_paraphrasing_without_a_generator_is_a_config_error() -> None:
    rows = [QAExample(f"f{i}:p0", f"Question {i}?", ["a"], fact_id=f"f{i}") for i in range(4)]
    with pytest.raises(ConfigError, match="paraphrasing needs a generator"):
        split_and_paraphrase(rows, None, 2, 0.25, 0.25, seed=0, progress=Progress())
    # No paraphrases asked: no generator needed.
    training = split_and_paraphrase(rows, None, 0, 0.25, 0.25, seed=0, progress=Progress())
    assert training.paraphrased_before_split and len(training.train) == 3
