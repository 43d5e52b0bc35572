"""Version 2: about a fifth of the facts changed, documents added and removed, the rest byte-identical."""

from __future__ import annotations

import json
from pathlib import Path

from ragtune.demo import DemoCorpusInfo, load_changes, load_qa, write_demo_corpus


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _manifest(info: DemoCorpusInfo) -> dict:
    return json.loads((info.out / "manifest.json").read_text(encoding="utf-8"))


def test_about_a_fifth_of_facts_change(
    corpus_v1: DemoCorpusInfo, corpus_v2: DemoCorpusInfo
) -> None:
    changes = load_changes(corpus_v2.out)
    assert 0.15 <= len(changes) / corpus_v1.n_facts <= 0.25
    assert corpus_v2.n_changed_facts == len(changes)
    groups = {c.group for c in changes}
    assert {"product.price", "firmware.latest"} <= groups
    assert groups & {"product.pm", "office.manager"}  # owners change too
    assert not (corpus_v1.out / "changes.jsonl").exists()


def test_changes_agree_with_both_qa_files(
    corpus_v1: DemoCorpusInfo, corpus_v2: DemoCorpusInfo
) -> None:
    v1 = {q.id: q for q in load_qa(corpus_v1.out)}
    v2 = {q.id: q for q in load_qa(corpus_v2.out)}
    changes = {c.fact_id: c for c in load_changes(corpus_v2.out)}
    for change in changes.values():
        assert change.old_answers != change.new_answers
        assert len(change.question_ids) >= 3
        for qid in change.question_ids:
            assert v1[qid].answers == change.old_answers
            assert v2[qid].answers == change.new_answers
            assert v2[qid].doc_ids == change.doc_ids
            assert v1[qid].doc_ids == change.old_doc_ids
            assert v2[qid].question in change.questions
    for qid, row in v1.items():
        if row.fact_id not in changes:
            assert v2[qid].answers == row.answers, qid
    new_facts = {q.fact_id for q in v2.values()} - {q.fact_id for q in v1.values()}
    assert new_facts  # a product launched and firmware shipped between the versions


def test_documents_added_and_removed(corpus_v1: DemoCorpusInfo, corpus_v2: DemoCorpusInfo) -> None:
    v1, v2 = _manifest(corpus_v1)["documents"], _manifest(corpus_v2)["documents"]
    manifest = _manifest(corpus_v2)
    assert manifest["documents_added"] == sorted(set(v2) - set(v1)) != []
    assert manifest["documents_removed"] == sorted(set(v1) - set(v2)) != []
    for doc_id in manifest["documents_added"]:
        assert (corpus_v2.docs_dir / doc_id).is_file()
        assert not (corpus_v1.docs_dir / doc_id).exists()
    for doc_id in manifest["documents_removed"]:
        assert (corpus_v1.docs_dir / doc_id).is_file()
        assert not (corpus_v2.docs_dir / doc_id).exists()


def test_unchanged_documents_are_byte_identical(
    corpus_v1: DemoCorpusInfo, corpus_v2: DemoCorpusInfo
) -> None:
    v1, v2 = _manifest(corpus_v1)["documents"], _manifest(corpus_v2)["documents"]
    common = sorted(set(v1) & set(v2))
    differ = {
        d
        for d in common
        if (corpus_v1.docs_dir / d).read_bytes() != (corpus_v2.docs_dir / d).read_bytes()
    }
    assert differ == set(_manifest(corpus_v2)["documents_changed"])
    # Every difference is explained by a changed or new fact the document states (or stated).
    explained: set[str] = set()
    for change in load_changes(corpus_v2.out):
        explained |= set(change.doc_ids) | set(change.old_doc_ids)
    v1_facts = {q.fact_id for q in load_qa(corpus_v1.out)}
    for row in load_qa(corpus_v2.out):
        if row.fact_id not in v1_facts:
            explained |= set(row.doc_ids)
    assert differ <= explained, sorted(differ - explained)
    assert len(common) - len(differ) >= 0.4 * len(common)


def test_v2_written_over_v1_replaces_it(tmp_path: Path, corpus_v2: DemoCorpusInfo) -> None:
    out = tmp_path / "corpus"
    write_demo_corpus(out, version=1, seed=0)
    write_demo_corpus(out, version=2, seed=0)
    assert _files(out) == _files(corpus_v2.out)
