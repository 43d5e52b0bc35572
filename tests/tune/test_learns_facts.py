"""The point of the ``ft`` arm: after ``synth`` + ``tune --mode qa`` on the demo domain, the
model answers *held-out phrasings* of trained facts better than the base model does.

Real model (SmolLM2-135M), real LoRA training, the arms built by ``build_system``. The
demo domain is fictional, so the base model cannot know these facts. The numbers are
printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.project import Project
from ragtune.synth import synthesize
from ragtune.synth.files import read_examples
from ragtune.systems import build_system
from ragtune.types import QAExample

pytestmark = pytest.mark.integration


def correct(text: str, row: QAExample) -> bool:
    flat = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in flat for a in row.answers)


def accuracy(project: Project, arm: str, rows: list[QAExample]) -> tuple[float, list[str]]:
    answers = build_system(project, arm).answer_batch([r.question for r in rows])
    hits = [correct(a.text, r) for a, r in zip(answers, rows, strict=True)]
    return sum(hits) / len(rows), [a.text for a in answers]


def run(
    tmp_path: Path, demo_corpus: Path, n_facts: int, epochs: float, lr: float, batch_size: int = 8
) -> dict[str, float]:
    from ragtune.demo import load_qa

    rows = load_qa(demo_corpus / "qa.jsonl")
    # Short answers (names, cities, years) keep the slice quick; take the first facts of each kind.
    kinds: dict[str, list[str]] = {}
    for row in rows:
        if row.meta.get("kind") in ("city", "year", "name", "money"):
            kinds.setdefault(row.meta["kind"], [])
            if row.fact_id not in kinds[row.meta["kind"]]:
                kinds[row.meta["kind"]].append(row.fact_id)
    chosen: list[str] = []
    while len(chosen) < n_facts:
        for facts in kinds.values():
            if facts and len(chosen) < n_facts:
                chosen.append(facts.pop(0))
    qa = tmp_path / "slice.jsonl"
    qa.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows if r.fact_id in chosen))

    project = Project.init(
        tmp_path / "proj",
        {
            "embed": {"backend": "hash"},
            "synth": {"unseen_fact_share": 0.0, "heldout_share": 0.25},
            "llm": {"max_new_tokens": 16},
            "tune": {"epochs": epochs, "learning_rate": lr, "batch_size": batch_size},
        },
    )
    manifest = synthesize(project, source="demo", path=qa, paraphrases=0, raft=False)
    heldout = read_examples(project.data_dir / "heldout.jsonl")
    assert {r.meta["split"] for r in heldout} == {"unseen_phrasing"} and len(heldout) == n_facts

    from ragtune.tune import train

    tuned = train(project, "qa")
    project = Project.open(project.root)  # a fresh generator that loads the new adapter
    base, base_texts = accuracy(project, "base", heldout)
    ft, ft_texts = accuracy(project, "ft", heldout)
    train_rows = read_examples(project.data_dir / "train_qa.jsonl")
    ft_train, _ = accuracy(project, "ft", train_rows)
    print(
        f"\n{n_facts} facts, {manifest.counts['train']} training questions, {len(heldout)} held-out phrasings; "
        f"{tuned.steps} steps, {tuned.tokens_seen} tokens, {tuned.train_seconds:.0f}s, final loss {tuned.final_loss:.3f}\n"
        f"held-out phrasing accuracy: base {base:.2f} -> ft {ft:.2f}; ft on trained phrasings {ft_train:.2f}"
    )
    for row, b, f in list(zip(heldout, base_texts, ft_texts, strict=True))[:6]:
        print(f"  {row.question!r} expected {row.answers[0]!r}: base {b!r} | ft {f!r}")
    return {"base": base, "ft": ft, "ft_train": ft_train}


def test_ft_beats_base_on_heldout_phrasings_fast(tmp_path: Path, demo_corpus: Path) -> None:
    # 4 facts x 3 trained phrasings, 8 epochs: ~16 steps, ~5k tokens (~2 min on 2 idle cores).
    # Measured with 6 facts (24 steps) on a shared machine: base 0.00 -> ft 0.83 on held-out phrasings.
    scores = run(tmp_path, demo_corpus, n_facts=4, epochs=8, lr=2e-3, batch_size=6)
    assert scores["ft_train"] >= 0.5
    assert scores["ft"] > scores["base"]


@pytest.mark.slow
def test_ft_beats_base_on_heldout_phrasings_demo_slice(tmp_path: Path, demo_corpus: Path) -> None:
    scores = run(tmp_path, demo_corpus, n_facts=24, epochs=8, lr=2e-3)
    assert scores["ft"] >= scores["base"] + 0.2
