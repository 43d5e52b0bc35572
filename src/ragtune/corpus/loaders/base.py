"""What every loader shares: the result type, the loader registry, text decoding.

A loader is a function ``(data: bytes, source: SourceFile) -> LoadResult`` registered
for one or more file extensions; it raises ``LoadError`` for a file it cannot read
and returns per-record problems (a bad JSONL line) in ``LoadResult.errors``::

    @register_loader(".rst")
    def load_rst(data: bytes, source: SourceFile) -> LoadResult:
        text, encoding = decode_text(data, source.display, source.notes)
        return LoadResult([make_document(source, text, fmt="rst")])

``source.budget`` is the file's load budget (``ragtune.corpus.loaders.budget``): a loader
that walks many elements calls ``source.budget.elements(n, "rows")`` before parsing
them and ``source.budget.tick()`` as it goes. ``source.notes`` collects problems that
did not stop the file from loading (a replaced byte); they are reported with it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.corpus.chunking.headings import find_headings
from ragtune.corpus.clean import clean_text
from ragtune.corpus.loaders.budget import FileBudget, LoadBudget
from ragtune.errors import LoadError
from ragtune.plugins import load_plugins
from ragtune.types import Document

__all__ = [
    "LOADERS",
    "LoadResult",
    "Loader",
    "SourceFile",
    "bomless_utf16",
    "decode_text",
    "loader_for",
    "make_document",
    "markdown_title",
    "register_loader",
    "supported_extensions",
    "unregister_loader",
]


@dataclass
class LoadResult:
    """The documents loaded from one file and the problems met on the way.

    A whole-file problem gives no documents and one error; a JSONL file with a bad
    line gives the good lines' documents and one error per bad line.

    >>> result = LoadResult(documents=[], errors=[LoadError("/d/x.pdf", "encrypted PDF")])
    >>> result.ok, result.failures()
    (False, [{'path': '/d/x.pdf', 'reason': 'encrypted PDF'}])
    """

    documents: list[Document] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    path: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def failures(self) -> list[dict[str, str]]:
        """Errors as ``{"path", "reason"}`` dicts, the shape of ``IngestReport.failures``."""
        return [{"path": e.path, "reason": e.reason} for e in self.errors]


@dataclass(frozen=True)
class SourceFile:
    """The file being loaded: its absolute ``path``, the ``doc_id`` it gets, its load
    ``budget`` being spent, and ``notes``: problems it loaded despite."""

    path: Path
    doc_id: str
    budget: FileBudget = field(default=None, compare=False)  # type: ignore[assignment]
    notes: list[LoadError] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        if self.budget is None:
            object.__setattr__(self, "budget", LoadBudget().start(str(self.path)))

    @property
    def display(self) -> str:
        """The path as errors name it."""
        return str(self.path)

    @property
    def stem(self) -> str:
        return self.path.stem


Loader = Callable[[bytes, SourceFile], LoadResult]

#: Extension (lower case, with the dot) -> loader. Built-ins register on import.
LOADERS: dict[str, Loader] = {}


def register_loader(*extensions: str) -> Callable[[Loader], Loader]:
    """Register a loader for file extensions (``".md"``); a later one replaces an earlier.

    Folders are then walked for these extensions too: the default include globs are
    derived from this registry (:func:`ragtune.corpus.loaders.default_include`).
    """

    def decorator(loader: Loader) -> Loader:
        for ext in extensions:
            LOADERS[ext.lower()] = loader
        return loader

    return decorator


def unregister_loader(*extensions: str) -> None:
    """Forget the loaders of ``extensions`` (a built-in one replaced is not restored)."""
    for ext in extensions:
        LOADERS.pop(ext.lower(), None)


def loader_for(extension: str) -> Loader | None:
    """The loader registered for ``extension`` (``".md"``, any case), plugins included."""
    load_plugins()  # plugin packages register their loaders when imported
    return LOADERS.get(extension.lower())


def supported_extensions() -> list[str]:
    """Every extension a registered loader reads, sorted: ``['.docx', '.htm', ...]``."""
    load_plugins()
    return sorted(LOADERS)


# -- decoding -----------------------------------------------------------------------
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_TYPOGRAPHY = frozenset("‘’‚“”„–—…•·€£¥¢©®™°±§¶«»‹›†‡‰×÷¡¿ªº¹²³¼½¾µ")


def decode_text(data: bytes, path: str, notes: list[LoadError] | None = None) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one
    when its zero bytes say so), or, when the bytes are not UTF-8 but read as plausible
    Windows-1252/Latin-1 text, that. UTF-8 with a few bad bytes (one, or at most one
    per ``REPLACE_AT_MOST`` bytes) is decoded with U+FFFD for them, and a note naming the
    first is appended to ``notes``.

    Returns ``(text, encoding)``; raises ``LoadError`` for empty, binary or
    undecodable data.

    >>> decode_text("café".encode("cp1252"), "menu.txt")
    ('café', 'cp1252')
    >>> decode_text("hi there".encode("utf-16-le"), "u.txt")
    ('hi there', 'utf-16-le')
    """
    if not data:
        raise LoadError(path, "empty file")
    bom = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    utf16 = "utf-16" if bom else bomless_utf16(data)
    if utf16 is not None:
        try:
            text, encoding = data.decode(utf16), utf16
        except UnicodeDecodeError as exc:
            raise LoadError(path, f"not valid UTF-16 text at byte {exc.start}") from None
    else:
        offset = 3 if data.startswith(codecs.BOM_UTF8) else 0
        nul = data.find(b"\x00")
        if nul != -1:
            raise LoadError(path, f"binary content (NUL byte at offset {nul})")
        try:
            text, encoding = data[offset:].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            legacy = None if offset else _legacy_decode(data)
            if legacy is not None:
                text, encoding = legacy, "cp1252"
            else:
                text = data[offset:].decode("utf-8", errors="replace")
                bad = text.count("\ufffd") - data[offset:].decode("utf-8", "ignore").count("\ufffd")
                first = exc.start + offset
                if bad > max(1, len(data) // REPLACE_AT_MOST):
                    raise LoadError(path, f"not valid UTF-8 text at byte {first}") from None
                encoding = "utf-8"
                if notes is not None:
                    notes.append(
                        LoadError(
                            path,
                            f"{bad} invalid UTF-8 byte sequence(s), first at byte {first},"
                            " replaced by U+FFFD; the rest is indexed",
                        )
                    )
    controls = len(_BINARY_CONTROL.findall(text))
    if controls and controls > len(text) / 100:
        raise LoadError(path, "binary content (control characters), not text")
    return text, encoding


#: UTF-8 with more than one bad sequence per this many bytes (and more than one in all)
#: is rejected as not text, not repaired.
REPLACE_AT_MOST = 200


def bomless_utf16(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when most of the text's odd (even) bytes are zero, as in
    ASCII-range UTF-16 without a BOM; else ``None``."""
    sample = data[:4096]
    if len(sample) < 4 or len(data) % 2:
        return None
    pairs = len(sample) // 2
    odd_zero = sample[1::2].count(0)
    even_zero = sample[0::2].count(0)
    if odd_zero >= 0.7 * pairs and even_zero <= 0.05 * pairs:
        return "utf-16-le"
    if even_zero >= 0.7 * pairs and odd_zero <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _legacy_decode(data: bytes) -> str | None:
    """Windows-1252 (a superset of printable Latin-1) if the result reads as text."""
    if _UTF8_MULTIBYTE.search(data):
        return None  # UTF-8 with damage, not a legacy encoding: decoding would garble it
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    non_ascii = [c for c in text if ord(c) > 127]
    if len(non_ascii) > 0.3 * len(text):
        return None
    plausible = sum(1 for c in non_ascii if c.isalpha() or c in _TYPOGRAPHY or c == "\xa0")
    return text if plausible >= 0.9 * len(non_ascii) else None


# -- documents ------------------------------------------------------------------------
def markdown_title(text: str) -> str:
    """Front-matter ``title:``, else the first heading, else ``""``.

    >>> markdown_title("---\\ntitle: X200 Guide\\n---\\n# Setup")
    'X200 Guide'
    """
    if text.startswith("---\n"):
        end = text.find("\n---", 3)
        for line in text[4:end].split("\n") if end != -1 else []:
            if line.startswith("title:"):
                return line[len("title:") :].strip().strip("\"'")
    headings = find_headings(text)
    return headings[0].text if headings else ""


def make_document(
    source: SourceFile,
    text: str,
    *,
    fmt: str,
    title: str = "",
    meta: dict[str, Any] | None = None,
    doc_id: str | None = None,
    dehyphenate: bool = False,
    heading_title: bool = False,
    fallback_title: str = "",
) -> Document:
    """Clean ``text`` and wrap it; ``LoadError`` if nothing is left after cleaning.

    The title is ``title``, else (with ``heading_title``) the cleaned text's first
    heading, else the file name's stem.
    """
    cleaned = clean_text(text, dehyphenate_breaks=dehyphenate)
    if not cleaned:
        raise LoadError(source.display, "no text (only whitespace or markup)")
    if not title and heading_title:
        title = markdown_title(cleaned)
    title = " ".join(clean_text(title).split()) or fallback_title or source.stem
    return Document(
        id=doc_id or source.doc_id,
        text=cleaned,
        source=source.display,
        title=title,
        meta={**(meta or {}), "format": fmt},
    )
