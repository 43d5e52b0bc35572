"""The report is rendered from run files only, self-contained, with every section."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ragtune.config import RecommendConfig
from ragtune.errors import DataError
from ragtune.evaluate import load_run
from ragtune.experiment.recommend import recommend_latest
from ragtune.report import write_report
from ragtune.report.model import load_report_data, pick_examples
from ragtune.report.plots import nice_ticks
from ragtune.report.screenshot import find_chromium, screenshot

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    shutil.copy(FIXTURES / "eval_run.json", folder / "20990101-000000-eval-aaaa.json")
    shutil.copy(FIXTURES / "freshness_run.json", folder / "20990101-000001-freshness-bbbb.json")
    return folder


def test_html_and_markdown_from_run_files(runs_dir: Path) -> None:
    paths = write_report(runs_dir, recommend_latest(runs_dir, RecommendConfig()))
    html, markdown = paths.html.read_text(), paths.markdown.read_text()
    for section in (
        "recommendation",
        "accuracy",
        "cost",
        "freshness",
        "retrieval",
        "examples",
        "notes",
    ):
        assert f"id='{section}'" in html
    assert html.count("<svg") >= 5
    # Self-contained: no scripts, stylesheets or images fetched from anywhere.
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)
    run = load_run(runs_dir / "20990101-000000-eval-aaaa.json")
    rag = run.arms["rag"].accuracy["contains"]
    assert f"{rag.mean:.0%} <span class='ci'>[{rag.low:.0%}, {rag.high:.0%}]" in html
    assert (
        paths.recommendation is not None
        and f"Use <span class='arm'>{paths.recommendation.arm}</span>" in html
    )
    assert (
        "| arm | contains |" in markdown
        and "## Freshness" in markdown
        and "## Recommendation" in markdown
    )


def test_report_without_freshness_or_constraints(runs_dir: Path) -> None:
    (runs_dir / "20990101-000001-freshness-bbbb.json").unlink()
    paths = write_report(runs_dir)
    html = paths.html.read_text()
    assert "ragtune freshness --update" in html and "class='rec'" not in html


def test_no_runs_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="ragtune eval"):
        write_report(tmp_path)


def test_examples_show_disagreements(runs_dir: Path) -> None:
    data = load_report_data(runs_dir)
    examples = pick_examples(data.eval_run, data.arms)
    assert examples
    for example in examples[:-1]:
        verdicts = {a["correct"] for a in example["answers"].values()}
        assert verdicts == {True, False}


def test_nice_ticks() -> None:
    assert nice_ticks(0, 37) == [0, 10, 20, 30, 40]
    assert nice_ticks(0, 0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_fixture_is_a_current_run_file() -> None:
    data = json.loads((FIXTURES / "eval_run.json").read_text())
    assert data["schema"] == "ragtune.run/1" and set(data["arms"]) == {
        "base",
        "rag",
        "ft",
        "ft+rag",
        "raft",
    }


@pytest.mark.integration
def test_screenshot_in_headless_chromium(runs_dir: Path) -> None:
    if find_chromium() is None:
        pytest.skip("chromium not installed (scripts/install_chromium.sh)")
    paths = write_report(runs_dir, recommend_latest(runs_dir, RecommendConfig()))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    screenshot(paths.html, shot, height=2400, timeout_s=120)
    assert shot.is_file() and shot.stat().st_size > 50_000


def test_seed_spread_is_shown_when_present(runs_dir: Path) -> None:
    path = runs_dir / "20990101-000000-eval-aaaa.json"
    data = json.loads(path.read_text())
    data["arms"]["ft"]["seeds"] = {
        "seeds": [0, 1, 2],
        "values": [0.6, 0.7, 0.65],
        "mean": 0.65,
        "std": 0.05,
        "min": 0.6,
        "max": 0.7,
    }
    path.write_text(json.dumps(data))
    html = write_report(runs_dir).html.read_text()
    assert "over training seeds" in html and "65% ± 5.0 pts" in html


def test_a_run_through_a_model_server_says_so(runs_dir: Path) -> None:
    """Arms asked through a server (``--engine vllm``): its memory is not in the table."""
    path = runs_dir / "20990101-000000-eval-aaaa.json"
    data = json.loads(path.read_text())
    assert write_report(runs_dir).markdown.read_text().count("model server") == 0
    data["config"]["llm"] = {
        "backend": "openai",
        "model": "default",
        "base_url": "http://h:8001/v1",
    }
    path.write_text(json.dumps(data))
    paths = write_report(runs_dir)
    note = "Every arm was answered by the model server at http://h:8001/v1 (default)"
    assert note in paths.markdown.read_text() and note in paths.html.read_text()
