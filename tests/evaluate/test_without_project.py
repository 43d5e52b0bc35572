"""Stages take typed inputs: train an adapter and evaluate three arms with no project
folder at all — a model name, training rows, a config section, a store, a generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.config import EvalConfig, TuneConfig
from ragtune.evaluate.runner import evaluate_systems
from ragtune.index.base import IndexedDocument, Store
from ragtune.registry import stores
from ragtune.retrieve.retriever import Retriever
from ragtune.systems import ClosedBookSystem, RAGSystem
from ragtune.testing.hash_embedder import HashEmbedder
from ragtune.types import Chunk, Document, QAExample
from tests.tune.conftest import FACTS, default_model_or_skip

pytestmark = pytest.mark.integration


def examples() -> list[QAExample]:
    return [
        QAExample(id=f"q{i}", question=q, answers=[a], fact_id=f"f{i}", doc_ids=[f"d{i}"])
        for i, (q, a) in enumerate(FACTS)
    ]


def store_with_facts(path: Path, embedder: HashEmbedder) -> Store:
    store: Store = stores.create("sqlite", path=path)
    items = []
    for i, (question, answer) in enumerate(FACTS):
        text = f"{question.rstrip('?')}: {answer}."
        doc = Document(id=f"d{i}", text=text, source=f"d{i}.md", title=f"fact {i}")
        chunk = Chunk(id=f"d{i}::0", doc_id=doc.id, text=text, index=0, end_char=len(text))
        items.append(IndexedDocument(doc, [chunk], embedder.embed([text])))
    store.write(items)
    return store


def test_train_and_evaluate_from_typed_inputs(tmp_path: Path) -> None:
    from ragtune.llm.transformers import TransformersGenerator
    from ragtune.tune import TrainingData, fit

    default_model_or_skip()
    rows = examples()
    manifest = fit(
        TrainingData.from_examples(rows),
        "default",
        TuneConfig(batch_size=2, gradient_accumulation_steps=1),
        tmp_path / "adapters",
        max_steps=2,
    )
    assert manifest.steps == 2 and (tmp_path / "adapters" / "qa" / "adapter_config.json").is_file()

    embedder = HashEmbedder(dim=64)
    store = store_with_facts(tmp_path / "store", embedder)
    llm = TransformersGenerator(
        "default", adapters={"qa": str(tmp_path / "adapters" / "qa")}, max_new_tokens=12
    )
    systems = {
        "base": ClosedBookSystem(llm),
        "rag": RAGSystem(Retriever(store, embedder), llm, top_k=2),
        "ft": ClosedBookSystem(llm, adapter="qa", arm="ft"),
        "raft": "no raft adapter in this test",
    }
    run = evaluate_systems(systems, rows, EvalConfig(bootstrap_samples=100), batch_size=6, top_k=2)

    assert run.ok_arms == ["base", "rag", "ft"] and run.arms["raft"].reason.startswith("no raft")
    assert {r["arm"] for r in run.records} == {"base", "rag", "ft"}
    assert all(run.arms[a].accuracy["contains"].n == len(rows) for a in run.ok_arms)
    rag_records = [r for r in run.records if r["arm"] == "rag"]
    assert all(r["retrieved"] for r in rag_records)  # the store answered every question
    assert run.comparison("rag", "base") is not None
    # Nothing made a project: no ragtune.toml or .ragtune/ anywhere under the test folder.
    assert not list(tmp_path.rglob("ragtune.toml")) and not list(tmp_path.rglob(".ragtune"))
