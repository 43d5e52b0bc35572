"""Tiny random models built locally, for tests where a real model must load but no
weights can be downloaded (no cross-encoder ships offline), or where the point is the
plumbing (processes, checkpoints, output format), not what the model learns.

    path = build_tiny_cross_encoder(tmp_path / "ce")
    reranker = CrossEncoderReranker(model=str(path))
    path = build_tiny_causal_lm(tmp_path / "tiny-llama")   # trains in milliseconds a step
    project = Project.init(root, {"llm": {"model": str(path)}, ...})
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


def build_tiny_causal_lm(out: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random ``LlamaForCausalLM`` with the default generator's
    tokenizer and chat template, saved as a folder ``ragtune tune`` trains."""
    torch = require("torch", "rag")
    transformers = require("transformers", "rag")
    from ragtune.llm.gguf import resolve_default_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(resolve_default_model()))
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = transformers.LlamaForCausalLM(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
