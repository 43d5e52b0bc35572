"""The contract every embedder passes, as a pytest base class (like haystack's
``DocumentStoreBaseTests``): subclass it and give it an ``embedder`` fixture::

    import pytest
    from ragtune.registry import embedders
    from ragtune.testing.embedder_contract import EmbedderContract

    class TestMyEmbedderContract(EmbedderContract):
        @pytest.fixture
        def embedder(self):
            return embedders.create("my-embedder", model="...")

What it checks: one float32 row of ``dim`` per text, in input order; unit-length rows
(where ``normalized`` is promised, the ``Embedder`` default); the same vectors on every
call; a text's vector not depending on which texts share its batch, nor on
``batch_size``; an empty list giving a ``(0, dim)`` array.

Importing this module imports pytest (``import ragtune`` never does).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from ragtune.embed.base import Embedder

__all__ = ["TEXTS", "EmbedderContract"]

#: Texts of different lengths and vocabularies, so padding and batching would show.
TEXTS = [
    "The server listens on port 5432.",
    "A checkpoint is forced every 5 minutes by default, or sooner when the write-ahead log "
    "reaches max_wal_size; lowering either setting makes crash recovery faster.",
    "The project was started in 1998 at Berkeley.",
    "vacuum",
    "Où est stocké le journal ? Dans pg_wal, près des données.",
]


class EmbedderContract:
    """Shared behaviour of embedders; the subclass provides an ``embedder`` fixture.

    Class attributes a subclass may change: ``normalized`` (``False`` for a backend that
    does not promise unit-length rows) and ``atol`` (how far float32 arithmetic in another
    batch may move a vector component; models that pad batches need about ``1e-5``).
    """

    normalized: ClassVar[bool] = True
    atol: ClassVar[float] = 1e-5

    def test_one_float32_row_of_dim_per_text(self, embedder: Embedder) -> None:
        vectors = embedder.embed(TEXTS)
        assert isinstance(vectors, np.ndarray)
        assert vectors.shape == (len(TEXTS), embedder.dim) and embedder.dim > 0
        assert vectors.dtype == np.float32
        assert np.isfinite(vectors).all()
        query = embedder.embed_query(TEXTS[0])
        assert query.shape == (embedder.dim,) and query.dtype == np.float32

    def test_rows_are_unit_length(self, embedder: Embedder) -> None:
        if not self.normalized:
            pytest.skip("this embedder does not promise unit-length rows")
        norms = np.linalg.norm(embedder.embed(TEXTS), axis=1)
        np.testing.assert_allclose(norms, 1.0, atol=1e-5)

    def test_same_texts_same_vectors(self, embedder: Embedder) -> None:
        first = embedder.embed(TEXTS)
        second = embedder.embed(TEXTS)
        np.testing.assert_allclose(first, second, atol=self.atol)
        assert embedder.fingerprint and embedder.fingerprint == embedder.fingerprint

    def test_vectors_do_not_depend_on_batch_order_or_company(self, embedder: Embedder) -> None:
        together = embedder.embed(TEXTS)
        reversed_rows = embedder.embed(TEXTS[::-1])[::-1]
        np.testing.assert_allclose(reversed_rows, together, atol=self.atol)
        alone = np.stack([embedder.embed([text])[0] for text in TEXTS])
        np.testing.assert_allclose(alone, together, atol=self.atol)
        np.testing.assert_allclose(embedder.embed_query(TEXTS[1]), together[1], atol=self.atol)

    def test_batch_size_does_not_change_vectors(self, embedder: Embedder) -> None:
        together = embedder.embed(TEXTS)
        before = embedder.batch_size
        seen: list[int] = []
        try:
            embedder.batch_size = 2
            small_batches = embedder.embed(TEXTS, on_progress=seen.append)
        finally:
            embedder.batch_size = before
        # Progress is reported per batch, however the backend slices them.
        assert sum(seen) == len(TEXTS) and all(n > 0 for n in seen)
        np.testing.assert_allclose(small_batches, together, atol=self.atol)

    def test_empty_list_gives_an_empty_array(self, embedder: Embedder) -> None:
        empty = embedder.embed([])
        assert empty.shape == (0, embedder.dim) and empty.dtype == np.float32
