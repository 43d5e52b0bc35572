"""Parsing what a model writes (QA pairs, paraphrases), and paraphrasing questions.

A teacher model (:mod:`ragtune.synth.teacher`) writes QA pairs; any generator can
rephrase questions. Replies are parsed defensively: a line is a question only if it
reads as one (:func:`looks_like_question`), so a preamble such as "Here are two
questions:" is never saved as a question. A paraphrase is kept only if it keeps the
question's key terms (names, numbers), does not give the answer away, and is new.

Fine-tuning learns a new fact only when it sees it in many phrasings (Ovadia et al.
2023; Mecklenburg et al. 2024), hence ``paraphrase`` below::

    >>> from ragtune.testing.scripted_generator import ScriptedGenerator
    >>> llm = ScriptedGenerator(lambda conv: "Sure! Here are 2 rewrites:\\n1. Which city hosts the Q7 plant?\\n2. Where is the Q7 plant?")
    >>> from ragtune.types import QAExample
    >>> row = QAExample("x:p0", "In which city is the Q7 plant?", ["Lyon"], fact_id="x")
    >>> [p.question for p in paraphrase([row], llm, n=2)]
    ['Which city hosts the Q7 plant?', 'Where is the Q7 plant?']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ragtune.llm.base import ChatMessage, GenerationParams, Generator
from ragtune.progress import Progress
from ragtune.synth.split import normalize_question
from ragtune.types import QAExample

PARAPHRASE_SYSTEM = "You rewrite questions. Keep their meaning; change the wording."
PARAPHRASE_PROMPT = (
    "Rewrite this question in {n} different ways. Keep every name and number. "
    "Write one question per line, numbered 1., 2., ...\n\nQuestion: {question}"
)

# "Q: ...\nA: ..." blocks; models (and the scripted double) also put them on one line.
_PAIR = re.compile(r"(?:^|\s)Q\d*\s*:\s*(.+?)\s+A\d*\s*:\s*(.+?)(?=\s+Q\d*\s*:|\n|$)", re.S | re.I)
_ITEM_START = re.compile(r"\s+(?=\d{1,2}[.)]\s)")
_NUMBERING = re.compile(r"^\s*(?:\d+\s*[.):]|[-*•]|Q\s*\d*\s*:)\s*", re.I)
_WORD = re.compile(r"\w+")
_PREAMBLE = re.compile(
    r"^(?:here (?:is|are)|sure|certainly|of course|okay|ok\b|below|the following|i (?:have|will|can)"
    r"|as an ai|these are|rewritten|rephrased|paraphrases?\b|questions?\b\s*\d*\s*:?$)",
    re.I,
)


def looks_like_question(text: str) -> bool:
    """Whether ``text`` reads as one question, not a preamble, a heading or a paragraph.

    >>> looks_like_question("Which port does the server use?")
    True
    >>> looks_like_question("Here are two questions about the passage:"), looks_like_question("Port?")
    (False, False)
    """
    text = text.strip()
    n_words = len(text.split())
    if not 3 <= n_words <= 40 or text.endswith(":") or _PREAMBLE.match(text):
        return False
    return any(ch.isalpha() for ch in text) and text.count("?") <= 1


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def answer_supported(answer: str, passage: str, max_answer_words: int = 12) -> bool:
    """Whether every word of ``answer`` occurs in ``passage`` and the answer is short.

    >>> answer_supported("1,759 kg", "It weighs 1,759 kg empty.")
    True
    >>> answer_supported("about 2 tonnes", "It weighs 1,759 kg empty.")
    False
    """
    answer_words = words(answer)
    if not answer_words or len(answer_words) > max_answer_words:
        return False
    passage_words = set(words(passage))
    return all(w in passage_words for w in answer_words)


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``Q: ... / A: ...`` blocks from a generation, in order; a "question" that is not
    one (a preamble, no ``?``) or an answer over 12 words is left out.

    >>> parse_pairs("Q: Who runs the Oslo office?\\nA: Ann Berg\\nQ: When?\\nA: 2019")
    [('Who runs the Oslo office?', 'Ann Berg')]
    """
    pairs = []
    for question, answer in _PAIR.findall(text):
        question = " ".join(question.split()).strip(" \"'")
        answer = " ".join(answer.split()).strip(" \"'")
        answer = answer.rstrip(".") if not answer.endswith("..") else answer
        if (
            answer
            and looks_like_question(question)
            and question.endswith("?")
            and len(answer.split()) <= 12
        ):
            pairs.append((question, answer))
    return pairs


def _batches(items: Sequence[object], size: int) -> Iterable[range]:
    for start in range(0, len(items), size):
        yield range(start, min(len(items), start + size))


def key_terms(question: str) -> set[str]:
    """Names and numbers a paraphrase must keep: capitalized words past the first, digits.

    >>> sorted(key_terms("What does the Nordel Q7 cost in 2024?"))
    ['2024', 'nordel', 'q7']
    """
    tokens = re.findall(r"[\w$.,'-]+", question)
    terms = set()
    for position, token in enumerate(tokens):
        clean = token.strip(".,'-").lower()
        if any(ch.isdigit() for ch in token) or (position > 0 and token[:1].isupper()):
            terms.update(words(clean))
    return terms


def parse_paraphrases(text: str) -> list[str]:
    out = []
    for line in (piece for raw in text.splitlines() for piece in _ITEM_START.split(raw)):
        line = _NUMBERING.sub("", line).strip().strip("\"'")
        if looks_like_question(line):
            out.append(" ".join(line.split()))
    return out


def paraphrase(
    rows: Sequence[QAExample],
    generator: Generator,
    n: int,
    avoid: Iterable[str] = (),
    max_new_tokens: int = 200,
    progress: Progress | None = None,
) -> list[QAExample]:
    """Up to ``n`` new phrasings per fact of ``rows`` (the first row of each fact is
    rephrased), filtered as the module docstring says. ``avoid`` holds questions that
    must never be produced (the held-out ones), so training cannot leak into evaluation.
    """
    if n <= 0 or not rows:
        return []
    progress = progress or Progress()
    firsts: dict[str, QAExample] = {}
    for row in rows:
        firsts.setdefault(row.fact_id or row.id, row)
    sources = list(firsts.values())
    taken = {normalize_question(q) for q in avoid} | {normalize_question(r.question) for r in rows}
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
    out: list[QAExample] = []
    step = max(1, generator.batch_size)
    with progress.task("paraphrasing", total=len(sources), unit="facts") as advance:
        for batch in _batches(sources, step):
            convs = [
                [
                    ChatMessage("system", PARAPHRASE_SYSTEM),
                    ChatMessage(
                        "user", PARAPHRASE_PROMPT.format(n=n, question=sources[i].question)
                    ),
                ]
                for i in batch
            ]
            for i, gen in zip(batch, generator.generate(convs, params), strict=True):
                source = sources[i]
                needed = key_terms(source.question)
                answer_words = {normalize_question(a) for a in source.answers}
                made = 0
                for candidate in parse_paraphrases(gen.text):
                    if made >= n:
                        break
                    if not candidate.endswith("?"):
                        candidate = candidate.rstrip(".") + "?"
                    key = normalize_question(candidate)
                    if key in taken or not needed <= set(words(candidate)):
                        continue
                    if any(a and f" {a} " in f" {key} " for a in answer_words):
                        continue  # the paraphrase gives the answer away
                    taken.add(key)
                    made += 1
                    base_phrasing = source.phrasing or "p"
                    out.append(
                        QAExample(
                            id=f"{source.id}+para{made}",
                            question=candidate,
                            answers=list(source.answers),
                            fact_id=source.fact_id or source.id,
                            doc_ids=list(source.doc_ids),
                            phrasing=f"{base_phrasing}+para{made}",
                            context=source.context,
                            meta={
                                **source.meta,
                                "paraphrase_of": source.id,
                                "generator": generator.name,
                            },
                        )
                    )
            advance(len(batch))
    return out
