"""Tiny random models built locally, for tests where a real model must load but no
weights can be downloaded (no cross-encoder ships offline).

    path = build_tiny_cross_encoder(tmp_path / "ce")
    reranker = CrossEncoderReranker(model=str(path))
"""

from __future__ import annotations

from pathlib import Path

from ragtune._lazy import require


def build_tiny_cross_encoder(out: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random BERT sequence classifier with the default embedder's
    WordPiece tokenizer, saved as a folder sentence-transformers' CrossEncoder loads."""
    torch = require("torch", "rag")
    transformers = require("transformers", "rag")
    from ragtune.embed.sentence_transformers import default_model_path

    torch.manual_seed(seed)
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        str(default_model_path()), local_files_only=True
    )
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
    )
    model = transformers.BertForSequenceClassification(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
