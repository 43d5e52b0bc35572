"""RecursiveChunker: exact offsets, size, overlap, heading paths, over many documents."""

from __future__ import annotations

import itertools
import random

import pytest

from ragtune.corpus import Chunker, RecursiveChunker, make_token_counter
from ragtune.corpus.chunking import chunkers, find_headings
from ragtune.errors import ConfigError
from ragtune.types import Document

WORDS = [
    "router",
    "warranty",
    "antenna",
    "firmware",
    "the",
    "a",
    "of",
    "to",
    "and",
    "is",
    "in",
    "reset",
    "signal",
    "mesh",
    "port",
    "configuration",
    "cable",
    "5GHz",
    "X200",
    "über",
    "café",
    "naïve",
    "東京",
    "data-plan",
    "e-mail",
    "3.5",
    "v2.1",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 25))]
    return " ".join(words).capitalize() + rng.choice([".", "!", "?", ".", ";", ""])


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(1, 8)))


def random_document(rng: random.Random, index: int) -> tuple[Document, list[tuple[int, str]]]:
    """A markdown-ish document and the headings (level, text) it contains."""
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        if kind < 0.25:
            level = rng.randint(1, 4)
            text = f"Section {len(headings)} {rng.choice(WORDS)}"
            headings.append((level, text))
            parts.append("#" * level + " " + text)
        elif kind < 0.35:
            parts.append("\n".join("- " + sentence(rng) for _ in range(rng.randint(1, 5))))
        elif kind < 0.40:
            parts.append("```\n# not a heading\n" + paragraph(rng) + "\n```")
        elif kind < 0.45:
            parts.append("x" * rng.randint(1, 400))  # one long word
        elif kind < 0.50:
            parts.append("\n".join(sentence(rng) for _ in range(rng.randint(2, 6))))
        else:
            parts.append(paragraph(rng))
    sep = rng.choice(["\n\n", "\n\n", "\n", "\n\n\n"])
    text = sep.join(parts)
    return Document(id=f"doc{index}.md", text=text, source=f"/d/doc{index}.md", title="T"), headings


def expected_path(text: str, start: int, end: int) -> list[str]:
    """Path at the chunk's first character that is not in a leading heading line."""
    headings = find_headings(text)
    position = start
    for heading in headings:
        if heading.start == position and position < end:
            position = heading.end
            while position < end and text[position].isspace():
                position += 1
    position = min(position, end - 1)
    path: list[str] = []
    for heading in headings:
        if heading.start <= position:
            path = heading.path
    return path


@pytest.mark.parametrize(("size", "overlap"), [(16, 0), (32, 8), (64, 16), (200, 40), (50, 49)])
def test_properties_over_many_documents(size, overlap):
    rng = random.Random(size * 1000 + overlap)
    count = make_token_counter("words")
    chunker = RecursiveChunker(size, overlap)
    for index in range(150):
        doc, _ = random_document(rng, index)
        chunks = chunker.split(doc)
        assert chunks, doc.text
        covered_until = 0
        for position, chunk in enumerate(chunks):
            assert chunk.text == doc.text[chunk.start_char : chunk.end_char]
            assert chunk.text and chunk.text == chunk.text.strip()
            assert chunk.id == f"{doc.id}::{position}" and chunk.index == position
            assert chunk.doc_id == doc.id and chunk.source == doc.source and chunk.title == "T"
            assert chunk.meta == doc.meta and chunk.meta is not doc.meta
            if count(chunk.text) > size:  # only a single word may exceed the size
                assert len(chunk.text.split()) == 1, (size, chunk.text)
            assert chunk.heading_path == expected_path(doc.text, chunk.start_char, chunk.end_char)
            # chunks advance and, together, cover every non-space character
            assert (
                chunk.start_char <= covered_until
                or not doc.text[covered_until : chunk.start_char].strip()
            )
            if position:
                assert chunk.start_char > chunks[position - 1].start_char
                assert chunk.end_char > chunks[position - 1].end_char
            covered_until = max(covered_until, chunk.end_char)
        assert not doc.text[covered_until:].strip()


def test_chunk_ids_are_stable():
    rng = random.Random(7)
    doc, _ = random_document(rng, 0)
    first = RecursiveChunker(32, 8).split(doc)
    second = RecursiveChunker(32, 8).split(Document(**doc.to_dict()))
    assert [c.to_dict() for c in first] == [c.to_dict() for c in second]


def test_overlap_is_carried_from_previous_tail():
    text = " ".join(f"Sentence number {i} is about the router." for i in range(60))
    doc = Document(id="o.txt", text=text)
    chunks = RecursiveChunker(40, 10).split(doc)
    assert len(chunks) > 3
    count = make_token_counter("words")
    for previous, chunk in itertools.pairwise(chunks):
        assert chunk.start_char < previous.end_char, "no overlap"
        shared = doc.text[chunk.start_char : previous.end_char]
        assert 1 <= count(shared) <= 10
        assert previous.text.endswith(shared)


def test_no_overlap_when_zero():
    text = "\n\n".join(f"Paragraph {i} has a few words in it." for i in range(30))
    chunks = RecursiveChunker(30, 0).split(Document(id="z", text=text))
    for previous, chunk in itertools.pairwise(chunks):
        assert chunk.start_char >= previous.end_char


def test_overlap_does_not_cross_a_heading():
    body = " ".join(f"Fact {i} about warranty terms." for i in range(12))
    text = f"# Router\n\n## Warranty\n\n{body}\n\n## Returns\n\n{body}"
    chunks = RecursiveChunker(48, 12).split(Document(id="h.md", text=text))
    returns = [c for c in chunks if c.heading_path == ["Router", "Returns"]]
    assert returns and returns[0].text.startswith("## Returns")
    assert all("## Returns" not in c.text for c in chunks if c.heading_path[-1] == "Warranty")


def test_headings_become_heading_path():
    text = (
        "# X200 Router\n\nIntro.\n\n## Warranty\n\n"
        + " ".join(["Two years of cover."] * 30)
        + "\n\n### Exclusions\n\n"
        + " ".join(["Water damage is excluded."] * 10)
        + "\n\n## Returns\n\nThirty days."
    )
    chunks = RecursiveChunker(32, 4).split(Document(id="x.md", text=text))
    paths = [c.heading_path for c in chunks]
    assert paths[0] == ["X200 Router"]
    assert ["X200 Router", "Warranty"] in paths
    assert ["X200 Router", "Warranty", "Exclusions"] in paths
    assert chunks[-1].text.endswith("## Returns\n\nThirty days.")  # small: merged
    exclusions = [c for c in chunks if c.heading_path[-1:] == ["Exclusions"]]
    assert exclusions[0].text.startswith("### Exclusions")


def test_prefers_paragraph_boundaries():
    paragraphs = [" ".join([f"p{i}"] * 12) + "." for i in range(6)]
    text = "\n\n".join(paragraphs)
    chunks = RecursiveChunker(40, 0).split(Document(id="p", text=text))
    for chunk in chunks:
        assert chunk.text.endswith(".")  # every cut at a paragraph end


def test_a_word_up_to_the_char_cap_is_kept_whole():
    word = "a" * 5000
    chunker = RecursiveChunker(16, 4, max_chunk_chars=5000)
    chunks = chunker.split(Document(id="w", text=f"short start {word} short end"))
    assert any(c.text == word for c in chunks)


@pytest.mark.parametrize("counter", ["words", "chars"])
def test_a_word_over_the_char_cap_is_cut_into_capped_chunks(counter):
    # A 1 MB line without whitespace (the 5 MB case, smaller): the word counter sees one
    # token, yet no chunk may be longer than the hard cap (16 chars per token: 256).
    word = "".join(chr(ord("a") + i % 26) for i in range(1_000_000))
    text = f"Intro line.\n{word}\nOutro line."
    count = make_token_counter("words") if counter == "words" else len
    chunks = RecursiveChunker(16, 4, count_tokens=count).split(Document(id="w", text=text))
    assert max(len(c.text) for c in chunks) <= 16 * 16
    assert all(c.text == text[c.start_char : c.end_char] for c in chunks)
    covered = "".join(c.text for c in chunks if c.text[0] not in "IO")
    assert word in covered
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_empty_and_whitespace_documents():
    assert RecursiveChunker(16, 4).split(Document(id="e", text="")) == []
    assert RecursiveChunker(16, 4).split(Document(id="e", text=" \n\n ")) == []


def test_custom_counter_without_offsets():
    calls = []

    def count_chars(text: str) -> int:
        calls.append(len(text))
        return len(text)

    text = "\n\n".join("word " * 10 for _ in range(50))
    chunks = RecursiveChunker(120, 20, count_tokens=count_chars).split(Document(id="c", text=text))
    assert all(len(c.text) <= 120 for c in chunks)
    assert all(c.text == text[c.start_char : c.end_char] for c in chunks)
    assert sum(calls) < 4 * len(text)  # counted about once, not once per merge step


def test_validation_names_fields():
    with pytest.raises(ConfigError, match="chunk_overlap_tokens"):
        RecursiveChunker(32, 32)
    with pytest.raises(ConfigError, match="chunk_size_tokens"):
        RecursiveChunker(0, 0)


def test_registry_and_interface():
    chunker = chunkers.create("recursive", chunk_size_tokens=64, chunk_overlap_tokens=8)
    assert isinstance(chunker, Chunker)
    docs = [Document(id="a", text="one"), Document(id="b", text="two")]
    assert [c.id for c in chunker.split_all(docs)] == ["a::0", "b::0"]


def test_from_config():
    from ragtune.config import CorpusConfig

    chunker = RecursiveChunker.from_config(CorpusConfig(tokenizer="words", chunk_size_tokens=64))
    assert chunker.chunk_size_tokens == 64
    assert chunker.chunk_overlap_tokens == CorpusConfig().chunk_overlap_tokens
    with pytest.raises(ConfigError, match="embedder"):
        RecursiveChunker.from_config(CorpusConfig())


def test_offsets_exact_on_uncleaned_and_odd_text():
    rng = random.Random(11)
    pieces = [
        "word",
        "Wörd.",
        "\r\n",
        "\n",
        "\n\n",
        "\t",
        "  ",
        "\u00a0",
        "# H",
        "\n## Sub\n",
        "。",
        "東京",
        "x" * 40,
        "!",
        "-",
    ]
    chunker = RecursiveChunker(12, 4)
    for _ in range(300):
        text = "".join(
            rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(0, 120))
        )
        chunks = chunker.split(Document(id="u", text=text))
        assert all(c.text == text[c.start_char : c.end_char] and c.text.strip() for c in chunks)
        assert [c.index for c in chunks] == list(range(len(chunks)))


def test_headings_only_document():
    text = "# A\n\n## B\n\n### C"
    chunks = RecursiveChunker(16, 4).split(Document(id="h", text=text))
    assert [c.text for c in chunks] == [text]
    assert chunks[0].heading_path == ["A", "B", "C"]


def test_document_is_tokenized_once_with_an_offsets_counter():
    from ragtune.corpus.tokens import WordTokenCounter

    class Spy(WordTokenCounter):
        calls = 0

        def token_starts(self, text):
            Spy.calls += 1
            return super().token_starts(text)

    text = "\n\n".join(f"Paragraph {i}. " + "words " * 40 for i in range(200))
    chunks = RecursiveChunker(64, 16, count_tokens=Spy()).split(Document(id="s", text=text))
    assert len(chunks) > 100
    assert Spy.calls == 1
