"""Ground-truth files of a demo corpus: ``qa.jsonl`` and ``changes.jsonl``, read and written.

>>> from ragtune.demo import write_demo_corpus
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "demo"
>>> _ = write_demo_corpus(out, version=2)
>>> qa = load_qa(out / "qa.jsonl")
>>> changes = load_changes(out)          # the corpus folder works too
>>> qa[0].phrasing, changes[0].new_answers != changes[0].old_answers
('p0', True)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import DataError
from ragtune.jsonl import read_jsonl_objects
from ragtune.types import QAExample, _Serializable

QA_FILE = "qa.jsonl"
CHANGES_FILE = "changes.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass
class FactChange(_Serializable):
    """One fact whose value differs between version 1 and version 2 of the demo corpus.

    ``doc_ids`` state the new value in version 2, ``old_doc_ids`` stated the old value
    in version 1; ``question_ids`` are the ``qa.jsonl`` rows that test the fact.
    """

    fact_id: str
    old_answers: list[str]
    new_answers: list[str]
    doc_ids: list[str]
    question_ids: list[str]
    questions: list[str] = field(default_factory=list)
    old_doc_ids: list[str] = field(default_factory=list)
    group: str = ""


def dump_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write one compact JSON object per line, UTF-8, ``\\n`` line ends."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path.write_bytes(text.encode("utf-8"))


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    rows = []
    for number, row in read_jsonl_objects(path):
        missing = [key for key in required if key not in row]
        if missing:
            raise DataError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        rows.append(row)
    return rows


def _resolve(path: Path | str, name: str) -> Path:
    path = Path(path)
    return path / name if path.is_dir() else path


def load_qa(path: Path | str) -> list[QAExample]:
    """Read ``qa.jsonl`` (or the corpus folder holding it) into :class:`QAExample` rows.

    >>> rows = load_qa("demo-v1/qa.jsonl")                    # doctest: +SKIP
    >>> rows[0].question, rows[0].answers[0], rows[0].doc_ids  # doctest: +SKIP
    """
    file = _resolve(path, QA_FILE)
    rows = _rows(file, ("id", "question", "answers"))
    return [QAExample.from_dict(row) for row in rows]


def load_changes(path: Path | str) -> list[FactChange]:
    """Read ``changes.jsonl`` of a version-2 demo corpus (or its folder) into :class:`FactChange`."""
    file = _resolve(path, CHANGES_FILE)
    rows = _rows(file, ("fact_id", "old_answers", "new_answers", "doc_ids", "question_ids"))
    return [FactChange.from_dict(row) for row in rows]
