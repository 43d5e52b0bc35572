"""Which questions an evaluation asks: the held-out split, or a user's QA file.

rows, source = load_questions(project)                 # .ragtune/data/heldout.jsonl
rows, source = load_questions(project, "ours.csv")     # question, answer(s), doc_ids
rows = select_questions(rows, 60, seed=0)              # stratified by split, fixed order
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import DataError
from ragtune.sampling import stable_order
from ragtune.synth import files
from ragtune.types import QAExample

if TYPE_CHECKING:
    from ragtune.project import Project

HELDOUT_FILE = files.HELDOUT


def split_of(row: QAExample) -> str:
    """The held-out split of a row (``unseen_phrasing``, ``unseen_fact``), or ``""``."""
    return str(row.meta.get("split") or "")


def load_questions(
    project: Project, qa_path: Path | str | None = None
) -> tuple[list[QAExample], dict[str, Any]]:
    """The evaluation questions and a description of where they came from.

    With ``qa_path``: a JSONL or CSV file (``question``, ``answer`` or ``answers``,
    optional ``doc_ids``). Without: the project's held-out split written by ``ragtune synth``.
    """
    from ragtune.synth.qa_file import file_fingerprint, load_qa_file

    if qa_path is not None:
        path = Path(qa_path).expanduser()
        rows = load_qa_file(path)
        return rows, {
            "source": "qa-file",
            "path": str(path.resolve()),
            "fingerprint": file_fingerprint(path),
        }
    heldout = project.data_dir / HELDOUT_FILE
    if not heldout.is_file():
        raise DataError(
            f"no held-out questions in {project.data_dir}; run: ragtune synth, "
            "or evaluate on your own questions with --qa FILE (JSONL or CSV: question, answer, doc_ids)"
        )
    from ragtune.synth.files import read_examples

    return read_examples(heldout), {
        "source": "heldout",
        "path": str(heldout),
        "fingerprint": file_fingerprint(heldout),
    }


def select_questions(
    rows: Sequence[QAExample], limit: int | None, seed: int = 0
) -> list[QAExample]:
    """At most ``limit`` rows, drawn per split in proportion (each split keeps at least
    one), in a fixed seeded order so that every arm and every run asks the same ones,
    and a row added to or removed from ``rows`` leaves the other picks in place (but
    for a split's quota moving by one at its margin).

    >>> rows = [QAExample(str(i), "q", ["a"], meta={"split": "x" if i < 8 else "y"}) for i in range(10)]
    >>> sorted(split_of(r) for r in select_questions(rows, 5))
    ['x', 'x', 'x', 'x', 'y']
    """
    if limit is None or limit >= len(rows):
        return list(rows)
    groups: dict[str, list[QAExample]] = defaultdict(list)
    for row in rows:
        groups[split_of(row)].append(row)
    for name, members in groups.items():
        # Each row's place comes from its own id: one added or removed row leaves the
        # other rows' picks as they were (see ragtune.sampling).
        groups[name] = stable_order(members, seed, key=lambda r: r.id)
    quota = {
        name: max(1, round(limit * len(members) / len(rows))) for name, members in groups.items()
    }
    while sum(quota.values()) > limit:
        largest = max(quota, key=lambda n: (quota[n], n))
        quota[largest] -= 1
    picked = [row for name, members in sorted(groups.items()) for row in members[: quota[name]]]
    order = {row.id: i for i, row in enumerate(rows)}
    return sorted(picked, key=lambda r: order[r.id])


def check_unique_ids(rows: Sequence[QAExample]) -> None:
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise DataError(f"duplicate question id {row.id!r}; question ids must be unique")
        seen.add(row.id)
