"""clean_text: normalization rules, careful de-hyphenation, idempotence."""

from __future__ import annotations

import random
import unicodedata

import pytest

from ragtune.corpus import clean_text
from ragtune.corpus.clean import dehyphenate


def test_unicode_nfc_and_spaces():
    assert clean_text("Cafe\u0301\u00a0menu") == "Café menu"
    assert unicodedata.is_normalized("NFC", clean_text("e\u0301" * 5))


def test_newlines_trailing_space_and_blank_lines():
    assert clean_text("a  \r\nb\t\rc\u2028d") == "a\nb\nc\nd"
    assert clean_text("\n\n  \nfirst\n\n\n\n\nsecond\n \n \n") == "first\n\nsecond"
    assert clean_text("x\fy") == "x\n\ny"  # form feed = page break = paragraph break


def test_control_characters_removed_tabs_and_indent_kept():
    assert clean_text("a\x00b\x07c\x1b\u200bd\ufeff") == "abcd"
    assert clean_text("code:\n    indented\tcol") == "code:\n    indented\tcol"


def test_soft_hyphens_removed_and_joined():
    assert clean_text("infor\u00ad\nmation and co\u00adop") == "information and coop"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("the infor-\nmation is here", "the information\nis here"),
        ("end of infor-\nmation\nnext line", "end of information\nnext line"),
        ("a self-\ncontained unit", "a self-contained\nunit"),
        ("the Franco-\nGerman border", "the Franco-German\nborder"),
        ("state-of-the-art and state-of-the-\nart", "state-of-the-art and state-of-the-art"),
        ("long-\nterm plans; long-term", "long-term\nplans; long-term"),
        ("pre-\nvious and previous", "previous\nand previous"),
        ("model X-\n200 ships", "model X-\n200 ships"),  # digits: left alone
        ("- item one\n- item two", "- item one\n- item two"),
        ("a rule\n---\nbelow", "a rule\n---\nbelow"),
    ],
)
def test_dehyphenation(raw, cleaned):
    assert clean_text(raw) == cleaned


def test_dehyphenation_can_be_turned_off():
    assert clean_text("infor-\nmation", dehyphenate_breaks=False) == "infor-\nmation"
    assert dehyphenate("no breaks here") == "no breaks here"


def test_idempotent_on_random_text():
    rng = random.Random(3)
    alphabet = [*"abcXYZ é\u0301-\n\r\t  \u00a0\u00ad\x00\x0c.,#", "\n\n\n", "-\n", "\r\n"]
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        once = clean_text(text)
        assert clean_text(once) == once, repr(text)
        assert "\n\n\n" not in once and "\r" not in once and "\x00" not in once
        assert once == once.strip("\n") and not once.endswith((" ", "\t"))
