"""Answer metrics: pure-Python reference implementations, one number per (prediction, answers).

Every metric takes the prediction and the list of accepted answers and returns the best
score over the answers (SQuAD convention)::

    >>> exact_match("$1,759.", ["1759"])
    1.0
    >>> round(token_f1("It costs 1,759 dollars", ["$1,759"]), 2)
    0.4
    >>> contains_answer("The Pro plan lists at $1,759 a year [1].", ["1759"])
    1.0

``contains_answer`` is the primary metric for short factual answers: a small chatty
model wraps the fact in a sentence, which exact match would count as wrong.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CITATION = re.compile(r"\[\d{1,2}\]")
# Digits grouped by thousands separators ("1,759", "12,000,000"): separators go.
_GROUPED_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d])")
_TRAILING_ZEROS = re.compile(r"(?<![\d.])(\d+)\.0+(?!\d)")
_PUNCT = set(string.punctuation)


def normalize_number_text(text: str) -> str:
    """Canonical digits: drop thousands separators and currency signs, ``12.00`` -> ``12``.

    >>> normalize_number_text("$1,759.00 or €20")
    '1759 or 20'
    """
    text = _GROUPED_NUMBER.sub(lambda m: m.group(0).replace(",", ""), text)
    text = re.sub(r"[$€£¥](?=\s?\d)", "", text)
    text = re.sub(r"(?<=\d)\s?(?:usd|eur|gbp)\b", "", text, flags=re.I)
    return _TRAILING_ZEROS.sub(r"\1", text)


def normalize_answer(text: str) -> str:
    """SQuAD normalization plus numbers: lower case, no citations, punctuation,
    articles or extra whitespace; ``$1,759`` -> ``1759``.

    >>> normalize_answer("The price is $1,759.00 [2].")
    'price is 1759'
    """
    text = _CITATION.sub(" ", text.lower())
    text = normalize_number_text(text)
    # Keep decimal points between digits (2.5 kg), drop every other punctuation mark.
    text = re.sub(r"(?<=\d)\.(?=\d)", "\x00", text)
    text = "".join(" " if ch in _PUNCT else ch for ch in text).replace("\x00", ".")
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when the normalized prediction equals a normalized accepted answer."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD token F1 (bag of normalized words), best over ``answers``."""
    pred_tokens = _tokens(prediction)
    best = 0.0
    for answer in answers:
        gold_tokens = _tokens(answer)
        if not pred_tokens or not gold_tokens:
            best = max(best, float(pred_tokens == gold_tokens))
            continue
        common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
        if common == 0:
            continue
        precision, recall = common / len(pred_tokens), common / len(gold_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_answer(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when a normalized accepted answer occurs in the normalized prediction as
    whole words (so ``"17"`` is not found in ``"1759"``).

    >>> contains_answer("Founded in 1998 in Nysa Falls.", ["1998"]), contains_answer("In 19980.", ["1998"])
    (1.0, 0.0)
    """
    pred = f" {normalize_answer(prediction)} "
    for answer in answers:
        gold = normalize_answer(answer)
        if gold and f" {gold} " in pred:
            return 1.0
    return 0.0


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 if either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def is_long_answer(answers: Sequence[str], min_words: int = 6) -> bool:
    """Answers this long are judged by meaning (semantic similarity, a judge) as well."""
    return any(len(a.split()) >= min_words for a in answers)


ANSWER_METRICS = ("contains", "exact_match", "f1")
PRIMARY_METRIC = "contains"


def score_answer(prediction: str, answers: Sequence[str]) -> dict[str, float]:
    """Every string metric for one prediction: ``{"contains", "exact_match", "f1"}``."""
    return {
        "contains": contains_answer(prediction, answers),
        "exact_match": exact_match(prediction, answers),
        "f1": round(token_f1(prediction, answers), 4),
    }
