"""A loader is one registration: a ``.rst`` loader registered in this module is used on
folders (the default include globs come from the loaders registry) with no other edit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.config import CorpusConfig
from ragtune.corpus.loaders import (
    LoadResult,
    SourceFile,
    decode_text,
    default_include,
    iter_load,
    make_document,
    register_loader,
    unregister_loader,
)
from ragtune.project import Project
from tests.test_ingest import FAST

RST = (
    "Ambrel X200 guide\n=================\n\nThe Ambrel X200 weighs 1.4 kg and ships from Quenby.\n"
)


def load_rst(data: bytes, source: SourceFile) -> LoadResult:
    """A plugin's loader: reStructuredText as text, its first line as the title."""
    text, encoding = decode_text(data, source.display)
    title = text.strip().splitlines()[0]
    return LoadResult(
        [make_document(source, text, fmt="rst", title=title, meta={"encoding": encoding})]
    )


@pytest.fixture
def rst_loader() -> Iterator[None]:
    register_loader(".rst")(load_rst)
    yield
    unregister_loader(".rst")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "guide.rst").write_text(RST)
    (folder / "faq.md").write_text("# FAQ\n\nReturns are accepted within 45 days.\n")
    (folder / "notes.xyz").write_text("no loader reads this")
    return folder


def test_default_include_comes_from_the_registered_loaders(rst_loader: None) -> None:
    assert "*.rst" in default_include()
    assert {"*.md", "*.markdown", "*.txt", "*.html", "*.htm", "*.pdf", "*.docx", "*.jsonl"} <= set(
        default_include()
    )
    assert CorpusConfig().include is None  # unset: derived when a folder is walked
    unregister_loader(".rst")
    assert "*.rst" not in default_include()


def test_iter_load_walks_a_folder_for_the_plugin_extension(rst_loader: None, docs: Path) -> None:
    loaded = {Path(r.path).name: r for r in iter_load([docs])}
    assert sorted(loaded) == ["faq.md", "guide.rst"]  # .xyz has no loader: not walked
    [doc] = loaded["guide.rst"].documents
    assert doc.id == "guide.rst" and doc.title == "Ambrel X200 guide"
    assert doc.meta["format"] == "rst" and "weighs 1.4 kg" in doc.text


def test_project_ingest_indexes_the_plugin_format(
    rst_loader: None, docs: Path, tmp_path: Path
) -> None:
    project = Project.init(tmp_path / "proj", FAST)
    report = project.ingest([docs])
    assert (report.added, report.failed) == (2, 0)
    assert project.store.get_document("guide.rst") is not None
    [hit] = project.search("Ambrel X200 weight Quenby", k=1, mode="bm25")
    assert hit.chunk.doc_id == "guide.rst"


def test_explicit_include_globs_still_win(rst_loader: None, docs: Path, tmp_path: Path) -> None:
    project = Project.init(
        tmp_path / "proj", {**FAST, "corpus": {**FAST["corpus"], "include": ["*.md"]}}
    )
    report = project.ingest([docs])
    assert report.added == 1 and project.store.get_document("guide.rst") is None


def test_without_the_plugin_the_folder_skips_rst(docs: Path) -> None:
    assert sorted(Path(r.path).name for r in iter_load([docs])) == ["faq.md"]
