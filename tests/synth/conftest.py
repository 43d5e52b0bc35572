"""Fixtures: one small demo corpus per session, and projects on the test doubles."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ragtune.demo import write_demo_corpus

    out = tmp_path_factory.mktemp("demo") / "corpus"
    write_demo_corpus(out, version=1, seed=0)
    return out
