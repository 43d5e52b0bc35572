"""Find markdown headings (ATX ``# X`` and setext ``X\\n===``) outside code fences.

Loaders write every format's headings as ATX lines, so this one parser gives the
chunker the structure of md, html, docx and pdf-derived text alike::

    >>> [h.path for h in find_headings("# Router\\n\\ntext\\n\\n## Warranty\\n")]
    [['Router'], ['Router', 'Warranty']]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Heading", "find_headings"]

_ATX = re.compile(r" {0,3}(#{1,6})(?=[ \t]|$)(.*)")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
# Lines that cannot be a setext heading's text: list items, quotes, tables, rules.
_NOT_SETEXT_TEXT = re.compile(r" {0,3}(?:[-*+>|]|\d+[.)][ \t]|[=-]+[ \t]*$)")


@dataclass
class Heading:
    """One heading: where its line starts (``start``), where its block ends (``end``,
    after a setext underline), its level, text, and the chain of headings down to it."""

    start: int
    end: int
    level: int
    text: str
    path: list[str] = field(default_factory=list)


def _atx_text(rest: str) -> str:
    """Heading text without its optional closing ``#`` sequence (``## A ##`` -> ``A``)."""
    text = rest.rstrip()
    unclosed = text.rstrip("#")
    if not unclosed or unclosed[-1] in " \t":
        text = unclosed
    return text.strip()


def _front_matter_end(lines: list[str]) -> int:
    """Index of the first line after a YAML front-matter block, or 0 if none."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in {"---", "..."}:
            return index + 1
    return 0


def find_headings(text: str) -> list[Heading]:
    """All headings in ``text``, in order, each with its heading path.

    >>> hs = find_headings("Intro\\n=====\\n\\n```\\n# not a heading\\n```\\n### Deep")
    >>> [(h.level, h.text, h.path) for h in hs]
    [(1, 'Intro', ['Intro']), (3, 'Deep', ['Intro', 'Deep'])]
    """
    if "#" not in text and "==" not in text and "--" not in text:
        return []
    lines = text.split("\n")
    offsets = [0] * len(lines)
    position = 0
    for index, line in enumerate(lines):
        offsets[index] = position
        position += len(line) + 1

    headings: list[Heading] = []
    fence: str | None = None
    previous_is_text = False
    for index in range(_front_matter_end(lines), len(lines)):
        line = lines[index]
        fence_match = _FENCE.match(line)
        if fence is not None:
            if (
                fence_match
                and fence_match.group(1)[0] == fence[0]
                and len(fence_match.group(1)) >= len(fence)
            ):
                fence = None
            previous_is_text = False
            continue
        if fence_match:
            fence = fence_match.group(1)
            previous_is_text = False
            continue
        atx = _ATX.match(line)
        if atx:
            title = _atx_text(atx.group(2))
            start = offsets[index]
            headings.append(Heading(start, start + len(line), len(atx.group(1)), title))
            previous_is_text = False
            continue
        underline = _SETEXT_UNDERLINE.match(line)
        if underline and previous_is_text:
            level = 1 if underline.group(1)[0] == "=" else 2
            title_line = lines[index - 1]
            start = offsets[index - 1]
            headings.append(Heading(start, offsets[index] + len(line), level, title_line.strip()))
            previous_is_text = False
            continue
        previous_is_text = bool(line.strip()) and not _NOT_SETEXT_TEXT.match(line)

    stack: list[Heading] = []
    for heading in headings:
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        heading.path = [h.text for h in stack]
    return headings
