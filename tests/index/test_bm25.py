from __future__ import annotations

from ragtune.index.bm25 import BM25Index, tokenize


def test_tokenize_keeps_codes_and_numbers_drops_stopwords() -> None:
    assert tokenize("What is the price of the X-200 at $1,249.00?") == [
        "price",
        "x-200",
        "1,249.00",
    ]


def test_rarer_terms_weigh_more() -> None:
    index = BM25Index()
    index.add([1, 2, 3], ["router red", "router blue", "router green quokka"])
    hits = index.search("router quokka", k=3)
    assert hits[0][0] == 3
    assert len(hits) == 3


def test_remove_and_readd() -> None:
    index = BM25Index()
    index.add([1, 2], ["alpha beta", "beta gamma"])
    index.remove([1])
    assert [i for i, _ in index.search("alpha beta", k=5)] == [2]
    index.add([1], ["delta"])
    assert index.search("delta", k=5)[0][0] == 1
    assert index.ids() == {1, 2}


def test_allowed_restricts() -> None:
    index = BM25Index()
    index.add([1, 2], ["alpha", "alpha alpha"])
    assert [i for i, _ in index.search("alpha", k=5, allowed={1})] == [1]


def test_compaction_keeps_results() -> None:
    index = BM25Index()
    index.add(list(range(3000)), [f"word{i % 7} common" for i in range(3000)])
    index.remove(range(0, 2500))
    assert len(index) == 500
    assert all(i >= 2500 for i, _ in index.search("word3", k=100))
