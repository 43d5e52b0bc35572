"""A re-run evaluates again but reuses answers already computed for the same prompt."""

from __future__ import annotations

import json
from pathlib import Path

from ragtune.evaluate import evaluate
from ragtune.project import Project
from ragtune.testing.scripted_generator import ScriptedGenerator
from tests.evaluate.conftest import SCRIPTED, tiny_questions, write_tiny_docs


class RepeatableScripted(ScriptedGenerator):
    """A double that vouches for its answers, as the real greedy backend does."""

    def cache_identity(self) -> str | None:
        return "repeatable-scripted"


def _project(root: Path) -> Project:
    # Two passages per prompt, so an edited page enters only some of the RAG prompts.
    project = Project.init(root / "proj", {**SCRIPTED, "retrieve": {"top_k": 2}})
    write_tiny_docs(root / "docs")
    project.ingest([root / "docs"])
    project.data_dir.mkdir(parents=True, exist_ok=True)
    (project.data_dir / "heldout.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in tiny_questions())
    )
    project.generator = RepeatableScripted()
    return project


def _answers(run) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(r["arm"], r["qid"], r["prediction"]) for r in run.records]


def test_second_evaluation_reuses_every_answer_and_its_latency(tmp_path: Path) -> None:
    project = _project(tmp_path)
    first, _ = evaluate(project, arms=["base", "rag"], write=False)
    generator = project.generator
    assert isinstance(generator, RepeatableScripted)
    calls_first = len(generator.calls)
    assert first.arms["rag"].speed.reused_answers == 0
    assert not first.arms["rag"].speed.latency_reused
    second, _ = evaluate(project, arms=["base", "rag"], write=False)
    assert _answers(second) == _answers(first)
    for arm in ("base", "rag"):
        speed, before = second.arms[arm].speed, first.arms[arm].speed
        assert speed.reused_answers == 12 and speed.latency_reused
        # Nothing changed: the arm is the first run's, probe and load included.
        assert speed.single_latency_s == before.single_latency_s
        assert speed.load == before.load
    assert len(generator.calls) == calls_first  # not one generation, not even a probe
    project.close()


def test_a_changed_answer_means_a_fresh_probe(tmp_path: Path) -> None:
    project = _project(tmp_path)
    evaluate(project, arms=["base"], write=False)
    generator = project.generator
    assert isinstance(generator, RepeatableScripted)
    project.config.llm.max_new_tokens = 3  # every prompt's answer may now differ
    calls = len(generator.calls)
    second, _ = evaluate(project, arms=["base"], write=False)
    assert second.arms["base"].speed.reused_answers == 0
    assert not second.arms["base"].speed.latency_reused
    assert len(generator.calls) - calls == 12 + 2  # every answer, then the 2-question probe
    project.close()


def test_an_edited_document_recomputes_only_the_prompts_it_changed(tmp_path: Path) -> None:
    project = _project(tmp_path)
    evaluate(project, arms=["base", "rag"], write=False)
    docs = tmp_path / "docs"
    edited = sorted(docs.rglob("*.md"))[0]
    edited.write_text(edited.read_text() + "\nA new closing sentence about nothing else.\n")
    project.ingest([docs])
    second, _ = evaluate(project, arms=["base", "rag"], write=False)
    assert second.arms["base"].speed.reused_answers == 12  # closed book: same prompts
    assert second.arms["base"].speed.latency_reused
    assert not second.arms["rag"].speed.latency_reused  # some prompts changed: re-probed
    rag_reused = second.arms["rag"].speed.reused_answers
    assert 0 < rag_reused < 12, rag_reused  # the prompts that retrieved the edited page are new
    project.close()


def test_turned_off_every_answer_is_generated(tmp_path: Path) -> None:
    project = _project(tmp_path)
    project.config.eval.reuse_answers = False
    evaluate(project, arms=["base"], write=False)
    second, _ = evaluate(project, arms=["base"], write=False)
    assert second.arms["base"].speed.reused_answers == 0
    project.close()


def test_the_report_says_what_was_reused(tmp_path: Path) -> None:
    from ragtune.report import write_report

    project = _project(tmp_path)
    evaluate(project, arms=["base", "rag"])
    run, path = evaluate(project, arms=["base", "rag"])
    assert run.reuse_note() is not None and "24 of 24 answers (base 12, rag 12)" in run.reuse_note()
    paths = write_report(project.runs_dir, None, eval_path=path)
    assert "reused from the answer cache" in paths.markdown.read_text()
    assert "reused from the answer cache" in paths.html.read_text()
    project.close()
