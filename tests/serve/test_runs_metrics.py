"""Run files and the report as another stage wrote them; /metrics in Prometheus text format."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest

from ragtune.project import Project
from ragtune.serve import create_app
from ragtune.serve.metrics import Metrics
from ragtune.serve.server import BackgroundServer
from tests.serve.conftest import AUTH, KEY, ask


def test_runs_are_listed_newest_first_and_served_as_written(
    client: httpx.Client, project: Project
) -> None:
    assert client.get("/v1/runs").json()["data"] == []
    project.runs_dir.mkdir(parents=True, exist_ok=True)
    old = project.runs_dir / "compare-1.json"
    written = {"schema": "ragtune.run/1", "run_id": "compare-1", "kind": "eval", "arms": {}}
    old.write_text(json.dumps(written))
    os.utime(old, (time.time() - 60, time.time() - 60))
    (project.runs_dir / "freshness-2.json").write_text(
        json.dumps({"schema": "ragtune.run/1", "run_id": "freshness-2", "kind": "freshness"})
    )
    (project.runs_dir / "notes.txt").write_text("not a run")
    # JSON beside the runs that is not a run (the demo's summary) is not listed as one.
    (project.runs_dir / "demo-summary.json").write_text(json.dumps({"stages": []}))
    listed = client.get("/v1/runs").json()["data"]
    assert [r["id"] for r in listed] == ["freshness-2", "compare-1"]
    assert client.get("/v1/runs/compare-1").json() == written
    assert client.get("/v1/runs/notes").status_code == 404
    (project.runs_dir / "partial.json").write_text('{"kind": ')
    assert client.get("/v1/runs/partial").status_code == 409


def test_a_symlink_out_of_the_project_is_not_served(
    client: httpx.Client, project: Project, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"password": "hunter2"}')
    project.runs_dir.mkdir(parents=True, exist_ok=True)
    (project.runs_dir / "leak.json").symlink_to(secret)
    assert client.get("/v1/runs/leak").status_code == 404
    assert "leak" not in [r["id"] for r in client.get("/v1/runs").json()["data"]]
    (project.runs_dir / "sneaky").mkdir()
    (project.runs_dir / "sneaky" / "report.html").symlink_to(secret)
    assert client.get("/report").status_code == 404


def test_report_serves_the_newest_report_or_a_friendly_page(
    client: httpx.Client, project: Project
) -> None:
    missing = client.get("/report")  # a client that asks for nothing in particular: JSON
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "report_not_found"
    browser = client.get("/report", headers={"Accept": "text/html,application/xhtml+xml,*/*"})
    assert browser.status_code == 404 and "No comparison report yet" in browser.text
    older, newer = project.runs_dir / "run-a", project.runs_dir / "run-b"
    for folder, title in ((older, "Old"), (newer, "New")):
        folder.mkdir(parents=True)
        (folder / "report.html").write_text(f"<html><title>{title} report</title></html>")
    os.utime(older / "report.html", (time.time() - 60, time.time() - 60))
    page = client.get("/report")
    assert page.status_code == 200 and "New report" in page.text


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``{(name, labels): value}`` from the exposition text (label order does not matter)."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _, labels = series.partition("{")
        pairs = re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels)
        samples[(name, frozenset(pairs))] = float(value)
    return samples


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.mark.parametrize("backend", ["prometheus", "plain"])
def test_metrics_count_requests_latency_and_tokens(project: Project, backend: str) -> None:
    if backend == "prometheus":
        pytest.importorskip("prometheus_client")
    with (
        BackgroundServer(create_app(project, api_key=KEY, metrics_backend=backend)) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as client,
    ):
        ask(client, "How much does the P1 model weigh?")
        client.get("/v1/documents/missing")
        httpx.get(server.url + "/v1/models")  # 401
        response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = parse_metrics(response.text)
    chat = {"route": "/v1/chat/completions", "method": "POST"}
    assert sample(samples, "ragtune_http_requests_total", **chat, status="200") == 1
    assert (
        sample(
            samples,
            "ragtune_http_requests_total",
            route="/v1/documents/{doc_id:path}",
            method="GET",
            status="404",
        )
        == 1
    )
    assert (
        sample(
            samples, "ragtune_http_requests_total", route="/v1/models", method="GET", status="401"
        )
        == 1
    )
    assert sample(samples, "ragtune_http_request_duration_seconds_bucket", **chat, le="+Inf") == 1
    assert sample(samples, "ragtune_http_request_duration_seconds_sum", **chat) > 0
    assert sample(samples, "ragtune_generated_tokens_total", arm="rag") > 0
    assert sample(samples, "ragtune_prompt_tokens_total", arm="rag") > 0
    assert sample(samples, "ragtune_batch_size_count", arm="rag") == 1


def test_plain_histogram_is_cumulative() -> None:
    metrics = Metrics("plain")
    for seconds in (0.003, 0.2, 0.2, 500.0):
        metrics.observe_request("/x", "GET", 200, seconds)
    text = metrics.render()[0].decode()
    assert (
        'ragtune_http_request_duration_seconds_bucket{route="/x",method="GET",le="0.005"} 1.0'
        in text
    )
    assert (
        'ragtune_http_request_duration_seconds_bucket{route="/x",method="GET",le="0.25"} 3.0'
        in text
    )
    assert (
        'ragtune_http_request_duration_seconds_bucket{route="/x",method="GET",le="120.0"} 3.0'
        in text
    )
    assert (
        'ragtune_http_request_duration_seconds_bucket{route="/x",method="GET",le="+Inf"} 4.0'
        in text
    )
    assert 'ragtune_http_request_duration_seconds_count{route="/x",method="GET"} 4.0' in text
