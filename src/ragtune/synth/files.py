"""The training-data files under ``.ragtune/data/``: fixed names, JSONL, one manifest.

| file | rows |
|---|---|
| ``train_qa.jsonl`` | :class:`QAExample` rows trained on, paraphrases included |
| ``heldout.jsonl`` | :class:`QAExample` rows never trained on; ``meta.split`` is ``unseen_phrasing`` or ``unseen_fact`` |
| ``qa_sft.jsonl`` | ``{"messages": [...]}`` closed-book chat rows (the ``ft`` arm's prompt) |
| ``raft_train.jsonl`` | ``{"messages": [...]}`` RAFT chat rows (the ``raft`` arm's prompt) |
| ``manifest.json`` | source, seed, counts, settings |

Each JSONL file loads with ``datasets.load_dataset("json", data_files=...)``; the chat
files go straight into TRL's ``SFTTrainer``::

    >>> from ragtune.synth.files import qa_chat_row
    >>> from ragtune.types import QAExample
    >>> row = qa_chat_row(QAExample("a", "Which port does the server listen on?", ["5432"]))
    >>> [m["role"] for m in row["messages"]], row["messages"][-1]["content"]
    (['system', 'user', 'assistant'], '5432')
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ragtune.errors import DataError
from ragtune.jsonl import read_jsonl_objects
from ragtune.prompts import closed_book_messages
from ragtune.types import QAExample

TRAIN_QA = "train_qa.jsonl"
HELDOUT = "heldout.jsonl"
QA_SFT = "qa_sft.jsonl"
RAFT_TRAIN = "raft_train.jsonl"
MANIFEST = "manifest.json"


def qa_chat_row(row: QAExample, domain: str = "") -> dict[str, Any]:
    """A closed-book chat row: the ``ft`` arm's prompt (for ``project.domain``), then the
    canonical answer."""
    messages = [m.to_dict() for m in closed_book_messages(row.question, domain)]
    return {"messages": [*messages, {"role": "assistant", "content": row.answers[0]}]}


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows atomically (temp file, then rename); returns how many."""
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    os.replace(tmp, path)
    return count


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)


def read_examples(path: Path) -> list[QAExample]:
    """Read ``train_qa.jsonl`` / ``heldout.jsonl`` back into :class:`QAExample` rows."""
    if not path.is_file():
        raise DataError(f"{path}: no such file; run: ragtune synth")
    rows = []
    for number, row in read_jsonl_objects(path):
        try:
            rows.append(QAExample.from_dict(row))
        except TypeError as exc:
            raise DataError(f"{path}:{number}: not a QAExample row ({exc})") from exc
    return rows


def read_manifest(data_dir: Path) -> dict[str, Any]:
    """The data manifest of a project's ``.ragtune/data``, or a clear error."""
    path = data_dir / MANIFEST
    if not path.is_file():
        raise DataError(f"{path}: no training data yet; run: ragtune synth")
    return dict(json.loads(path.read_text(encoding="utf-8")))
