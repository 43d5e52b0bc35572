"""Parsing model replies and paraphrasing through the scripted generator: the filters decide."""

from __future__ import annotations

from ragtune.llm.base import ChatMessage
from ragtune.synth.generate import (
    key_terms,
    looks_like_question,
    paraphrase,
    parse_pairs,
    parse_paraphrases,
)
from ragtune.testing.scripted_generator import ScriptedGenerator
from ragtune.types import Chunk, QAExample

CHUNK = Chunk(
    id="spec.md#0",
    doc_id="spec.md",
    text="The Ambrel X200 weighs 1.4 kg and lists at $1,759. Units are assembled in Calderwick since 2019.",
)


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


def test_a_preamble_is_never_a_question() -> None:
    reply = (
        "Here are two questions about the passage:\n"
        "Q: Here are two questions:\nA: none\n"
        "Q: How much does the unit weigh?\nA: 1.4 kg\n"
        "Q: Weight?\nA: 1.4 kg\n"  # one word: not a question
        "Q: What is stated?\nA: " + " ".join(["word"] * 13)  # a summary, not a fact
    )
    assert parse_pairs(reply) == [("How much does the unit weigh?", "1.4 kg")]
    lines = "Sure! Here are 3 rephrasings:\n1. How heavy is the unit?\n2. Rephrased questions:\n3. What is the unit's weight?"
    assert parse_paraphrases(lines) == ["How heavy is the unit?", "What is the unit's weight?"]
    assert not looks_like_question("Certainly, here is a question about the text.")
