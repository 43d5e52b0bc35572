"""Changed facts from two versions of the documents: same statement, different value.

A user has an old and a new folder, not a ``changes.jsonl``. ``changed_facts`` pairs
documents by id, aligns their statement units (sentences, list items, table rows; see
:mod:`ragtune.synth.units`), and where a unit kept its frame but a value changed
("within 10 business days" → "within 12 business days") it writes a question whose old
and new answers differ, as the :class:`~ragtune.experiment.changes.ChangedFact` rows the
freshness stage reads. The question is the extractive generator's for that statement
when it has one, else a fill-in-the-blank of the new statement::

    >>> from ragtune.types import Document
    >>> old = [Document("faq.md", "# FAQ\\n\\nRefunds are processed within 10 business days.")]
    >>> new = [Document("faq.md", "# FAQ\\n\\nRefunds are processed within 12 business days.")]
    >>> fact = changed_facts(old, new)[0]
    >>> fact.questions[0], fact.old_answers, fact.new_answers
    ('Within how many business days are Refunds processed?', ['10 business days', '10'], ['12 business days', '12'])

Use ``diff_folders(old_dir, new_dir)`` for folders, ``project.store.iter_documents()`` as
``old_docs`` to compare a project's indexed documents with a new folder, and
``write_changes_file`` to save the result as a changes JSONL file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ragtune.experiment.changes import ChangedFact
from ragtune.synth import templates as t
from ragtune.synth.filters import gives_answer_away, normalize
from ragtune.synth.rules import Candidate, facts_in_units
from ragtune.synth.units import Unit, plain_text, split_units
from ragtune.types import Document

__all__ = [
    "DiffResult",
    "changed_facts",
    "diff_documents",
    "diff_folders",
    "load_documents",
    "write_changes_file",
]

_TOKEN = re.compile(r"\S+")
_NAME = re.compile(t.NAME)
#: Units this similar (difflib ratio over tokens) are one statement, edited.
SAME_STATEMENT = 0.6
#: A changed run longer than this many tokens is a rewrite, not a changed value.
MAX_VALUE_TOKENS = 6
#: Words kept on each side of the blank in a fill-in-the-blank question.
CLOZE_WORDS = 12


@dataclass
class DiffResult:
    """What changed between two versions: the changed facts and what was compared."""

    changes: list[ChangedFact] = field(default_factory=list)
    documents_compared: int = 0
    documents_changed: int = 0
    documents_added: list[str] = field(default_factory=list)
    documents_removed: list[str] = field(default_factory=list)
    units_changed: int = 0
    values_changed: int = 0
    cloze_questions: int = 0


@dataclass(frozen=True)
class _Value:
    old: str
    new: str
    new_start: int  # in the new unit's text
    new_end: int


def load_documents(
    paths: Iterable[Path | str], include: Sequence[str] | None = None
) -> list[Document]:
    """Every document under ``paths`` (files or folders), as ``ragtune ingest`` reads them."""
    from ragtune.corpus import iter_load

    return [doc for result in iter_load(list(paths), include=include) for doc in result.documents]


def _tokens(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _key(text: str) -> str:
    return text.strip(".,;:!?()\"'`").lower()


def _expand(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to the value or name it is part of ("24" → "24 months")."""
    for pattern in (t.VALUE, _NAME):
        for match in pattern.finditer(text):
            if match.start() < end and start < match.end():
                start, end = min(start, match.start()), max(end, match.end())
    while end > start and text[end - 1] in ".,;:)":
        end -= 1
    return start, end


def _changed_values(old: Unit, new: Unit) -> list[_Value]:
    """The values that differ between two versions of one statement."""
    old_tokens, new_tokens = _tokens(old.text), _tokens(new.text)
    matcher = difflib.SequenceMatcher(
        None,
        [_key(old.text[a:b]) for a, b in old_tokens],
        [_key(new.text[a:b]) for a, b in new_tokens],
        autojunk=False,
    )
    values = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace" or max(i2 - i1, j2 - j1) > MAX_VALUE_TOKENS:
            continue
        o_start, o_end = _expand(old.text, old_tokens[i1][0], old_tokens[i2 - 1][1])
        n_start, n_end = _expand(new.text, new_tokens[j1][0], new_tokens[j2 - 1][1])
        old_value, new_value = old.text[o_start:o_end], new.text[n_start:n_end]
        if normalize(old_value) and normalize(old_value) != normalize(new_value):
            values.append(_Value(old_value, new_value, n_start, n_end))
    return values


def _frame(text: str) -> str:
    """The statement with its values and names masked: equal frames, same statement."""
    return _NAME.sub("#", t.VALUE.sub("#", text))


def _is_statement(unit: Unit, value: _Value) -> bool:
    """Whether the value sits in a statement: a table row, or a unit with a lower-case word
    outside the value (a byline or date stamp, "Example Corp - May 2, 2025", is not)."""
    if unit.kind == "row":
        return True
    rest = unit.text[: value.new_start] + " " + unit.text[value.new_end :]
    return bool(re.search(r"\b[a-z]{2,}\b", rest))


def _pairs(old_units: list[Unit], new_units: list[Unit]) -> Iterable[tuple[Unit, Unit]]:
    """Old and new units that are one statement edited (same frame, or mostly the same
    words), in document order."""
    matcher = difflib.SequenceMatcher(
        None, [u.text for u in old_units], [u.text for u in new_units], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        j = j1
        for old in old_units[i1:i2]:
            for k in range(j, j2):
                new = new_units[k]
                if old.kind != new.kind:
                    continue
                ratio = difflib.SequenceMatcher(None, old.text.split(), new.text.split()).ratio()
                if ratio >= SAME_STATEMENT or _frame(old.text) == _frame(new.text):
                    yield old, new
                    j = k + 1
                    break


def _answers(answer: str, changed: str) -> list[str]:
    """The answer, the changed value inside it, and a quantity's bare number."""
    out = [answer, changed, *(t.number_alias(changed) if t.value_kind(changed) == "number" else [])]
    return list(dict.fromkeys(out))


def _question_for(
    new: Unit, value: _Value, candidates: list[Candidate], title: str
) -> tuple[list[str], str, str, bool]:
    """Questions, old answer and new answer for one changed value; ``True`` if a cloze."""
    new_span = new.source_span(value.new_start, value.new_end)
    for candidate in candidates:
        overlaps = candidate.span[0] < new_span[1] and new_span[0] < candidate.span[1]
        if candidate.unit_text == new.text and overlaps and value.new in candidate.answer:
            old_answer = candidate.answer.replace(value.new, value.old, 1)
            return list(candidate.questions), old_answer, candidate.answer, False
    before, after = new.text[: value.new_start].split(), new.text[value.new_end :].split()
    # A long unit (a table the loader flattened) is cut to the words around the blank.
    lead = ("... " if len(before) > CLOZE_WORDS else "") + " ".join(before[-CLOZE_WORDS:])
    tail = " ".join(after[:CLOZE_WORDS]) + (" ..." if len(after) > CLOZE_WORDS else "")
    blanked = f"{lead} ___ {tail}".strip()
    where = f"In '{title}', what" if title else "What"
    return (
        [t.ask(f'{where} fills the blank in "{blanked.rstrip(".")}"')],
        value.old,
        value.new,
        True,
    )


def _fact_id(doc_id: str, question: str, old: str, new: str) -> str:
    digest = hashlib.sha1(
        f"{normalize(question)}|{normalize(old)}|{normalize(new)}".encode()
    ).hexdigest()
    return f"diff:{doc_id}#{digest[:10]}"


def diff_documents(old_docs: Iterable[Document], new_docs: Iterable[Document]) -> DiffResult:
    """Compare two versions document by document (paired by id); see the module docstring."""
    old_by_id = {d.id: d for d in old_docs}
    new_by_id = {d.id: d for d in new_docs}
    result = DiffResult(
        documents_added=sorted(set(new_by_id) - set(old_by_id)),
        documents_removed=sorted(set(old_by_id) - set(new_by_id)),
    )
    merged: dict[tuple[str, str, str], ChangedFact] = {}
    for doc_id in sorted(set(old_by_id) & set(new_by_id)):
        old_doc, new_doc = old_by_id[doc_id], new_by_id[doc_id]
        result.documents_compared += 1
        if old_doc.text == new_doc.text:
            continue
        result.documents_changed += 1
        old_units, new_units = split_units(old_doc.text), split_units(new_doc.text)
        title = plain_text(new_doc.title) or next(
            (u.text for u in new_units if u.kind == "heading"), ""
        )
        candidates = facts_in_units(new_units, title=title)
        for old_unit, new_unit in _pairs(old_units, new_units):
            values = [v for v in _changed_values(old_unit, new_unit) if _is_statement(new_unit, v)]
            result.units_changed += 1 if values else 0
            for value in values:
                questions, old_answer, new_answer, cloze = _question_for(
                    new_unit, value, candidates, title
                )
                questions = [
                    q
                    for q in questions
                    if not gives_answer_away(q, new_answer) and not gives_answer_away(q, old_answer)
                ]
                if not questions:
                    continue
                result.values_changed += 1
                result.cloze_questions += cloze
                key = (normalize(questions[0]), normalize(old_answer), normalize(new_answer))
                if key in merged:
                    merged[key].doc_ids.append(doc_id)
                    continue
                fact_id = _fact_id(doc_id, questions[0], old_answer, new_answer)
                merged[key] = ChangedFact(
                    fact_id=fact_id,
                    questions=questions,
                    old_answers=_answers(old_answer, value.old),
                    new_answers=_answers(new_answer, value.new),
                    question_ids=[f"{fact_id}:p{i}" for i in range(len(questions))],
                    doc_ids=[doc_id],
                )
    result.changes = list(merged.values())
    return result


def changed_facts(old_docs: Iterable[Document], new_docs: Iterable[Document]) -> list[ChangedFact]:
    """The facts whose answer differs between ``old_docs`` and ``new_docs``."""
    return diff_documents(old_docs, new_docs).changes


def diff_folders(
    old: Path | str, new: Path | str, include: Sequence[str] | None = None
) -> DiffResult:
    """:func:`diff_documents` over two folders, loaded as ``ragtune ingest`` loads them."""
    return diff_documents(load_documents([old], include), load_documents([new], include))


def write_changes_file(changes: Sequence[ChangedFact], path: Path | str) -> Path:
    """Write ``changes`` as a changes JSONL file that ``load_changes_file`` reads back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for fact in changes:
            row = {
                "fact_id": fact.fact_id,
                "questions": fact.questions,
                "question_ids": fact.question_ids,
                "old_answers": fact.old_answers,
                "new_answers": fact.new_answers,
                "doc_ids": fact.doc_ids,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
