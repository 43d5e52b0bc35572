"""ragtune's decoding attention gives what transformers' SDPA path gives."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers.integrations.sdpa_attention import sdpa_attention_forward  # noqa: E402

from ragtune.llm.attention import NAME, decode_attention, register  # noqa: E402


def _inputs(batch: int, queries: int, keys: int, heads: int = 9, kv_heads: int = 3) -> tuple:
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(batch, heads, queries, 64, generator=gen)
    k = torch.randn(batch, kv_heads, keys, 64, generator=gen)
    v = torch.randn(batch, kv_heads, keys, 64, generator=gen)
    module = SimpleNamespace(num_key_value_groups=heads // kv_heads, is_causal=True, training=False)
    return module, q, k, v


@pytest.mark.parametrize("padded", [False, True])
def test_one_query_token_matches_sdpa(padded: bool) -> None:
    module, q, k, v = _inputs(batch=4, queries=1, keys=37)
    mask = None
    if padded:  # rows 0 and 1 are left-padded by 5 and 11 positions
        mask = torch.ones(4, 1, 1, 37, dtype=torch.bool)
        mask[0, ..., :5] = False
        mask[1, ..., :11] = False
    ours, _ = decode_attention(module, q, k, v, mask, scaling=0.125)
    theirs, _ = sdpa_attention_forward(module, q, k, v, mask, scaling=0.125)
    assert ours.shape == theirs.shape == (4, 1, 9, 64)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-4)


def test_prompts_go_to_sdpa_unchanged() -> None:
    module, q, k, v = _inputs(batch=2, queries=6, keys=6)
    ours, _ = decode_attention(module, q, k, v, None, scaling=0.125)
    theirs, _ = sdpa_attention_forward(module, q, k, v, None, scaling=0.125)
    torch.testing.assert_close(ours, theirs)


def test_registered_with_transformers() -> None:
    from transformers import AttentionInterface

    assert register() == NAME
    assert AttentionInterface()[NAME] is decode_attention
