"""HTML pages to Markdown-shaped text: headings become ``#`` lines, lists ``-`` lines,
table rows ``a | b`` lines; scripts, styles and navigation are dropped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ragtune.corpus.loaders.base import (
    LoadResult,
    SourceFile,
    decode_text,
    make_document,
    register_loader,
)
from ragtune.errors import LoadError

__all__ = ["html_to_text", "load_html"]

_DROP = [
    "script",
    "style",
    "nav",
    "noscript",
    "template",
    "svg",
    "iframe",
    "head",
    "button",
    "select",
    "canvas",
]
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {
        *("p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote"),
        *("figure", "figcaption", "address", "dl", "dt", "dd", "details", "summary", "form"),
        *("fieldset", "body", "html", "center", "hr", "li"),
    }
)
_SPACE = re.compile(r"\s+")
_MAX_LIST_DEPTH = 20  # deeper lists are flattened into their text
_END = object()
_FLUSH = object()  # end of a block element: close the paragraph


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


class _Converter:
    def __init__(self, tick: Callable[[str], None] | None = None) -> None:
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.tick = tick
        self.visited = 0

    def flush(self) -> None:
        if self.inline:
            lines = (_collapse(line) for line in "".join(self.inline).split("\n"))
            paragraph = "\n".join(line for line in lines if line)
            if paragraph:
                self.blocks.append(paragraph)
            self.inline = []

    def walk(self, root: Any) -> None:
        """Depth first without recursion: pages nest thousands of tags deep."""
        from bs4 import NavigableString, Tag

        stack: list[Iterator[Any]] = [iter(root.children)]
        while stack:
            child = next(stack[-1], _END)
            if child is _END:
                stack.pop()
            elif child is _FLUSH:
                self.flush()
            elif isinstance(child, NavigableString):
                # Source newlines are just spaces in HTML; only <br> breaks a line.
                self.inline.append(_SPACE.sub(" ", str(child)))
            elif isinstance(child, Tag):
                self.visited += 1
                if self.tick is not None and self.visited % 2000 == 0:
                    self.tick(f"tag {self.visited}")
                stack.extend(self._visit(child))

    def _visit(self, tag: Any) -> list[Iterator[Any]]:
        """Handle one tag; return the iterators of what to walk next, if anything."""
        name = tag.name
        if name in _HEADINGS:
            self.flush()
            title = _collapse(tag.get_text(" "))
            if title:
                self.blocks.append("#" * _HEADINGS[name] + " " + title)
        elif name == "br":
            self.inline.append("\n")
        elif name in ("ul", "ol"):
            self.flush()
            lines: list[str] = []
            _list_lines(tag, 0, lines)
            if lines:
                self.blocks.append("\n".join(lines))
        elif name == "table":
            self.flush()
            rows = _table_rows(tag)
            if rows:
                self.blocks.append("\n".join(rows))
        elif name == "pre":
            self.flush()
            code = tag.get_text().strip("\n")
            if code.strip():
                self.blocks.append(code)
        elif name in _BLOCKS:
            self.flush()
            return [iter([_FLUSH]), iter(tag.children)]
        else:
            return [iter(tag.children)]
        return []


def _list_lines(node: Any, depth: int, out: list[str]) -> None:
    from bs4 import Tag

    items = node.find_all("li", recursive=False)
    if not items or depth >= _MAX_LIST_DEPTH:
        text = _collapse(node.get_text(" "))
        if text:
            out.append("  " * depth + "- " + text)
        return
    for number, item in enumerate(items, 1):
        nested = [c for c in item.children if isinstance(c, Tag) and c.name in ("ul", "ol")]
        parts = [
            c.get_text(" ") if isinstance(c, Tag) else str(c)
            for c in item.children
            if not (isinstance(c, Tag) and c.name in ("ul", "ol"))
        ]
        text = _collapse(" ".join(parts))
        marker = f"{number}. " if node.name == "ol" else "- "
        if text:
            out.append("  " * depth + marker + text)
        for sub in nested:
            _list_lines(sub, depth + 1, out)


def _table_rows(table: Any) -> list[str]:
    rows = []
    for row in table.find_all("tr"):
        cells = [_collapse(c.get_text(" ")) for c in row.find_all(["td", "th"], recursive=False)]
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def html_to_text(html: str, tick: Callable[[str], None] | None = None) -> tuple[str, str]:
    """``(text, title)`` of an HTML page; title from ``<title>``, else the first ``<h1>``.

    >>> html_to_text("<title>T</title><h2>Specs</h2><ul><li>5 GHz</li></ul>")
    ('## Specs\\n\\n- 5 GHz', 'T')

    ``tick(where)`` is called every few thousand nodes (a load budget's clock check).
    """
    from bs4 import BeautifulSoup, Comment

    try:
        soup = BeautifulSoup(html, "lxml")
    except Exception:  # bs4.FeatureNotFound: lxml missing
        soup = BeautifulSoup(html, "html.parser")
    title = _collapse(soup.title.get_text(" ")) if soup.title else ""
    if not title:
        h1 = soup.find("h1")
        title = _collapse(h1.get_text(" ")) if h1 else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    if tick is not None:
        tick("parsed")
    converter = _Converter(tick)
    converter.walk(soup.body or soup)
    converter.flush()
    return "\n\n".join(converter.blocks), title


_TAG_START = re.compile(rb"<[A-Za-z]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _declared_charset(data: bytes) -> str | None:
    """The ``<meta charset>`` a page declares, tried only when UTF-8 fails."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii").lower() if match else None


@register_loader(".html", ".htm", ".xhtml")
def load_html(data: bytes, source: SourceFile) -> LoadResult:
    """An HTML page as Markdown-shaped text (see ``html_to_text``)."""
    source.budget.elements(len(_TAG_START.findall(data)), "HTML tags")
    try:
        html, encoding = decode_text(data, source.display, source.notes)
    except LoadError as exc:
        declared = _declared_charset(data)
        try:
            html, encoding = data.decode(declared or ""), declared or ""
        except (LookupError, UnicodeDecodeError):
            raise exc from None
    text, title = html_to_text(html, tick=source.budget.tick)
    meta = {} if encoding == "utf-8" else {"encoding": encoding}
    doc = make_document(source, text, fmt="html", title=title, meta=meta)
    return LoadResult([doc], path=source.display)
