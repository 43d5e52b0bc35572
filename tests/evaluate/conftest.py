"""A tiny project with a held-out split, built once per session: hash embedder, word
tokenizer, scripted generator (it answers from passage [1], or "I don't know.")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.project import Project

SCRIPTED = {
    "embed": {"backend": "hash"},
    "corpus": {"tokenizer": "words", "chunk_size_tokens": 64, "chunk_overlap_tokens": 8},
    "llm": {"backend": "scripted"},
    "eval": {"bootstrap_samples": 200, "latency_probe": 2},
}
CITIES = ["Oslo", "Lima", "Perth", "Quito", "Riga", "Turin"]


def write_tiny_docs(folder: Path, version: int = 1) -> None:
    """Six product pages; version 2 moves P0 and P1 to new cities."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, city in enumerate(CITIES):
        if version == 2 and i < 2:
            city = CITIES[-1 - i] + "ville"
        weight = 10 * i + 7
        (folder / f"p{i}.md").write_text(
            f"# Product P{i}\n\nThe P{i} router is assembled in {city}. "
            f"Its housing is anodized aluminium.\n\nThe P{i} weighs {weight} kilograms and costs ${1000 + i * 250:,}.\n"
        )


def tiny_questions() -> list[dict[str, object]]:
    rows = []
    for i, city in enumerate(CITIES):
        split = "unseen_fact" if i >= 4 else "unseen_phrasing"
        rows.append(
            {
                "id": f"p{i}.city",
                "question": f"Where is the P{i} router assembled?",
                "answers": [city],
                "fact_id": f"p{i}.city",
                "doc_ids": [f"p{i}.md"],
                "meta": {"split": split},
            }
        )
        rows.append(
            {
                "id": f"p{i}.price",
                "question": f"How much does the P{i} router cost?",
                "answers": [f"${1000 + i * 250:,}"],
                "fact_id": f"p{i}.price",
                "doc_ids": [f"p{i}.md"],
                "meta": {"split": split},
            }
        )
    return rows


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("tiny")
    project = Project.init(root / "proj", SCRIPTED)
    write_tiny_docs(root / "docs")
    project.ingest([root / "docs"])
    project.data_dir.mkdir(parents=True, exist_ok=True)
    (project.data_dir / "heldout.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in tiny_questions())
    )
    return project
