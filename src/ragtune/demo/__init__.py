"""A fictional domain no model has seen, with ground-truth questions, in two versions.

``write_demo_corpus`` writes 150-300 documents (Markdown, text, HTML, PDF, DOCX) about an
invented company: products with specs and prices, warranty and support policies,
offices, people and firmware history, with near-duplicate and distractor documents.
Beside them: ``qa.jsonl`` (four phrasings per fact), ``manifest.json`` and, for
version 2 (the same world later, about 20% of facts changed), ``changes.jsonl``.

>>> from pathlib import Path
>>> from ragtune.demo import load_qa, write_demo_corpus
>>> info = write_demo_corpus(Path("demo-v1"), version=1, seed=0)  # doctest: +SKIP
>>> qa = load_qa(info.out / "qa.jsonl")                           # doctest: +SKIP
>>> qa[0].question, qa[0].answers                                 # doctest: +SKIP
('In what year was Veltrona Systems founded?', ['1998'])
"""

from __future__ import annotations

from ragtune.demo.records import FactChange, load_changes, load_qa
from ragtune.demo.writer import DemoCorpusError, DemoCorpusInfo, write_demo_corpus

__all__ = [
    "DemoCorpusError",
    "DemoCorpusInfo",
    "FactChange",
    "load_changes",
    "load_qa",
    "write_demo_corpus",
]
