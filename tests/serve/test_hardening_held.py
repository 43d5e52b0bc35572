"""What issue 14 found holding, kept as tests: concurrent writes to one id leave the
index consistent, and the page renders server text without HTML. (401s on every route,
CORS off, path traversal, no tracebacks and an unchanged store after bad input are in
test_security.py, test_bad_input.py and test_hardening_input.py.)"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from ragtune.project import Project
from ragtune.serve.routes_web import STATIC_DIR


def test_50_concurrent_upsert_delete_rounds_on_one_id_stay_consistent(
    client: httpx.Client, project: Project
) -> None:
    def round_trip(i: int) -> tuple[int, int]:
        doc = {"documents": [{"id": "contested.md", "text": f"The C{i} ships from port {i}."}]}
        written = client.post("/v1/documents", json=doc).status_code
        deleted = client.delete("/v1/documents/contested.md").status_code
        return written, deleted

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(round_trip, range(50)))
    assert all(written == 200 for written, _ in outcomes)
    assert all(deleted in (200, 404) for _, deleted in outcomes)  # another round may win
    final = client.post(
        "/v1/documents", json={"documents": [{"id": "contested.md", "text": "The C ships."}]}
    )
    assert final.status_code == 200
    report = project.store.check()
    assert report.ok, report.problems
    assert client.get("/v1/documents/contested.md").json()["text"] == "The C ships."
    assert len([d for d in project.store.list_documents() if d.id == "contested.md"]) == 1


def test_the_page_never_renders_server_text_as_html() -> None:
    script = (Path(STATIC_DIR) / "app.js").read_text()
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML", script)
    # The one document.write is the server's own report page, opened in a new tab.
    assert script.count("document.write(") == 1
