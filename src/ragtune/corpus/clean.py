"""Text cleaning applied by every loader, so ``Document.text`` is already clean.

Chunk offsets index into the cleaned text, so cleaning must happen exactly once,
before chunking::

    >>> clean_text("Caf\\u0065\\u0301  \\r\\n\\r\\n\\r\\n\\r\\nmenu")
    'Café\\n\\nmenu'
    >>> clean_text("infor-\\nmation retrieval")
    'information\\nretrieval'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_text", "dehyphenate"]

# C0/C1 controls except tab and newline; BOM and zero-width space (common in web
# text, invisible, and they split words for BM25). ZWJ/ZWNJ stay: scripts need them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufeff\u200b]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b]")
_SPACES = re.compile(r"[\u00a0\u2007\u202f]")
# Lookbehinds make each run match from its start only: linear, even on a 10 MB run.
_TRAILING = re.compile(r"(?<![ \t])[ \t]+(?=\n|\Z)")
_BLANK_RUNS = re.compile(r"\n{3,}")
# A soft hyphen is by definition a syllable break: always join across it.
_SOFT_HYPHEN_BREAK = re.compile(r"\u00ad[ \t]*\n[ \t]*")

# word ending in a letter, '-', line break, word starting with a letter.
_HYPHEN_BREAK = re.compile(
    r"(?<![\w-])((?:\w+-){0,8}\w*[^\W\d_])-[ \t]*\n[ \t]*([^\W\d_]\w*)([ \t]*)"
)
_HYPHENATED_WORD = re.compile(r"(?<![\w-])[^\W\d_]\w*(?:-\w+)+")
_WORD = re.compile(r"\w+")
# First parts that almost always form a hyphenated compound ("self-contained").
_COMPOUND_PREFIXES = frozenset(
    {"self", "well", "ex", "all", "half", "cross", "quasi", "pseudo", "so", "e"}
)


def clean_text(text: str, *, dehyphenate_breaks: bool = True) -> str:
    """Normalize text for indexing: NFC, ``\\n`` newlines, no trailing spaces or
    control characters, at most one blank line in a row, PDF line-break hyphens joined.

    Idempotent: ``clean_text(clean_text(t)) == clean_text(t)``.

    >>> clean_text("a\\t \\nb\\x00c\\n\\n\\n\\nd")
    'a\\nbc\\n\\nd'
    """
    if not text:
        return ""
    text = _NEWLINES.sub("\n", text)
    text = text.replace("\f", "\n\n")
    text = _SOFT_HYPHEN_BREAK.sub("", text).replace("\u00ad", "")
    text = _CONTROL.sub("", text)
    # After the removals: a removed character may have separated a base letter
    # from its combining mark.
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text)
    text = _TRAILING.sub("", text)
    if dehyphenate_breaks:
        text = dehyphenate(text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.lstrip("\n").rstrip()


def dehyphenate(text: str) -> str:
    """Join words that a PDF split across lines with a hyphen.

    The word is joined (``infor-\\nmation`` -> ``information``) unless the evidence
    says the hyphen is part of the word: the hyphenated form appears elsewhere in the
    text (and the joined one does not), the first part is a compound prefix (``self-``,
    ``well-``) or already hyphenated (``state-of-the-``), or the second part is
    capitalised (``Franco-\\nGerman``). The joined word moves up to the first
    line; the line break moves after it, so the line structure survives.

    >>> dehyphenate("a self-\\ncontained unit")
    'a self-contained\\nunit'
    """
    if "-\n" not in text and not re.search(r"-[ \t]+\n", text):
        return text
    hyphenated = {w.lower() for w in _HYPHENATED_WORD.findall(text)}
    words: set[str] | None = None

    def fix(match: re.Match[str]) -> str:
        nonlocal words
        left, right = match.group(1), match.group(2)
        joined_hyphen = f"{left}-{right}"
        if right[0].isupper():
            keep = True
        elif joined_hyphen.lower() in hyphenated:
            if words is None:
                words = {w.lower() for w in _WORD.findall(text)}
            # Both spellings seen: the unhyphenated one wins, it is the rarer choice.
            keep = (left + right).lower() not in words
        else:
            # "state-of-the-\nart": already a compound; "self-\ncontained": a prefix.
            keep = "-" in left or left.lower() in _COMPOUND_PREFIXES
        word = joined_hyphen if keep else left + right
        end = match.end()
        at_line_end = end >= len(text) or text[end] == "\n"
        return word if at_line_end else word + "\n"

    return _HYPHEN_BREAK.sub(fix, text)
