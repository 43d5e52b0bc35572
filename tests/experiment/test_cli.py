"""The eval, freshness, recommend and report commands over a tiny project (test doubles)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import DataError
from ragtune.project import Project
from tests.evaluate.conftest import SCRIPTED, tiny_questions, write_tiny_docs
from tests.experiment.conftest import write_changes

runner = CliRunner()


def _project(tmp_path: Path) -> Path:
    write_tiny_docs(tmp_path / "v1" / "docs", 1)
    write_tiny_docs(tmp_path / "v2" / "docs", 2)
    write_changes(tmp_path / "v2" / "changes.jsonl")
    project = Project.init(tmp_path / "proj", SCRIPTED)
    project.ingest([tmp_path / "v1" / "docs"])
    (project.data_dir / "heldout.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in tiny_questions())
    )
    return project.root


def test_eval_freshness_recommend_report(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = runner.invoke(app, ["eval", "-p", str(root), "--arm", "base,rag", "--arm", "ft"])
    assert result.exit_code == 0, result.output
    assert "rag" in result.output and "skipped" in result.output and "Run file:" in result.output

    result = runner.invoke(
        app, ["freshness", "-p", str(root), "--update", str(tmp_path / "v2"), "--arm", "base,rag"]
    )
    assert result.exit_code == 0, result.output
    assert "fresh" in result.output

    result = runner.invoke(
        app, ["recommend", "-p", str(root), "--json", "--updates-per-month", "30"]
    )
    assert result.exit_code == 0, result.output
    rec = json.loads(result.output)
    assert rec["arm"] == "rag" and rec["constraints"]["updates_per_month"] == 30

    result = runner.invoke(app, ["recommend", "-p", str(root), "--accuracy-floor", "0.99"])
    assert result.exit_code == 0 and "Recommendation: none" in result.output

    result = runner.invoke(app, ["report", "-p", str(root), "--json"])
    assert result.exit_code == 0, result.output
    paths = json.loads(result.output)
    assert Path(paths["html"]).is_file() and Path(paths["markdown"]).is_file()


def test_eval_with_a_users_csv(tmp_path: Path) -> None:
    root = _project(tmp_path)
    qa = tmp_path / "ours.csv"
    qa.write_text("question,answer,doc_ids\nWhere is the P2 router assembled?,Perth,p2.md\n")
    result = runner.invoke(
        app, ["eval", "-p", str(root), "--arm", "rag", "--qa", str(qa), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["arms"]["rag"]["accuracy"]["contains"]["n"] == 1


def test_recommend_without_runs(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = runner.invoke(app, ["recommend", "-p", str(root)])
    # `ragtune` prints a RagtuneError as one line (cli.main.main); the runner keeps it.
    assert result.exit_code == 1 and isinstance(result.exception, DataError)
    assert "no evaluation runs" in str(result.exception) and "ragtune eval" in str(result.exception)
