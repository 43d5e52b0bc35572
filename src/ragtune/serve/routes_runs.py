"""Evaluation runs and the comparison report, as the experiment stage wrote them.

GET /v1/runs          the run files in .ragtune/runs/, newest first
GET /v1/runs/{id}     one run file's JSON (id = file name without .json)
GET /report           the newest report.html under .ragtune/runs/; without one, a 404
                      that is JSON like every other error, or a page saying how to make
                      a report when a browser asks for HTML
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ragtune.serve.errors import ApiError
from ragtune.serve.files import list_runs, newest_report, run_file, valid_run_id
from ragtune.serve.routes_chat import get_service

router = APIRouter(tags=["runs"])

NO_REPORT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>No report yet · ragtune</title><link rel="stylesheet" href="/static/style.css"></head>
<body class="plain"><main class="notice"><h1>No comparison report yet</h1>
<p>Reports appear here once an evaluation has run. In the project folder, run:</p>
<pre>ragtune eval &amp;&amp; ragtune report</pre><p>and reload this page. (Looked in <code>{runs_dir}</code>.)</p>
<p><a href="/">Back to ragtune</a></p></main></body></html>"""


@router.get("/v1/runs")
async def runs(request: Request) -> dict[str, Any]:
    """The evaluation run files, newest first."""
    project = get_service(request).project
    found = await run_in_threadpool(list_runs, project.runs_dir, project.root)
    return {
        "object": "list",
        "data": [
            {"id": r.id, "object": "run", "bytes": r.bytes, "modified": r.modified} for r in found
        ],
    }


@router.get("/v1/runs/{run_id}")
async def run(run_id: str, request: Request) -> Response:
    """One run file, as written."""
    if not valid_run_id(run_id):
        raise ApiError(
            400,
            f"run id {run_id!r} is not a plain file name",
            code="invalid_run_id",
            param="run_id",
        )
    project = get_service(request).project
    path = run_file(project.runs_dir, project.root, run_id)
    if path is None:
        raise ApiError(404, f"no run {run_id!r} in {project.runs_dir.name}/", code="run_not_found")
    data = await run_in_threadpool(path.read_bytes)
    try:
        json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(
            409, f"run {run_id!r} is not valid JSON (being written?)", code="run_unreadable"
        ) from None
    return Response(data, media_type="application/json")


def wants_html(request: Request) -> bool:
    """Whether the client asked for HTML before JSON (a browser navigating here)."""
    accept = request.headers.get("accept", "").lower()
    if "text/html" not in accept:
        return False
    return "application/json" not in accept or accept.index("text/html") < accept.index(
        "application/json"
    )


@router.get("/report", response_class=HTMLResponse)
async def report(request: Request) -> HTMLResponse:
    """The newest comparison report; without one a 404 (JSON, or for a browser a page
    saying how to make one)."""
    project = get_service(request).project
    path = await run_in_threadpool(newest_report, project.runs_dir, project.root)
    if path is None:
        relative = (
            project.runs_dir.relative_to(project.root)
            if project.runs_dir.is_relative_to(project.root)
            else "runs"
        )
        if not wants_html(request):
            raise ApiError(
                404,
                f"no comparison report yet in {relative}/: run 'ragtune eval && ragtune report'",
                code="report_not_found",
            )
        return HTMLResponse(
            NO_REPORT_PAGE.format(runs_dir=html.escape(str(relative))), status_code=404
        )
    return HTMLResponse(await run_in_threadpool(path.read_text, "utf-8", "replace"))
