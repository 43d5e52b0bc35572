"""HTML writer: a small intranet page with navigation and footer boilerplate around the body.

The boilerplate is on purpose: an HTML loader should strip it, and retrieval should
not be fooled by it.

>>> from datetime import date
>>> from ragtune.demo.document import DemoDoc, Paragraph
>>> doc = DemoDoc("a.html", "Title", date(2025, 1, 15), "note", [Paragraph("Price: $5 & up")])
>>> "<p>Price: $5 &amp; up</p>" in render_html(doc, "Veltrona Systems").decode()
True
"""

from __future__ import annotations

from html import escape

from ragtune.demo.document import BulletList, DemoDoc, Heading, Paragraph, Table

_STYLE = (
    "body{font-family:sans-serif;max-width:52rem;margin:auto;color:#222}"
    "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3rem .6rem}"
    "nav a{margin-right:1rem}footer{color:#777;font-size:.8rem;margin-top:3rem}"
)


def render_html(doc: DemoDoc, company: str) -> bytes:
    """A complete HTML5 page; the document's blocks sit inside ``<main><article>``."""
    e = escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(doc.title)} | {e(company)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        '<nav><a href="/">Home</a><a href="/products/">Products</a>'
        '<a href="/support/">Support</a><a href="/news/">Newsroom</a></nav>',
        "<main>",
        "<article>",
        f"<h1>{e(doc.title)}</h1>",
        f'<p class="byline">{e(doc.author or company)} - '
        f'<time datetime="{doc.date.isoformat()}">{e(doc.date_text)}</time></p>',
    ]
    for block in doc.blocks:
        if isinstance(block, Heading):
            level = min(block.level, 6)
            out.append(f"<h{level}>{e(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{e(block.text)}</p>")
        elif isinstance(block, BulletList):
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            out.append("<table>")
            out.append("<tr>" + "".join(f"<th>{e(c)}</th>" for c in block.header) + "</tr>")
            for row in block.rows:
                out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
            out.append("</table>")
    out += [
        "</article>",
        "</main>",
        f"<footer>Copyright {e(company)}. Internal and partner use only. "
        "Printed copies are uncontrolled.</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out).encode("utf-8")
