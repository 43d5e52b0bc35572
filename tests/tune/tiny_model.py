"""A tiny random Llama with the default generator's tokenizer and chat template, for
training tests whose point is the plumbing (processes, checkpoints, output format), not
what the model learns. Two layers, 32 wide: a training step takes milliseconds.

    path = build_tiny_causal_lm(tmp_path / "tiny-llama")
    project = Project.init(root, {"llm": {"model": str(path)}, ...})
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_causal_lm(out: Path, seed: int = 0) -> Path:
    """Save a 2-layer, 32-wide random ``LlamaForCausalLM`` and SmolLM2's tokenizer to ``out``."""
    import torch
    import transformers

    from tests.tune.conftest import default_model_or_skip

    tokenizer = transformers.AutoTokenizer.from_pretrained(default_model_or_skip())
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
