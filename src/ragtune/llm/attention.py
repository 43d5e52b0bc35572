"""Attention for decoding on CPU: one query token, grouped key/value heads, no copies.

A decoding step asks attention for one query token per row against the whole KV cache.
With grouped-query attention (SmolLM2: 9 query heads share 3 key/value heads) and no
padding mask, transformers hands that to ``scaled_dot_product_attention(enable_gqa=True)``,
whose CPU kernel took ~3.7 ms per layer call at batch 16, about 60% of the step. Two
small matmuls over the key/value heads, the query heads grouped beside them, do the same
work: on 2 cores, a 16-row step over a 413-token cache took 76 ms instead of 173 (75
instead of 82 with padding), a 1-row step 38 ms instead of 48. Prompts (more than one
query token) still go to transformers' SDPA path unchanged.

Registered with transformers' ``AttentionInterface`` under :data:`NAME`, with SDPA's mask
format, so any model that supports SDPA can load with ``attn_implementation=NAME``.
"""

from __future__ import annotations

from typing import Any

from ragtune._lazy import require

NAME = "ragtune_cpu"
_registered = False


def decode_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """``(output [batch, 1, heads, dim], None)`` for one query token; SDPA for more."""
    torch = require("torch", "rag")
    if query.shape[2] != 1 or dropout:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    batch, heads, _, dim = query.shape
    kv_heads, kv_length = key.shape[1], key.shape[2]
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim)
    scores = torch.matmul(grouped, key.transpose(-1, -2))
    scores = scores * (scaling if scaling is not None else dim**-0.5)
    if attention_mask is not None:  # SDPA's format: [batch, 1, queries, keys], True = attend
        mask = attention_mask[:, :, -1:, :kv_length]
        scores = (
            scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        )
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    out = torch.matmul(probs, value)  # [batch, kv_heads, group, dim]
    return out.reshape(batch, heads, 1, dim).transpose(1, 2).contiguous(), None


def register() -> str:
    """Make :data:`NAME` known to transformers (once); returns it for ``attn_implementation``."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

        AttentionInterface.register(NAME, decode_attention)
        AttentionMaskInterface.register(NAME, sdpa_mask)
        _registered = True
    return NAME
