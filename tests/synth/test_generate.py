"""QA from chunks and paraphrases through the scripted generator: the filters decide."""

from __future__ import annotations

from ragtune.llm.base import ChatMessage
from ragtune.synth.generate import answer_supported, generate_from_chunks, key_terms, paraphrase
from ragtune.testing.scripted_generator import ScriptedGenerator
from ragtune.types import Chunk, QAExample

CHUNK = Chunk(
    id="spec.md#0",
    doc_id="spec.md",
    text="The Ambrel X200 weighs 1.4 kg and lists at $1,759. Units are assembled in Calderwick since 2019.",
)


def qa_writer(conversation: list[ChatMessage]) -> str:
    return (
        "Q: How much does the Ambrel X200 weigh?\nA: 1.4 kg\n"
        "Q: Who designed the Ambrel X200?\nA: Jane Doe\n"  # not in the chunk: dropped
        "Q: Where is the Ambrel X200 assembled?\nA: Calderwick."
    )


def test_generated_pairs_keep_only_supported_answers() -> None:
    short = Chunk(id="tiny#0", doc_id="tiny", text="Too short.")
    rows, counts = generate_from_chunks(
        [CHUNK, short], ScriptedGenerator(qa_writer), questions_per_chunk=3
    )
    assert [(r.question, r.answers) for r in rows] == [
        ("How much does the Ambrel X200 weigh?", ["1.4 kg"]),
        ("Where is the Ambrel X200 assembled?", ["Calderwick"]),
    ]
    assert counts == {"chunks": 1, "proposed": 3, "kept": 2, "unsupported": 1, "duplicate": 0}
    assert (
        rows[0].fact_id == "spec.md#0#0"
        and rows[0].doc_ids == ["spec.md"]
        and rows[0].context == CHUNK.text
    )


def test_answer_support_filter() -> None:
    assert answer_supported("$1,759", CHUNK.text)
    assert not answer_supported("1.5 kg", CHUNK.text)
    assert not answer_supported("", CHUNK.text)
    assert not answer_supported(" ".join(["Calderwick"] * 13), CHUNK.text)  # a summary, not a fact


def test_paraphrases_keep_key_terms_and_never_leak_heldout() -> None:
    def rephrase(conversation: list[ChatMessage]) -> str:
        return (
            "1. Which city assembles the Ambrel X200?\n"
            "2. Where are they assembled?\n"  # lost the product name
            "3. Where is the Ambrel X200 built\n"  # no '?': repaired
            "4. Is the Ambrel X200 assembled in Calderwick?\n"  # gives the answer away
            "5. In which town is the Ambrel X200 put together?\n"
            "6. Where is the Ambrel X200 assembled?"  # the original itself
        )

    row = QAExample(
        "x:p0", "Where is the Ambrel X200 assembled?", ["Calderwick"], fact_id="x", phrasing="p0"
    )
    heldout = ["In which town is the Ambrel X200 put together?"]
    out = paraphrase([row], ScriptedGenerator(rephrase), n=4, avoid=heldout)
    assert [p.question for p in out] == [
        "Which city assembles the Ambrel X200?",
        "Where is the Ambrel X200 built?",
    ]
    assert all(
        p.fact_id == "x" and p.answers == ["Calderwick"] and p.meta["paraphrase_of"] == "x:p0"
        for p in out
    )
    assert [p.phrasing for p in out] == ["p0+para1", "p0+para2"]
    assert key_terms(row.question) == {"ambrel", "x200"}
