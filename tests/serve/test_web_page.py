"""The web page in a real headless Chromium (Debian's, driven over CDP by playwright):
ask, compare all arms, open a citation, upload a document, see the answer change, delete it.

Chromium comes from ``scripts/install_chromium.sh`` (apt) when /usr/bin/chromium is
missing; the test skips, saying why, only if that cannot work here. The screenshot is
kept at tests/artifacts/web_page.png.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ragtune.project import Project
from ragtune.report.screenshot import CHROMIUM_FLAGS
from ragtune.serve import create_app
from ragtune.serve.server import BackgroundServer
from tests.serve.conftest import KEY

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = CHROMIUM_FLAGS
QUESTION = "What is the warranty of the Zephyr X9?"


def ensure_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        pytest.skip(
            "no /usr/bin/chromium and no apt-get to install it (run scripts/install_chromium.sh)"
        )
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "install_chromium.sh")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.skip(f"could not install chromium with apt: {result.stderr.strip()[-400:]}")
    return CHROMIUM


@pytest.fixture
def page(project: Project) -> Iterator[tuple[Any, str]]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="pip install playwright (the [dev] extra)"
    )
    executable = ensure_chromium()
    with (
        BackgroundServer(create_app(project, api_key=KEY)) as server,
        sync_api.sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1360, "height": 900}, device_scale_factor=1
        )
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("dialog", lambda dialog: dialog.accept())
        try:
            yield tab, server.url
        finally:
            browser.close()
        assert not errors, errors


def answers(tab: Any) -> dict[str, str]:
    tab.wait_for_function(
        "document.querySelectorAll('.answer-card').length > 0 && "
        "document.querySelectorAll('.answer-card.pending').length === 0"
    )
    return {
        card.get_attribute("data-arm"): card.locator(".answer-text").inner_text()
        for card in tab.locator(".answer-card").all()
    }


def ask(tab: Any, arm: str) -> dict[str, str]:
    asked = int(tab.evaluate("Number(document.body.dataset.answered || 0)"))
    tab.fill("#question", QUESTION)
    tab.select_option("#arm", arm)
    tab.click("#ask")
    tab.wait_for_function(f"Number(document.body.dataset.answered || 0) > {asked}")
    return answers(tab)


def test_ask_compare_upload_and_see_the_answer_change(
    page: tuple[Any, str], project: Project, tmp_path: Path
) -> None:
    tab, url = page
    tab.goto(url + "/")
    # The server wants a key: the page says so and takes it.
    tab.wait_for_selector("#key-panel:not([hidden])")
    assert "API key needed" in tab.inner_text("#status")
    tab.fill("#api-key", KEY)
    tab.click("#key-save")
    tab.wait_for_function("document.querySelectorAll('#arm option').length === 3")
    assert tab.locator("#doc-list li").count() == 4
    assert "4 documents" in tab.inner_text("#status")

    # One arm, streamed.
    single = ask(tab, "rag")
    assert list(single) == ["rag"] and single["rag"]
    assert tab.locator(".answer-card[data-arm=rag] .citation").count() >= 1
    assert "seven years" not in single["rag"]

    # Compare all: the arms side by side.
    before = ask(tab, "__all__")
    assert sorted(before) == ["base", "rag"]
    assert before["base"] == "I don't know."
    assert tab.locator(".answer-card[data-arm=base] .citation").count() == 0

    # Upload a document through the file picker.
    doc = tmp_path / "zephyr.md"
    doc.write_text(
        "# Zephyr X9\n\nThe Zephyr X9 warranty lasts seven years. Zephyr units are built in Tromsø.\n"
    )
    tab.set_input_files("#file-input", str(doc))
    tab.click("#upload")
    tab.wait_for_selector('#doc-list li[data-id="zephyr.md"]')
    assert tab.locator("#doc-list li").count() == 5

    after = ask(tab, "__all__")
    assert "seven years" in after["rag"] and after["rag"] != before["rag"]
    citation = tab.locator('.answer-card[data-arm=rag] .citation[data-doc="zephyr.md"]')
    assert citation.count() == 1

    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "web_page.png"), full_page=True)

    # Click the citation: the chunk's text.
    citation.click()
    tab.wait_for_selector("#chunk-modal:not([hidden])")
    assert "seven years" in tab.inner_text("#chunk-text")
    assert "zephyr.md" in tab.inner_text("#chunk-meta")
    tab.screenshot(path=str(ARTIFACTS / "web_page_citation.png"))
    tab.keyboard.press("Escape")
    tab.wait_for_selector("#chunk-modal", state="hidden")

    # Delete it again from the list: the answer goes back.
    tab.click('#doc-list li[data-id="zephyr.md"] .delete-doc')
    tab.wait_for_selector('#doc-list li[data-id="zephyr.md"]', state="detached")
    again = ask(tab, "rag")
    assert "seven years" not in again["rag"]

    # The report link: a friendly page while there is no report, the report once there is one.
    with tab.context.expect_page() as opened:
        tab.click("#report-link")
    report = opened.value
    report.wait_for_function(
        "document.body && document.body.innerText.includes('No comparison report yet')"
    )
    report.close()
    (project.runs_dir / "compare-1").mkdir(parents=True)
    (project.runs_dir / "compare-1" / "report.html").write_text(
        "<html><body><h1>RAG wins</h1></body></html>"
    )
    with tab.context.expect_page() as opened:
        tab.click("#report-link")
    opened.value.wait_for_function("document.body && document.body.innerText.includes('RAG wins')")
