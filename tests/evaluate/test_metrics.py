"""Answer metrics: SQuAD normalization plus numbers, EM, token F1, containment."""

from __future__ import annotations

import pytest

from ragtune.evaluate.metrics import (
    contains_answer,
    cosine,
    exact_match,
    is_long_answer,
    normalize_answer,
    score_answer,
    token_f1,
)


@pytest.mark.parametrize("text", ["$1,759", "1759", "1,759", "1759.00", "$1759", "1,759 USD"])
def test_number_forms_normalize_alike(text: str) -> None:
    assert normalize_answer(text) == "1759"


def test_squad_normalization() -> None:
    assert normalize_answer("  The  Nysa-Falls office, [2]!") == "nysa falls office"
    assert normalize_answer("An apple a day") == "apple day"
    assert normalize_answer("2.5 kg") == "2.5 kg"


def test_exact_match_takes_the_best_answer() -> None:
    assert exact_match("The price is $1,759.", ["1759"]) == 0.0
    assert exact_match("$1,759.", ["1759", "x"]) == 1.0
    assert exact_match("nysa falls", ["Nysa Falls"]) == 1.0


def test_token_f1() -> None:
    assert token_f1("Nysa Falls", ["Nysa Falls"]) == 1.0
    assert token_f1("in Nysa", ["Nysa Falls"]) == pytest.approx(0.5)
    assert token_f1("Oslo", ["Nysa Falls"]) == 0.0
    assert token_f1("", [""]) == 1.0
    assert token_f1("", ["Oslo"]) == 0.0


def test_contains_answer_uses_whole_words() -> None:
    assert contains_answer("The X200 lists at $1,759 [1].", ["1759"]) == 1.0
    assert contains_answer("It costs 17590 dollars", ["1759"]) == 0.0
    assert contains_answer("Headquarters: Nysa Falls.", ["nysa falls"]) == 1.0
    assert contains_answer("anything", [""]) == 0.0


def test_score_answer_keys() -> None:
    scores = score_answer("Founded in 1998.", ["1998"])
    assert scores == {"contains": 1.0, "exact_match": 0.0, "f1": pytest.approx(0.5)}


def test_cosine_and_long_answers() -> None:
    assert cosine([1, 0], [1, 0]) == pytest.approx(1.0)
    assert cosine([1, 0], [0, 1]) == 0.0
    assert cosine([0, 0], [1, 1]) == 0.0
    assert is_long_answer(["Returns are accepted within thirty days of delivery"])
    assert not is_long_answer(["1998"])
