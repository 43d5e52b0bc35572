"""The extractive generator: facts in documentation shapes become span-answered questions."""

from __future__ import annotations

from ragtune.synth.extractive import ExtractiveSettings, extract_questions
from ragtune.synth.filters import QuestionCounts, Seen, check, is_span
from ragtune.synth.split import split_by_fact
from ragtune.synth.units import split_units
from ragtune.types import Chunk

CLI_DOC = """# Command line

## `--depth`

Limits how deep to recurse into folders. Defaults to `3`.

## `-q`, `--quiet`

Stop emitting all non-critical output.

## Settings

| Setting | Default | Description |
|---|---|---|
| `cache_dir` | `~/.cache/tool` | Where downloads are kept |
| `workers` | 4 | Parallel jobs |

- Minimum Python: 3.9
- The installer requires network access to the package index.
- Lock files are used to pin exact versions of every dependency.
- Support for plugins was added in version 2.1.
- Toolkit is a command-line formatter for configuration files.
"""


def chunk(text: str, doc_id: str = "cli.md", index: int = 0, title: str = "Command line") -> Chunk:
    return Chunk(id=f"{doc_id}#{index}", doc_id=doc_id, text=text, index=index, title=title)


def by_relation(examples: list) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in examples:
        out.setdefault(e.meta["relation"], set()).add(e.answers[0])
    return out


def test_documentation_shapes_become_facts_with_span_answers() -> None:
    result = extract_questions([chunk(CLI_DOC)], ExtractiveSettings(max_facts_per_chunk=20))
    assert by_relation(result.examples) == {
        "option": {"--depth", "--quiet"},
        "default": {"3"},
        "table": {"~/.cache/tool", "4"},
        "field": {"3.9"},
        "requires": {"network access to the package index"},
        "used_for": {"pin exact versions of every dependency"},
        "passive": {"2.1"},
        "definition": {"a command-line formatter"},
    }
    for example in result.examples:
        start, end = example.meta["answer_start"], example.meta["answer_end"]
        assert CLI_DOC[start:end] == example.answers[0], example
        assert example.question.endswith("?") and example.answers[0] not in example.question
    questions = {e.question for e in result.examples}
    assert (
        "Which command-line option do you use to limit how deep to recurse into folders?"
        in questions
    )
    assert "What is the default value of `--depth`?" in questions
    assert (
        "According to 'Command line', in which version was support for plugins added?" in questions
    )
    assert "What is the default of `cache_dir`?" in questions
    assert result.counts.kept == len(result.examples) and result.counts.not_span == 0


def test_every_fact_has_two_or_more_phrasings_so_the_split_can_hold_one_out() -> None:
    result = extract_questions(
        [chunk(CLI_DOC)], ExtractiveSettings(phrasings=3, max_facts_per_chunk=20)
    )
    per_fact: dict[str, list[str]] = {}
    for e in result.examples:
        per_fact.setdefault(e.fact_id, []).append(e.phrasing)
    assert per_fact and all(len(p) >= 2 for p in per_fact.values())
    assert all(len(p) <= 3 for p in per_fact.values())
    split = split_by_fact(result.examples, heldout_share=0.34, unseen_fact_share=0.0, seed=0)
    trained = {e.fact_id for e in split.train}
    assert split.unseen_phrasing and all(e.fact_id in trained for e in split.unseen_phrasing)


def test_pronouns_clauses_and_prose_give_no_questions() -> None:
    prose = (
        "It weighs 1.4 kg. If set, the cache is 5 GB. This is used to speed things up. We like it."
    )
    result = extract_questions([chunk(prose, title="")])
    assert result.examples == [] and result.counts.proposed == 0


def test_generic_subjects_are_scoped_by_the_document_title() -> None:
    result = extract_questions([chunk("The list price is $1,759.", title="Price list")])
    assert [e.question for e in result.examples] == [
        "According to 'Price list', what is the list price?",
        "According to 'Price list', what value is given for the list price?",
    ]


def test_overlapping_chunks_and_markup_are_counted_not_silently_lost() -> None:
    sentence = "The archive was released on May 2, 2021."
    marked = "Units are assembled in *Nord* Haven."  # the answer "Nord Haven" is no span
    chunks = [chunk(f"{sentence} {marked}", index=0), chunk(sentence, index=1)]
    result = extract_questions(chunks)
    assert {e.answers[0] for e in result.examples} == {"May 2, 2021"}
    counts = result.counts
    assert counts.not_span > 0 and counts.duplicate > 0
    assert counts.proposed == (
        counts.kept
        + counts.not_span
        + counts.answer_in_question
        + counts.duplicate
        + counts.near_duplicate
        + counts.over_limit
    )


def test_filters_one_by_one() -> None:
    counts, seen = QuestionCounts(), Seen(near_duplicate=0.8)
    source = "The server listens on port 8080 unless the config file names another port."
    assert check("Which port does the server listen on?", "8080", source, seen, counts, "f1")
    assert not check("Which port does the server listen on?", "8080", source, seen, counts, "f2")
    assert not check("On which port does the server listen on?", "8080", source, seen, counts, "f3")
    assert not check("Is 8080 the port of the server?", "8080", source, seen, counts, "f4")
    assert not check("Which port is used?", "9090", source, seen, counts, "f5")
    assert (
        counts.duplicate,
        counts.near_duplicate,
        counts.answer_in_question,
        counts.not_span,
    ) == (1, 1, 1, 1)
    # Phrasings of one fact are meant to be alike: never near-duplicates of each other.
    assert check("On which port does the server listen?", "8080", source, seen, counts, "f1")
    assert is_span("port\n8080", source) and not is_span("Port 8080", source)


def test_deterministic_whatever_the_chunk_order_and_seeded() -> None:
    chunks = [chunk(CLI_DOC, "a.md"), chunk(CLI_DOC.replace("`3`", "`5`"), "b.md")]
    settings = ExtractiveSettings(phrasings=2, max_facts_per_chunk=4, seed=1)
    first = extract_questions(chunks, settings)
    again = extract_questions(list(reversed(chunks)), settings)
    assert [e.to_dict() for e in first.examples] == [e.to_dict() for e in again.examples]
    assert first.counts.over_limit > 0 and first.counts.to_dict() == again.counts.to_dict()
    other = extract_questions(
        chunks, ExtractiveSettings(phrasings=2, max_facts_per_chunk=4, seed=2)
    )
    assert [e.id for e in other.examples] != [e.id for e in first.examples]


def test_units_keep_offsets_through_markup_and_skip_code() -> None:
    text = "Intro with a [link](http://x.y) and _emphasis_.\n\n```\nNot = 'a sentence.'\n```\n- Item one. Item two"
    units = split_units(text)
    assert [(u.kind, u.text) for u in units] == [
        ("sentence", "Intro with a link and emphasis."),
        ("item", "Item one."),
        ("item", "Item two"),
    ]
    link = units[0]
    start, end = link.source_span(13, 17)
    assert text[start:end] == "link"


def test_a_markdown_table_cut_above_its_header_gives_no_rows() -> None:
    from ragtune.synth.units import split_units

    whole = "# Options\n\n| name | default |\n|---|---|\n| timeout | 30 |\n| retries | 4 |\n"
    rows = [u for u in split_units(whole) if u.kind == "row"]
    assert [u.header for u in rows] == [("name", "default")] * 2
    # The same table's tail under a heading, as a chunk cut mid-table begins.
    cut = "# Options\n\n| timeout | 30 |\n| retries | 4 |\n"
    assert [u for u in split_units(cut) if u.kind == "row"] == []
    # An HTML table loads as "a | b" lines with no separator: its first row is the header.
    html = "Limits\n\nname | default\ntimeout | 30\n"
    assert [u.header for u in split_units(html) if u.kind == "row"] == [("name", "default")]
