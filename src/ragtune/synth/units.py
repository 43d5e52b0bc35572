"""Text to statement units: sentences, list items, table rows and headings, with offsets.

The extractive generator and the diff read documents as *units*: one sentence of a
paragraph, one list item, one table row (with its table's header), or one heading.
Code blocks are skipped and inline markup (links, emphasis) is removed from the text,
but every character of ``Unit.text`` keeps the offset it came from, so an answer found
in a unit is located exactly in the source::

    >>> units = split_units("# Setup\\n\\nThe default port is `8080`. Run it with care.")
    >>> [(u.kind, u.text) for u in units]
    [('heading', 'Setup'), ('sentence', 'The default port is `8080`.'), ('sentence', 'Run it with care.')]
    >>> units[1].source_span(20, 26)  # the characters of `8080` in the source
    (29, 35)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

UnitKind = Literal["sentence", "item", "row", "heading"]

_FENCE = re.compile(r"^\s*(```|~~~)")
_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s*(=+|-+)\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+•]|\d{1,3}[.)])\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_TARGET = re.compile(r"^\s*(\([^)]*\)=|<!--.*-->|\.\. \w+::.*|:::.*)\s*$")
_LINK = re.compile(r"!?\[([^\]\n]+)\]\([^)\n]*\)")
_EMPHASIS = re.compile(r"(?<![\w*`])(\*\*|__|\*|_)(?=[^\s*_])(.+?)(?<=[^\s*_])\1(?![\w*])")
_ABBREVIATIONS = frozenset(
    (
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "mr",
        "mrs",
        "ms",
        "dr",
        "no",
        "approx",
        "fig",
        "inc",
        "ltd",
        "st",
    )
)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9`\"'(\[_*])")


@dataclass(frozen=True)
class Unit:
    """One statement of a text: its plain ``text`` and where each character came from.

    ``offsets[i]`` is the source offset of ``text[i]``. ``heading`` is the nearest
    heading above, ``cells``/``header`` are set for table rows, and ``first_in_block``
    says the unit opens its paragraph or item (an option's description does).
    """

    kind: UnitKind
    text: str
    offsets: tuple[int, ...]
    heading: str = ""
    cells: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    first_in_block: bool = True
    cell_spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The source offsets ``[start, end)`` that ``text[start:end]`` came from."""
        return self.offsets[start], self.offsets[end - 1] + 1


class _Plain:
    """A string and the source offset of each of its characters."""

    def __init__(self, text: str, offsets: list[int]) -> None:
        self.text, self.offsets = text, offsets

    @classmethod
    def of(cls, text: str, start: int) -> _Plain:
        return cls(text, list(range(start, start + len(text))))

    def join(self, other: _Plain) -> _Plain:
        if not self.text:
            return other
        return _Plain(
            self.text + " " + other.text, [*self.offsets, other.offsets[0], *other.offsets]
        )

    def keep_groups(self, pattern: re.Pattern[str], group: int) -> _Plain:
        """Replace each match by its ``group`` (a link by its text, emphasis by its words)."""
        text, offsets, last = [], [], 0
        for match in pattern.finditer(self.text):
            text.append(self.text[last : match.start()])
            offsets.extend(self.offsets[last : match.start()])
            text.append(match.group(group))
            offsets.extend(self.offsets[match.start(group) : match.end(group)])
            last = match.end()
        text.append(self.text[last:])
        offsets.extend(self.offsets[last:])
        return _Plain("".join(text), offsets)

    def collapse(self) -> _Plain:
        """Runs of whitespace to one space, ends stripped."""
        text: list[str] = []
        offsets: list[int] = []
        for ch, pos in zip(self.text, self.offsets, strict=True):
            if ch.isspace():
                if text and text[-1] != " ":
                    text.append(" ")
                    offsets.append(pos)
                continue
            text.append(ch)
            offsets.append(pos)
        while text and text[-1] == " ":
            text.pop()
            offsets.pop()
        return _Plain("".join(text), offsets)

    def slice(self, start: int, end: int) -> _Plain:
        return _Plain(self.text[start:end], self.offsets[start:end])


def _clean(piece: _Plain) -> _Plain:
    piece = piece.keep_groups(_LINK, 1)
    for _ in range(2):  # nested emphasis: **_word_**
        piece = piece.keep_groups(_EMPHASIS, 2)
    return piece.collapse()


def plain_text(text: str) -> str:
    """``text`` without inline markup (links, emphasis), whitespace collapsed.

    >>> plain_text("The _Black_ [code style](style.md)")
    'The Black code style'
    """
    return _clean(_Plain.of(text, 0)).text


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each sentence of a one-line ``text``.

    >>> text = "Use it, e.g. for tests. Version 3.5 works. Done"
    >>> [text[a:b] for a, b in split_sentences(text)]
    ['Use it, e.g. for tests.', 'Version 3.5 works.', 'Done']
    """
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()].rstrip("\"')]")
        last_word = before.rsplit(" ", 1)[-1].strip(".([\"'").lower()
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        end = match.start() + len(match.group(0).rstrip())
        spans.append((start, end))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _table_cells(line: str, start: int) -> list[_Plain]:
    body_start, body_end = 0, len(line)
    stripped = line.strip()
    if stripped.startswith("|"):
        body_start = line.index("|") + 1
    if stripped.endswith("|"):
        body_end = line.rindex("|")
    cells, position = [], body_start
    for raw in line[body_start:body_end].split("|"):
        cells.append(_clean(_Plain.of(raw, start + position)))
        position += len(raw) + 1
    return cells


def _heading_title(line: str, next_line: str, start: int, in_paragraph: bool) -> _Plain | None:
    """The title of an ATX (``# Title``) or setext (``Title`` over ``===``) heading line."""
    atx = _ATX.match(line)
    if atx:
        return _clean(_Plain.of(atx.group(2), start + atx.start(2)))
    if _SETEXT.match(next_line) and not _is_row(line) and not in_paragraph and line.strip():
        return _clean(_Plain.of(line, start))
    return None


def _is_separator(line: str) -> bool:
    return _TABLE_SEPARATOR.match(line) is not None and "-" in line


def _is_row(line: str) -> bool:
    return line.count("|") >= 2 or " | " in line


def _sentences(block: _Plain, kind: UnitKind, heading: str) -> Iterator[Unit]:
    plain = _clean(block)
    for index, (a, b) in enumerate(split_sentences(plain.text)):
        piece = plain.slice(a, b)
        yield Unit(kind, piece.text, tuple(piece.offsets), heading, first_in_block=index == 0)


def _opens_table(line: str, next_line: str) -> bool:
    """Whether a first table line is its header.

    A Markdown header row (``| a | b |``) is followed by the ``|---|`` separator; one that
    is not is the middle of a table whose header lies before this chunk: its rows give no
    statements rather than a data row as header. (HTML tables load as ``a | b`` lines with
    no separator.)
    """
    markdown = line.lstrip().startswith("|")
    return _TABLE_SEPARATOR.match(next_line) is not None or not markdown


def _row_unit(cells: list[_Plain], header: tuple[str, ...], heading: str) -> Unit | None:
    """One table row as a unit (cells joined by spaces), or None without a header."""
    row = _Plain("", [])
    spans = []
    for cell in cells:
        begin = len(row.text) + (1 if row.text and cell.text else 0)
        if cell.text:
            row = row.join(cell)
        spans.append((begin, begin + len(cell.text)) if cell.text else (0, 0))
    if not (header and row.text):
        return None
    return Unit(
        "row",
        row.text,
        tuple(row.offsets),
        heading,
        cells=tuple(c.text for c in cells),
        header=header,
        cell_spans=tuple(spans),
    )


def split_units(text: str, start: int = 0) -> list[Unit]:
    """The units of ``text`` in order; ``start`` is added to every offset.

    Fenced code is skipped; setext headings (``Title`` over ``=====``) count as headings;
    consecutive table lines become rows, the first of them the header when the ``|---|``
    separator follows it (a table whose header lies before ``text`` starts, as in a
    chunk cut mid-table, gives no rows).
    """
    lines = text.splitlines(keepends=True)
    units: list[Unit] = []
    heading = ""
    block: _Plain | None = None
    block_kind: UnitKind = "sentence"
    header: tuple[str, ...] | None = None
    in_fence = False
    offset = start
    at_text_start = True

    def flush() -> None:
        nonlocal block
        if block is not None and block.text.strip():
            units.extend(_sentences(block, block_kind, heading))
        block = None

    for number, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        line_start = offset
        offset += len(raw)
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            header = None
            continue
        if in_fence:
            continue
        if not line.strip():
            flush()
            header = None
            at_text_start = False
            continue
        next_line = lines[number + 1].rstrip("\r\n") if number + 1 < len(lines) else ""
        title = _heading_title(line, next_line, line_start, in_paragraph=block is not None)
        if title is not None:
            flush()
            if title.text:
                heading = title.text
                units.append(Unit("heading", title.text, tuple(title.offsets), heading))
            header = None
            continue
        if _SETEXT.match(line) or _TARGET.match(line) or _is_separator(line):
            continue
        if _is_row(line):
            flush()
            cells = _table_cells(line, line_start)
            if header is None:
                is_header = not at_text_start and _opens_table(line, next_line)
                header = tuple(c.text for c in cells) if is_header else ()
            elif (row := _row_unit(cells, header, heading)) is not None:
                units.append(row)
            at_text_start = False
            continue
        at_text_start = False
        header = None
        item = _ITEM.match(line)
        if item:
            flush()
            block = _Plain.of(line[item.end() :], line_start + item.end())
            block_kind = "item"
            continue
        piece = _Plain.of(line.strip(), line_start + len(line) - len(line.lstrip()))
        if block is None:
            block, block_kind = piece, "sentence"
        else:
            block = block.join(piece)
    flush()
    return units
