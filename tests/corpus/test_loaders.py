"""Every supported format loads into cleaned Documents with ids, titles and meta."""

from __future__ import annotations

import json
from pathlib import Path

from ragtune.corpus import RecursiveChunker, load_file
from ragtune.corpus.loaders import LOADERS, supported_extensions


def only_doc(path: Path, root: Path | None = None):
    result = load_file(path, root)
    assert result.ok, result.errors
    assert len(result.documents) == 1
    return result.documents[0]


def test_every_format_is_registered():
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl"} <= set(LOADERS)
    assert supported_extensions() == sorted(LOADERS)


def test_txt(tmp_path):
    (tmp_path / "notes.txt").write_text("Line one.  \r\nLine two.\r\n\r\n\r\n\r\nEnd.\n")
    doc = only_doc(tmp_path / "notes.txt")
    assert doc.text == "Line one.\nLine two.\n\nEnd."
    assert doc.id == "notes.txt"
    assert doc.title == "notes"
    assert doc.source == str(tmp_path / "notes.txt")
    assert doc.meta == {"format": "text"}


def test_markdown_title_and_relative_id(tmp_path):
    sub = tmp_path / "guides" / "x200"
    sub.mkdir(parents=True)
    (sub / "setup.md").write_text("# X200 Router\n\n## Warranty\n\nTwo years.\n")
    doc = only_doc(sub / "setup.md", root=tmp_path)
    assert doc.id == "guides/x200/setup.md"
    assert doc.title == "X200 Router"
    assert doc.meta["format"] == "markdown"
    assert doc.text.startswith("# X200 Router\n\n## Warranty")


def test_markdown_front_matter_title(tmp_path):
    (tmp_path / "a.markdown").write_text("---\ntitle: 'Field Guide'\n---\n\n# Intro\n\nHi.")
    assert only_doc(tmp_path / "a.markdown").title == "Field Guide"


def test_html_structure(tmp_path):
    html = """<!doctype html><html><head><title>X200 Manual</title>
    <style>body {color: red}</style><script>var secret = 1;</script></head>
    <body><nav><a href="/">Home</a> | <a href="/x">Menu</a></nav>
    <h1>X200   Router</h1><p>The X200 is a
    router.<br>It has two antennas.</p>
    <h2>Ports</h2><ul><li>WAN</li><li>LAN<ul><li>LAN 1</li></ul></li></ul>
    <ol><li>Plug in</li><li>Power on</li></ol>
    <table><tr><th>Model</th><th>Range</th></tr><tr><td>X200</td><td>40 m</td></tr></table>
    <!-- a comment -->
    <pre>cfg set wan=dhcp
  indented</pre></body></html>"""
    (tmp_path / "manual.html").write_text(html)
    doc = only_doc(tmp_path / "manual.html")
    assert doc.title == "X200 Manual"
    assert doc.meta == {"format": "html"}
    assert "secret" not in doc.text and "color" not in doc.text and "Home" not in doc.text
    assert "comment" not in doc.text
    assert doc.text.startswith("# X200 Router\n\nThe X200 is a router.\nIt has two antennas.")
    assert "## Ports\n\n- WAN\n- LAN\n  - LAN 1" in doc.text
    assert "1. Plug in\n2. Power on" in doc.text
    assert "Model | Range\nX200 | 40 m" in doc.text
    assert "cfg set wan=dhcp\n  indented" in doc.text
    chunks = RecursiveChunker(20, 0).split(doc)
    assert chunks[0].heading_path == ["X200 Router"]
    assert chunks[-1].heading_path == ["X200 Router", "Ports"]


def test_htm_title_falls_back_to_h1(tmp_path):
    (tmp_path / "page.htm").write_text("<body><h1>Only Heading</h1><p>x</p></body>")
    assert only_doc(tmp_path / "page.htm").title == "Only Heading"


def test_pdf(pdf_factory):
    path = pdf_factory(
        "spec.pdf",
        ["X200 Router specification. The warranty lasts two years.", "Page two talks about ports."],
        title="X200 Spec",
    )
    doc = only_doc(path)
    assert doc.title == "X200 Spec"
    assert doc.meta == {"format": "pdf", "pages": 2}
    assert "warranty lasts two years" in doc.text
    assert "Page two talks about ports." in doc.text
    assert doc.text.index("warranty") < doc.text.index("Page two")


def test_pdf_without_title_uses_stem(pdf_factory):
    assert only_doc(pdf_factory("leaflet.pdf", ["Hello PDF world."])).title == "leaflet"


def test_pdf_owner_password_only_still_loads(pdf_factory):
    # Permission-only encryption: the empty user password opens it, as any viewer does.
    path = pdf_factory("perm.pdf", ["Readable text."], owner_password="secret")
    assert "Readable text." in only_doc(path).text


def test_docx(docx_factory):
    path = docx_factory(
        "guide.docx",
        [
            ("h1", "X200 Router"),
            ("p", "Intro paragraph."),
            ("h2", "Warranty"),
            ("p", "Two years, parts and labour."),
            ("li", "Keep the receipt"),
            ("li", "Register online"),
            ("table", "Part,Years;Antenna,1;Board,2"),
        ],
        core_title="ignored when a heading exists",
    )
    doc = only_doc(path)
    assert doc.title == "X200 Router"
    assert doc.meta == {"format": "docx"}
    assert doc.text == (
        "# X200 Router\n\nIntro paragraph.\n\n## Warranty\n\nTwo years, parts and labour.\n\n"
        "- Keep the receipt\n- Register online\n\nPart | Years\nAntenna | 1\nBoard | 2"
    )
    chunks = RecursiveChunker(256, 0).split(doc)
    assert chunks[0].heading_path == ["X200 Router"]


def test_docx_title_falls_back_to_core_then_stem(docx_factory):
    assert only_doc(docx_factory("a.docx", [("p", "text")], core_title="Core")).title == "Core"
    assert only_doc(docx_factory("b.docx", [("p", "text")])).title == "b"


def test_jsonl(tmp_path):
    lines = [
        {"id": "faq-1", "text": "Returns within 30 days.", "title": "Returns", "lang": "en"},
        {"id": 7, "text": "# Shipping\n\nFree over 50 EUR.", "meta": {"team": "ops"}},
        {"text": "No id here."},
    ]
    path = tmp_path / "sub" / "faqs.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n\n")
    result = load_file(path, root=tmp_path)
    assert result.ok, result.errors
    first, second, third = result.documents
    assert first.id == "sub/faqs.jsonl#faq-1"
    assert first.title == "Returns"
    assert first.meta == {"lang": "en", "line": 1, "format": "jsonl"}
    assert second.id == "sub/faqs.jsonl#7"
    assert second.title == "Shipping"
    assert second.meta["team"] == "ops"
    assert third.id.startswith("sub/faqs.jsonl#sha256-")
    assert all(d.source == str(path) for d in result.documents)


def test_latin1_text_is_accepted_and_recorded(tmp_path):
    path = tmp_path / "menu.txt"
    path.write_bytes("Crème brûlée — €5, café au lait.".encode("cp1252"))
    doc = only_doc(path)
    assert doc.text == "Crème brûlée — €5, café au lait."
    assert doc.meta["encoding"] == "cp1252"


def test_utf8_bom_and_utf16(tmp_path):
    (tmp_path / "bom.md").write_bytes("\ufeff# Título\n\nñ".encode())
    assert only_doc(tmp_path / "bom.md").title == "Título"
    (tmp_path / "wide.txt").write_bytes("Größe: 5".encode("utf-16"))
    doc = only_doc(tmp_path / "wide.txt")
    assert doc.text == "Größe: 5" and doc.meta["encoding"] == "utf-16"


def test_uppercase_extension(tmp_path):
    (tmp_path / "README.MD").write_text("# Read me\n\nok")
    assert only_doc(tmp_path / "README.MD").meta["format"] == "markdown"


def test_pdf_headings_from_font_size_and_running_footers_dropped(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    body = "The router ships with a two year warranty covering parts and labour. " * 3
    for number, section in enumerate(["Warranty", "Returns", "Support"], 1):
        pdf.add_page()
        if number == 1:
            pdf.set_font("helvetica", size=20)
            pdf.cell(0, 10, "X200 Router Handbook", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=15)
        pdf.cell(0, 10, section, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, body)
        pdf.set_y(-20)
        pdf.set_font("helvetica", size=8)
        pdf.cell(0, 5, f"ACME Networks confidential - page {number}")
    pdf.output(str(tmp_path / "handbook.pdf"))

    doc = only_doc(tmp_path / "handbook.pdf")
    assert doc.title == "X200 Router Handbook"  # no metadata title: the first heading
    assert doc.text.startswith("# X200 Router Handbook\n\n## Warranty\n\nThe router ships")
    assert "\n\n## Returns\n\n" in doc.text and "\n\n## Support\n\n" in doc.text
    assert "ACME Networks confidential" not in doc.text
    paths = [c.heading_path for c in RecursiveChunker(48, 8).split(doc)]
    assert paths[0] == ["X200 Router Handbook", "Warranty"]
    assert paths[-1] == ["X200 Router Handbook", "Support"]


def test_pdf_hyphenated_line_breaks_are_joined(pdf_factory):
    path = pdf_factory("hyph.pdf", ["The infor-\nmation sheet lists a self-\ncontained unit."])
    doc = only_doc(path)
    assert "information" in doc.text and "self-contained" in doc.text


def test_html_declared_legacy_charset(tmp_path):
    page = '<html><head><meta charset="shift_jis"><title>案内</title></head><body><p>東京の店舗</p></body></html>'
    (tmp_path / "jp.html").write_bytes(page.encode("shift_jis"))
    doc = only_doc(tmp_path / "jp.html")
    assert doc.text == "東京の店舗" and doc.title == "案内"
    assert doc.meta["encoding"] == "shift_jis"


def test_jsonl_with_bom_and_crlf(tmp_path):
    path = tmp_path / "w.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a", "text": "one"}\r\n{"id": "b", "text": "two"}\r\n')
    result = load_file(path)
    assert result.ok and [d.text for d in result.documents] == ["one", "two"]
