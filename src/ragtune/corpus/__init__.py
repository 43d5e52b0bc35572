"""Documents in, chunks out: loading, cleaning and chunking.

from ragtune.corpus import RecursiveChunker, iter_load

chunker = RecursiveChunker(chunk_size_tokens=256, chunk_overlap_tokens=32)
for result in iter_load([Path("docs/")], include=["*.md", "*.pdf"], max_file_mb=50):
    for error in result.errors:
        print("skipped:", error)          # path and reason; never raised
    for doc in result.documents:
        chunks = chunker.split(doc)       # chunk.text == doc.text[start:end]
"""

from __future__ import annotations

from ragtune.corpus.chunking import Chunker, RecursiveChunker, make_token_counter
from ragtune.corpus.clean import clean_text
from ragtune.corpus.loaders import LoadBudget, LoadResult, iter_load, load_file

__all__ = [
    "Chunker",
    "LoadBudget",
    "LoadResult",
    "RecursiveChunker",
    "clean_text",
    "iter_load",
    "load_file",
    "make_token_counter",
]
