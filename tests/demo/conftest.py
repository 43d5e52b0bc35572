"""Shared fixtures: versions 1 and 2 of the demo corpus, written once per session."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from ragtune.demo import DemoCorpusInfo, write_demo_corpus


@pytest.fixture(scope="session")
def corpus_v1(tmp_path_factory: pytest.TempPathFactory) -> DemoCorpusInfo:
    return write_demo_corpus(tmp_path_factory.mktemp("demo") / "v1", version=1, seed=0)


@pytest.fixture(scope="session")
def corpus_v2(tmp_path_factory: pytest.TempPathFactory) -> DemoCorpusInfo:
    return write_demo_corpus(tmp_path_factory.mktemp("demo") / "v2", version=2, seed=0)


@pytest.fixture(scope="session")
def extract() -> Callable[[Path], str]:
    """``extract(path)``: the text of a corpus file as a loader would see it."""
    return extract_text


def extract_text(path: Path) -> str:
    """The text a loader would see, whitespace collapsed: pypdf, python-docx, BeautifulSoup."""
    suffix = path.suffix
    if suffix == ".pdf":
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    elif suffix == ".docx":
        import docx

        document = docx.Document(io.BytesIO(path.read_bytes()))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            parts += [cell.text for row in table.rows for cell in row.cells]
        text = "\n".join(parts)
    elif suffix == ".html":
        text = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    else:
        text = path.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", text)
