"""Question/answer pairs from the user's own chunks, and paraphrases of questions.

Both use the configured generator (any backend: a larger model or an API gives better
pairs than the 135M default) and both filter what comes back:

- a generated pair is kept only if its answer is *supported* by the chunk: every word
  of the answer occurs in the chunk, and the answer is short (a fact, not a summary);
- a paraphrase is kept only if it keeps the question's key terms (names, numbers),
  does not give the answer away, and is new.

Fine-tuning learns a new fact only when it sees it in many phrasings (Ovadia et al.
2023; Mecklenburg et al. 2024), hence ``paraphrase`` below::

    >>> from ragtune.testing.scripted_generator import ScriptedGenerator
    >>> llm = ScriptedGenerator(lambda conv: "1. Which city builds the X200?\\n2. Where is the X200 made?")
    >>> from ragtune.types import QAExample
    >>> row = QAExample("x:p0", "Where is the X200 assembled?", ["Calderwick"], fact_id="x")
    >>> [p.question for p in paraphrase([row], llm, n=2)]
    ['Which city builds the X200?', 'Where is the X200 made?']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ragtune.llm.base import ChatMessage, GenerationParams, Generator
from ragtune.progress import Progress
from ragtune.synth.split import normalize_question
from ragtune.types import Chunk, QAExample

QA_SYSTEM = "You write quiz questions about documents. Follow the format exactly."
QA_PROMPT = (
    "Write {n} different question-answer pairs about facts stated in the passage. "
    "Each answer must be a short phrase copied exactly from the passage "
    "(a name, number, date or place). Use this format:\n"
    "Q: <question>\nA: <answer>\n\nPassage:\n{passage}"
)
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
    """``Q: ... / A: ...`` blocks from a generation, in order.

    >>> parse_pairs("Q: Who runs Oslo?\\nA: Ann Berg\\nQ: When?\\nA: 2019")
    [('Who runs Oslo?', 'Ann Berg'), ('When?', '2019')]
    """
    pairs = []
    for question, answer in _PAIR.findall(text):
        question = " ".join(question.split())
        answer = " ".join(answer.split()).strip(" \"'")
        if question and answer:
            pairs.append((question, answer.rstrip(".") if not answer.endswith("..") else answer))
    return pairs


def _batches(items: Sequence[object], size: int) -> Iterable[range]:
    for start in range(0, len(items), size):
        yield range(start, min(len(items), start + size))


def generate_from_chunks(
    chunks: Sequence[Chunk],
    generator: Generator,
    questions_per_chunk: int = 2,
    max_new_tokens: int = 160,
    min_chunk_words: int = 12,
    progress: Progress | None = None,
) -> tuple[list[QAExample], dict[str, int]]:
    """QA pairs for each chunk, with unsupported answers dropped.

    Returns the rows (``fact_id`` = chunk id + pair number, ``phrasing`` "p0",
    ``context`` = the chunk text) and counts: chunks used, pairs proposed, pairs kept,
    pairs dropped as unsupported or duplicate.
    """
    progress = progress or Progress()
    usable = [c for c in chunks if len(c.text.split()) >= min_chunk_words]
    counts = {"chunks": len(usable), "proposed": 0, "kept": 0, "unsupported": 0, "duplicate": 0}
    rows: list[QAExample] = []
    seen: set[str] = set()
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
    step = max(1, generator.batch_size)
    with progress.task("generating QA", total=len(usable), unit="chunks") as advance:
        for batch in _batches(usable, step):
            convs = [
                [
                    ChatMessage("system", QA_SYSTEM),
                    ChatMessage(
                        "user",
                        QA_PROMPT.format(n=questions_per_chunk, passage=usable[i].text.strip()),
                    ),
                ]
                for i in batch
            ]
            for i, gen in zip(batch, generator.generate(convs, params), strict=True):
                chunk = usable[i]
                kept = 0
                for question, answer in parse_pairs(gen.text)[:questions_per_chunk]:
                    counts["proposed"] += 1
                    key = normalize_question(question)
                    if (
                        not answer_supported(answer, chunk.text)
                        or normalize_question(answer) in key
                    ):
                        counts["unsupported"] += 1
                        continue
                    if key in seen:
                        counts["duplicate"] += 1
                        continue
                    seen.add(key)
                    fact_id = f"{chunk.id}#{kept}"
                    rows.append(
                        QAExample(
                            id=f"{fact_id}:p0",
                            question=question,
                            answers=[answer],
                            fact_id=fact_id,
                            doc_ids=[chunk.doc_id],
                            phrasing="p0",
                            context=chunk.text,
                            meta={
                                "source": "corpus",
                                "chunk_id": chunk.id,
                                "generator": generator.name,
                            },
                        )
                    )
                    kept += 1
                counts["kept"] += kept
            advance(len(batch))
    return rows, counts


def key_terms(question: str) -> set[str]:
    """Names and numbers a paraphrase must keep: capitalized words past the first, digits.

    >>> sorted(key_terms("What does the Ambrel X210 cost in 2024?"))
    ['2024', 'ambrel', 'x210']
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
        if len(line.split()) >= 3:
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
