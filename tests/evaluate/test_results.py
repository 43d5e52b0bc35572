"""Run files load once, typed: the previous layout still loads, and a field of the wrong
shape fails with a message naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.errors import DataError
from ragtune.evaluate.records import EvalRun, FreshnessRun, load_run
from ragtune.evaluate.results import Interval

FIXTURES = Path(__file__).parents[1] / "report" / "fixtures"


def test_run_files_written_before_typing_load_typed() -> None:
    evaluation = load_run(FIXTURES / "eval_run.json")
    assert isinstance(evaluation, EvalRun)
    rag = evaluation.arms["rag"]
    assert isinstance(rag.accuracy["contains"], Interval) and rag.speed.latency.total.p95 >= 0
    assert evaluation.comparison("rag", "base") is not None
    assert evaluation.comparison("base", "rag").mean == -evaluation.comparison("rag", "base").mean  # type: ignore[union-attr]

    fresh = load_run(FIXTURES / "freshness_run.json")
    assert isinstance(fresh, FreshnessRun)
    assert fresh.freshness.phases == ["before", "updated"]
    # The base arm's "how" from before `never` was a field still reads as never.
    assert fresh.arms["base"].time_to_fresh.how.startswith("never")


def test_a_run_file_round_trips_whole(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "eval_run.json").read_text())
    data["arms"]["rag"]["a_field_from_a_newer_ragtune"] = {"kept": True}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    again = load_run(path).to_dict()
    assert again["arms"]["rag"]["a_field_from_a_newer_ragtune"] == {"kept": True}
    assert again["schema"] == data["schema"]
    assert again["arms"]["rag"]["accuracy"] == data["arms"]["rag"]["accuracy"]


def test_a_field_of_the_wrong_shape_is_named(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "eval_run.json").read_text())
    data["arms"]["rag"]["accuracy"]["contains"]["mean"] = "most"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"bad\.json: field arms\.rag\.accuracy\.contains\.mean"):
        load_run(path)


def test_an_unknown_kind_is_named(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "eval_run.json").read_text())
    data["kind"] = "benchmark"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="field kind: unknown run kind 'benchmark'"):
        load_run(path)
