"""A user's question/answer file (JSONL or CSV) read into :class:`~ragtune.types.QAExample` rows.

Columns (JSONL keys or CSV header names):

- ``question`` (required)
- ``answer`` (one string) or ``answers`` (a list; in CSV a JSON list or ``|``-separated)
- optional ``id``, ``fact_id``, ``doc_ids`` (list, or ``|``-separated in CSV), ``context``,
  ``phrasing``, ``meta`` (object)

Every malformed row is a :class:`~ragtune.errors.DataError` naming the file and line::

    >>> from ragtune.synth.qa_file import load_qa_file
    >>> rows = load_qa_file("qa.jsonl")                    # doctest: +SKIP
    >>> rows[0].question, rows[0].answers                  # doctest: +SKIP
    ('Where is the X200 made?', ['Calderwick'])
    >>> load_qa_file("bad.csv")                            # doctest: +SKIP
    DataError: bad.csv:7: row has no answer (give 'answer' or 'answers')

The demo domain's ``qa.jsonl`` is such a file (with ``fact_id`` and ``phrasing``).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from ragtune.errors import DataError
from ragtune.jsonl import read_jsonl_objects
from ragtune.types import QAExample

_KNOWN = {
    "id",
    "question",
    "answer",
    "answers",
    "fact_id",
    "doc_ids",
    "context",
    "phrasing",
    "meta",
}


def load_qa_file(path: Path | str) -> list[QAExample]:
    """Read a ``.jsonl`` / ``.json`` (one object per line) or ``.csv`` QA file.

    Rows without an ``id`` get a stable one from the file name and line; unknown
    columns go into ``meta``. Blank lines are skipped; an empty file is an error.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = read_jsonl_objects(path)
    elif suffix in (".csv", ".tsv"):
        rows = list(_csv_rows(path, "\t" if suffix == ".tsv" else ","))
    else:
        raise DataError(f"{path}: unknown QA file type {suffix!r}; use .jsonl or .csv")
    examples = [_to_example(path, line, row) for line, row in rows]
    if not examples:
        raise DataError(f"{path}: no QA rows found")
    seen: dict[str, int] = {}
    for (line, _), example in zip(rows, examples, strict=True):
        if example.id in seen:
            raise DataError(
                f"{path}:{line}: duplicate id {example.id!r} (first on line {seen[example.id]})"
            )
        seen[example.id] = line
    return examples


def _csv_rows(path: Path, delimiter: str) -> list[tuple[int, dict[str, Any]]]:
    out = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, delimiter=delimiter)
            if reader.fieldnames is None or "question" not in [
                f.strip() for f in reader.fieldnames
            ]:
                raise DataError(
                    f"{path}:1: the header needs a 'question' column (got {reader.fieldnames})"
                )
            for row in reader:
                if None in row:  # more cells than header names
                    raise DataError(f"{path}:{reader.line_num}: more cells than header columns")
                cleaned = {k.strip(): v for k, v in row.items() if k is not None}
                if all(not (v or "").strip() for v in cleaned.values()):
                    continue
                out.append((reader.line_num, cleaned))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise DataError(f"{path}: not valid CSV ({exc})") from exc
    return out


def _string_list(path: Path, line: int, key: str, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{path}:{line}: {key!r} is not a valid JSON list ({exc.msg})"
                ) from exc
        else:
            return [part.strip() for part in stripped.split("|") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    raise DataError(f"{path}:{line}: {key!r} must be a string or a list of strings (got {value!r})")


def _to_example(path: Path, line: int, row: dict[str, Any]) -> QAExample:
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DataError(f"{path}:{line}: row has no question (a non-empty 'question' is required)")
    if "answers" in row and row["answers"] not in (None, ""):
        answers = _string_list(path, line, "answers", row["answers"])
    else:
        answer = row.get("answer")
        if isinstance(answer, int | float) and not isinstance(answer, bool):
            answer = str(answer)
        if answer is not None and not isinstance(answer, str):
            raise DataError(f"{path}:{line}: 'answer' must be a string (got {answer!r})")
        answers = [answer.strip()] if answer and answer.strip() else []
    if not answers:
        raise DataError(f"{path}:{line}: row has no answer (give 'answer' or 'answers')")
    meta = row.get("meta") or {}
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{line}: 'meta' is not valid JSON ({exc.msg})") from exc
    if not isinstance(meta, dict):
        raise DataError(f"{path}:{line}: 'meta' must be an object (got {meta!r})")
    meta = {**meta, **{k: v for k, v in row.items() if k not in _KNOWN and v not in (None, "")}}
    context = row.get("context") or ""
    if not isinstance(context, str):
        raise DataError(f"{path}:{line}: 'context' must be a string")
    row_id = str(row.get("id") or "").strip() or f"{path.stem}:{line}"
    fact_id = str(row.get("fact_id") or "").strip()
    return QAExample(
        id=row_id,
        question=question.strip(),
        answers=answers,
        fact_id=fact_id,
        doc_ids=_string_list(path, line, "doc_ids", row.get("doc_ids")),
        phrasing=str(row.get("phrasing") or "").strip(),
        context=context,
        meta=meta,
    )


def file_fingerprint(path: Path | str) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits), recorded in data manifests."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
