"""Live document updates: the next answer sees an upsert, an upload or a delete."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from ragtune.project import Project
from tests.corpus.conftest import write_docx, write_pdf
from tests.serve.conftest import ask

QUESTION = "What is the warranty of the Zephyr X9?"
ZEPHYR = "The Zephyr X9 warranty lasts seven years. Zephyr X9 units are built in Tromsø."


def cited(body: dict) -> list[str]:
    return [c["doc_id"] for c in body["citations"]]


def test_upsert_changes_the_next_answer(client: httpx.Client, project: Project) -> None:
    before = ask(client, QUESTION)
    assert (
        "zephyr.md" not in cited(before)
        and "seven years" not in before["choices"][0]["message"]["content"]
    )
    response = client.post(
        "/v1/documents",
        json={
            "documents": [
                {
                    "id": "zephyr.md",
                    "text": ZEPHYR,
                    "title": "Zephyr X9",
                    "meta": {"team": "support"},
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["ids"] == ["zephyr.md"] and response.json()["added"] == 1
    after = ask(client, QUESTION)
    assert cited(after) == ["zephyr.md"]
    assert "seven years" in after["choices"][0]["message"]["content"]
    stored = project.store.get_document("zephyr.md")
    assert stored is not None and stored.meta["team"] == "support"

    # Replace it: the answer follows the new text.
    client.post(
        "/v1/documents",
        json={
            "documents": [{"id": "zephyr.md", "text": "The Zephyr X9 warranty lasts two years."}]
        },
    ).raise_for_status()
    assert "two years" in ask(client, QUESTION)["choices"][0]["message"]["content"]

    # Delete it: the citation is gone.
    assert client.delete("/v1/documents/zephyr.md").json() == {
        "id": "zephyr.md",
        "object": "document",
        "deleted": True,
    }
    assert "zephyr.md" not in cited(ask(client, QUESTION))
    assert client.get("/v1/documents/zephyr.md").status_code == 404
    assert client.delete("/v1/documents/zephyr.md").status_code == 404


def test_get_and_list_documents(client: httpx.Client, project: Project) -> None:
    listed = client.get("/v1/documents").json()["data"]
    assert sorted(d["id"] for d in listed) == ["p0.md", "p1.md", "p2.md", "p3.md"]
    assert all(d["n_chunks"] >= 1 and len(d["hash"]) == 64 for d in listed)
    document = client.get("/v1/documents/p1.md").json()
    stored = project.store.get_document("p1.md")
    assert (
        stored is not None and document["text"] == stored.text and document["hash"] == stored.hash
    )


def test_ids_with_slashes_round_trip(client: httpx.Client) -> None:
    client.post(
        "/v1/documents", json={"documents": [{"id": "guides/zephyr/x9.md", "text": ZEPHYR}]}
    ).raise_for_status()
    assert client.get("/v1/documents/guides/zephyr/x9.md").json()["id"] == "guides/zephyr/x9.md"
    assert cited(ask(client, QUESTION)) == ["guides/zephyr/x9.md"]
    assert client.delete("/v1/documents/guides/zephyr/x9.md").status_code == 200


def test_upload_markdown_changes_the_next_answer(client: httpx.Client) -> None:
    response = client.post(
        "/v1/documents", files={"file": ("zephyr.md", f"# Zephyr X9\n\n{ZEPHYR}\n".encode())}
    )
    assert response.status_code == 200, response.text
    assert response.json()["ids"] == ["zephyr.md"]
    after = ask(client, QUESTION)
    assert (
        cited(after) == ["zephyr.md"] and "seven years" in after["choices"][0]["message"]["content"]
    )
    document = client.get("/v1/documents/zephyr.md").json()
    assert document["source"] == "upload:zephyr.md" and document["title"] == "Zephyr X9"


def test_upload_pdf_docx_html_jsonl_in_one_request(client: httpx.Client, tmp_path: Path) -> None:
    pdf = write_pdf(
        tmp_path / "manual.pdf", ["The Nimbus N4 battery lasts eleven hours."]
    ).read_bytes()
    docx = write_docx(
        tmp_path / "policy.docx", [("h1", "Returns"), ("p", "Returns close after 45 days.")]
    ).read_bytes()
    html = b"<html><head><title>Kite</title></head><body><p>The Kite K2 weighs 3 grams.</p></body></html>"
    jsonl = "\n".join(
        json.dumps({"id": f"faq-{i}", "text": f"Answer number {i} is {i * 7}."}) for i in range(3)
    )
    files = [
        ("files", ("manual.pdf", pdf)),
        ("files", ("policy.docx", docx)),
        ("files", ("kite.html", html)),
        ("files", ("faq.jsonl", jsonl.encode())),
    ]
    response = client.post("/v1/documents", files=files)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["ids"]) == sorted(
        [
            "manual.pdf",
            "policy.docx",
            "kite.html",
            "faq.jsonl#faq-0",
            "faq.jsonl#faq-1",
            "faq.jsonl#faq-2",
        ]
    )
    assert "eleven hours" in client.get("/v1/documents/manual.pdf").json()["text"]
    assert cited(ask(client, "How long does the Nimbus N4 battery last?")) == ["manual.pdf"]


def test_upload_with_an_explicit_id(client: httpx.Client) -> None:
    response = client.post(
        "/v1/documents",
        files={"file": ("notes.txt", b"The Q5 ships from Bergen.")},
        data={"id": "teams/logistics/q5"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["ids"] == ["teams/logistics/q5"]


def test_a_slow_write_does_not_block_questions(client: httpx.Client, project: Project) -> None:
    upsert = project.upsert_documents
    writing = threading.Event()

    def slow_upsert(documents, progress=None):  # e.g. embedding a large upload
        writing.set()
        time.sleep(2.0)
        return upsert(documents, progress)

    project.upsert_documents = slow_upsert  # type: ignore[method-assign]
    with ThreadPoolExecutor(1) as pool:
        write = pool.submit(
            client.post, "/v1/documents", json={"documents": [{"id": "zephyr.md", "text": ZEPHYR}]}
        )
        assert writing.wait(5)
        started = time.perf_counter()
        assert ask(client, "How much does the P1 model weigh?")["citations"]
        assert client.get("/v1/documents").status_code == 200
        assert time.perf_counter() - started < 1.5
        assert not write.done()
        assert write.result().status_code == 200
    assert cited(ask(client, QUESTION)) == ["zephyr.md"]


def test_an_upload_over_the_projects_load_budget_is_refused(
    client: httpx.Client, project: Project
) -> None:
    """Uploads load within the same ``corpus.max_*`` budget as ``ragtune ingest``."""
    project.config.corpus.max_elements = 50
    before = project.store.document_hashes()
    html = "<html><body>" + "<p>The Q5 ships from Bergen.</p>" * 200 + "</body></html>"
    response = client.post("/v1/documents", files={"file": ("many.html", html.encode())})
    assert response.status_code == 422, response.text
    assert "many.html" in response.json()["error"]["message"]
    assert "HTML tags" in response.json()["error"]["message"]
    assert project.store.document_hashes() == before
