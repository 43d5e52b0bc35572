"""load_qa_file: JSONL and CSV in, QAExample rows out, a bad row named by file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.errors import DataError
from ragtune.synth.qa_file import load_qa_file


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_with_answer_or_answers(tmp_path: Path) -> None:
    rows = [
        {"question": "Where is the X200 made?", "answer": "Calderwick", "doc_ids": ["a.md"]},
        {
            "id": "q2",
            "question": "Price?",
            "answers": ["$1,759", "1759"],
            "fact_id": "x200.price",
            "team": "sales",
        },
    ]
    path = write(tmp_path / "qa.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    first, second = load_qa_file(path)
    assert first.answers == ["Calderwick"] and first.doc_ids == ["a.md"] and first.id == "qa:1"
    assert (
        second.id == "q2"
        and second.fact_id == "x200.price"
        and second.answers == ["$1,759", "1759"]
    )
    assert second.meta == {"team": "sales"}


def test_csv_with_pipe_separated_lists(tmp_path: Path) -> None:
    path = write(
        tmp_path / "qa.csv",
        'question,answers,doc_ids,context\n"Who runs Oslo?",Ann Berg|A. Berg,people/ann.md,Ann Berg runs Oslo.\n',
    )
    [row] = load_qa_file(path)
    assert row.answers == ["Ann Berg", "A. Berg"] and row.doc_ids == ["people/ann.md"]
    assert row.context == "Ann Berg runs Oslo."


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "bad.jsonl",
            '{"question": "a?", "answer": "b"}\n{"question": "c?", "answer": "d"\n',
            "bad.jsonl:2: not valid JSON",
        ),
        (
            "bad.jsonl",
            '{"question": "a?", "answer": "b"}\n\n{"question": "c?"}\n',
            "bad.jsonl:3: row has no answer",
        ),
        ("bad.jsonl", '["a", "b"]\n', "bad.jsonl:1: expected a JSON object"),
        ("bad.jsonl", '{"question": "", "answer": "b"}\n', "bad.jsonl:1: row has no question"),
        ("bad.jsonl", '{"question": "a?", "answers": [["x"]]}\n', "bad.jsonl:1: 'answers' must be"),
        ("bad.csv", "question,answer\nfine?,yes\nbroken?,\n", "bad.csv:3: row has no answer"),
        ("bad.csv", "query,answer\nx?,y\n", "bad.csv:1: the header needs a 'question' column"),
        ("bad.csv", "question,answer\na?,b,extra\n", "bad.csv:2: more cells than header columns"),
        (
            "dup.jsonl",
            '{"id": "1", "question": "a?", "answer": "b"}\n{"id": "1", "question": "c?", "answer": "d"}\n',
            "dup.jsonl:2: duplicate id '1' (first on line 1)",
        ),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(DataError) as caught:
        load_qa_file(path)
    assert where in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_empty_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_qa_file(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="no QA rows"):
        load_qa_file(write(tmp_path / "empty.jsonl", "\n"))
    with pytest.raises(DataError, match="unknown QA file type"):
        load_qa_file(write(tmp_path / "qa.xlsx", "x"))


def test_demo_qa_jsonl_is_a_qa_file(demo_corpus: Path) -> None:
    rows = load_qa_file(demo_corpus / "qa.jsonl")
    assert len(rows) > 100
    assert all(r.fact_id and r.phrasing and r.answers and r.doc_ids for r in rows)
