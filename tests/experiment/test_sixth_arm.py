"""An arm is one registration: a sixth arm registered in this module appears in
evaluation, freshness, costs, the report and the server's ``/v1/models`` with no other edit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ragtune.arms import ArmSpec
from ragtune.evaluate.runner import evaluate
from ragtune.experiment.costs import arm_profiles
from ragtune.experiment.freshness import run_freshness
from ragtune.experiment.recommend import recommend_latest
from ragtune.project import Project
from ragtune.registry import arms
from ragtune.report import write_report

SIXTH = ArmSpec(
    "raft-closed",
    retrieves=False,
    adapter="raft",
    order=60,
    description="the RAFT adapter asked without passages",
)


@pytest.fixture
def sixth_arm() -> Iterator[ArmSpec]:
    arms.register(SIXTH)
    try:
        yield SIXTH
    finally:
        arms.unregister(SIXTH.name)


def test_a_sixth_arm_reaches_every_consumer(
    sixth_arm: ArmSpec, two_version_project: tuple[Project, Path]
) -> None:
    project, v2 = two_version_project
    assert project.config.eval.arms[-1] == "raft-closed"  # the default is every registered arm

    run, _ = evaluate(project)
    assert run.ok_arms[-1] == "raft-closed"
    summary = run.arms["raft-closed"]
    assert summary.spec == {"retrieves": False, "adapter": "raft", "order": 60}
    assert summary.accuracy["contains"].n == run.arms["raft"].accuracy["contains"].n
    closed = [r for r in run.records if r["arm"] == "raft-closed"]
    assert closed and all(not r["cited"] for r in closed)  # closed book: no passages to cite

    fresh, _ = run_freshness(project, v2, retrain_arms=False)
    assert fresh.arms["raft-closed"].status == "ok"
    # Closed book and fine-tuned: stale until its adapter is retrained, like ft.
    assert fresh.arms["raft-closed"].after_update == fresh.arms["ft"].after_update == "stale"
    assert fresh.arms["raft-closed"].time_to_fresh.estimate_seconds is not None

    profiles = arm_profiles(run, fresh)
    sixth, raft, ft = profiles["raft-closed"], profiles["raft"], profiles["ft"]
    # Same adapter as raft, but no index to build: its one-off cost is raft's minus the index.
    index_s = run.costs.index.seconds or 0.0
    assert sixth.one_off_s == pytest.approx(raft.one_off_s - index_s)
    assert sixth.sources["one_off"] == "synthesis + training 'raft'"
    assert sixth.per_update_s > 0 and ft.per_update_s > 0

    paths = write_report(
        project.runs_dir, recommend_latest(project.runs_dir, project.config.recommend)
    )
    html = paths.html.read_text(encoding="utf-8")
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert "raft-closed" in html and "raft-closed" in markdown
    assert html.index(">raft<") < html.index(">raft-closed<")  # display order from the spec


def test_a_sixth_arm_is_served(sixth_arm: ArmSpec, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from ragtune.serve import create_app
    from ragtune.serve.server import BackgroundServer
    from tests.experiment.conftest import fake_adapter
    from tests.serve.conftest import AUTH, KEY, make_project

    project = make_project(tmp_path)
    app = create_app(project, api_key=KEY)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, headers=AUTH) as http:
        before = [m["id"] for m in http.get("/v1/models").json()["data"]]
        assert before == ["base", "rag"]  # no adapters yet
        missing = http.post(
            "/v1/chat/completions",
            json={"model": "raft-closed", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert missing.status_code == 404 and "'raft' adapter" in missing.text
        fake_adapter(project, "raft")
        after = [m["id"] for m in http.get("/v1/models").json()["data"]]
        assert after == ["base", "rag", "raft", "raft-closed"]
