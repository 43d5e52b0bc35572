"""Markdown and plain-text writers for :class:`~ragtune.demo.document.DemoDoc`.

Paragraphs are never hard-wrapped, so a fact value never straddles a line break.

>>> from datetime import date
>>> from ragtune.demo.document import DemoDoc, Paragraph
>>> doc = DemoDoc("a.md", "Title", date(2025, 1, 15), "note", [Paragraph("Hello.")])
>>> print(render_markdown(doc, "Veltrona Systems").decode())
# Title
<BLANKLINE>
*Veltrona Systems - January 15, 2025*
<BLANKLINE>
Hello.
<BLANKLINE>
"""

from __future__ import annotations

from ragtune.demo.document import BulletList, DemoDoc, Heading, Paragraph, Table


def render_markdown(doc: DemoDoc, company: str) -> bytes:
    """GitHub-flavoured Markdown: ``#`` headings, ``-`` lists, pipe tables."""
    lines = [f"# {doc.title}", "", f"*{doc.byline(company)}*", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, BulletList):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            lines.append("| " + " | ".join(block.header) + " |")
            lines.append("|" + "|".join("---" for _ in block.header) + "|")
            lines += ["| " + " | ".join(row) + " |" for row in block.rows]
            lines.append("")
    return "\n".join(lines).encode("utf-8")


def render_text(doc: DemoDoc, company: str) -> bytes:
    """Plain text: underlined title, indented lists, space-aligned tables."""
    lines = [doc.title, "=" * len(doc.title), doc.byline(company), ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines += [block.text.upper() if block.level <= 2 else block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, BulletList):
            lines += [f"  * {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            rows = [block.header, *block.rows]
            widths = [max(len(row[i]) for row in rows) for i in range(len(block.header))]
            for n, row in enumerate(rows):
                lines.append(
                    "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                )
                if n == 0:
                    lines.append("  ".join("-" * w for w in widths))
            lines.append("")
    return "\n".join(lines).encode("utf-8")
