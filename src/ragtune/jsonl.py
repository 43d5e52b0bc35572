"""Reading JSONL data files with errors that name the file and line.

for line_number, row in read_jsonl_objects(Path("qa.jsonl")):
    ...   # row is a dict; a bad line raises DataError("qa.jsonl:7: not valid JSON ...")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ragtune.errors import DataError


def read_jsonl_objects(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line; a UTF-8 BOM is accepted.

    Raises :class:`DataError` naming ``path:line`` for text that is not JSON or a line
    that is not a JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        if not isinstance(row, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        out.append((number, row))
    return out
