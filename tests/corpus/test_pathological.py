"""Adversarial text must cost linear time: no regex may backtrack quadratically."""

from __future__ import annotations

import time

import pytest

from ragtune.corpus import RecursiveChunker, clean_text
from ragtune.corpus.chunking import find_headings
from ragtune.types import Document

N = 200_000  # quadratic work here would take minutes; linear takes milliseconds

CASES = {
    "one long word": "a" * N,
    "punctuation run": "!" * N,
    "space run": "x" + " " * N + "y",
    "spaces and tabs before newline": "x" + " \t" * (N // 2) + "\nz",
    "hyphen chain": "a-" * (N // 2),
    "hyphen line breaks": "ab-\n" * (N // 4),
    "blank-ish lines": "\n \n" * (N // 3) + "x",
    "cjk sentences": "東京。" * (N // 3),
    "heading with a space run": "# " + " " * N + "x",
    "heading of closing hashes": "# a" + " #" * (N // 2) + " x",
    "setext-like underline": "t\n" + "=" * N + " x",
    "open fence": "```" + "`" * N,
}


@pytest.mark.parametrize("name", list(CASES))
def test_linear_time(name):
    text = CASES[name]
    started = time.perf_counter()
    cleaned = clean_text(text)
    find_headings(text)
    chunks = RecursiveChunker(64, 8).split(Document(id="p", text=text))
    RecursiveChunker(64, 8).split(Document(id="p", text=cleaned))
    assert time.perf_counter() - started < 10
    assert all(c.text == text[c.start_char : c.end_char] for c in chunks)
