"""Embedders: text to unit-length float32 vectors.

from ragtune.embed import create_embedder
embedder = create_embedder(config.embed)      # default: all-MiniLM-L6-v2, offline
vectors = embedder.embed(["warranty period of the X200"])   # shape (1, 384)
"""

from __future__ import annotations

from ragtune.embed.base import Embedder, create_embedder

__all__ = ["Embedder", "create_embedder"]
