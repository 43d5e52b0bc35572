"""Attention for decoding on CPU: one query token per row, each row over its own keys only.

A decoding step asks attention for one query token per row against the whole KV cache.
Transformers hands that to ``scaled_dot_product_attention`` over every row's keys at
once, left padding included (masked out), and with grouped-query attention (SmolLM2: 9
query heads share 3 key/value heads) SDPA's CPU kernel took ~3.7 ms per layer call at
batch 16, about 60% of the step. Here, instead:

- **Each row attends over exactly its own keys** (the cache from its first unmasked key
  on). A masked-out key adds an exact zero, but where the real keys sit among the
  padding changes how the kernels group the sums of the softmax and of
  ``probs @ value``, so a row's output moved in the last bits with the amount of padding,
  that is, with its neighbours in the batch. Per row, the operations and shapes are the
  ones the row has when it runs alone.
- **Two small matmuls per row over the key/value heads**, the query heads grouped beside
  them, in float32 (see the comment in :func:`decode_attention` for why).

Measured on 2 shared cores, 1 thread, 16 rows over a ~420-key cache, 30 layers: 64-69 ms
per step of attention against 39 for one grouped matmul over the padded cache (the
previous code, kept as the fallback below), under a load average of 3.5.

Prompts (more than one query token) go to transformers' SDPA path unchanged; ragtune
prefills each prompt on its own (:mod:`ragtune.llm.rowwise`), so they are never padded.
A mask that is not left padding (keys masked after an attended one) falls back to one
grouped matmul over the padded keys, which is correct but not batch invariant.

Registered with transformers' ``AttentionInterface`` under :data:`NAME`, with SDPA's mask
format, so any model that supports SDPA can load with ``attn_implementation=NAME``.
"""

from __future__ import annotations

from typing import Any

from ragtune._lazy import require

NAME = "ragtune_cpu"
_registered = False


def first_attended_keys(attention_mask: Any, batch: int, kv_length: int) -> list[int] | None:
    """Per row, the index of the first key it attends to, when each row attends to every
    key from there to the end (left padding); ``None`` for any other mask.

    ``attention_mask`` is in SDPA's format, ``[batch, 1, queries, keys]``, boolean
    (True = attend) or additive (0 = attend); ``None`` means every key is attended.
    """
    if attention_mask is None:
        return [0] * batch
    torch = require("torch", "rag")
    last_query = attention_mask[:, 0, -1, :kv_length]
    allowed = last_query if last_query.dtype == torch.bool else last_query == 0
    allowed = allowed.expand(batch, kv_length)
    masked_after_attended = allowed[:, :-1] & ~allowed[:, 1:]
    if bool(masked_after_attended.any()) or not bool(allowed[:, -1].all()):
        return None
    return [kv_length - int(n) for n in allowed.sum(dim=-1).tolist()]


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
    group = heads // kv_heads
    scale = scaling if scaling is not None else dim**-0.5
    starts = _starts_for_step(attention_mask, batch, kv_length)
    if starts is None:
        return _padded_decode_attention(query, key, value, attention_mask, scale), None
    # The query heads that share a key/value head sit side by side: [batch, kv, group, dim].
    # In float32: a bf16 matmul of a shape not seen before costs oneDNN a new kernel
    # (~1.1 ms against 0.15), and every row has its own length at every step; MKL's
    # fp32 GEMM has no such set-up, so converting each row's keys (~30 us) pays.
    grouped = query.reshape(batch, kv_heads, group, dim).float() * scale
    rows = []
    for row, start in enumerate(starts):
        keys = key[row : row + 1, :, start:kv_length].float()
        values = value[row : row + 1, :, start:kv_length].float()
        scores = torch.matmul(grouped[row : row + 1], keys.transpose(-1, -2))
        rows.append(torch.matmul(torch.softmax(scores, dim=-1), values))  # [1, kv, group, dim]
    out = (torch.cat(rows) if len(rows) > 1 else rows[0]).to(value.dtype)
    return out.reshape(batch, heads, 1, dim).transpose(1, 2).contiguous(), None


# Every layer of one forward pass gets the same mask object: read its rows' starts once.
_last_step: tuple[Any, int, int, list[int] | None] | None = None


def _starts_for_step(attention_mask: Any, batch: int, kv_length: int) -> list[int] | None:
    global _last_step
    last = _last_step
    if last is not None and last[0] is attention_mask and last[1:3] == (batch, kv_length):
        return last[3]
    starts = first_attended_keys(attention_mask, batch, kv_length)
    _last_step = (attention_mask, batch, kv_length, starts)
    return starts


def _padded_decode_attention(
    query: Any, key: Any, value: Any, attention_mask: Any, scale: float
) -> Any:
    """Every row over the whole (padded) cache at once: for masks that are not left
    padding (and how ragtune decoded before; the benchmark compares the two)."""
    torch = require("torch", "rag")
    batch, heads, _, dim = query.shape
    kv_heads, kv_length = key.shape[1], key.shape[2]
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim)
    scores = torch.matmul(grouped, key.transpose(-1, -2)) * scale
    if attention_mask is not None:  # SDPA's format: [batch, 1, queries, keys], True = attend
        mask = attention_mask[:, :, -1:, :kv_length]
        scores = (
            scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        )
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    out = torch.matmul(probs, value)  # [batch, kv_heads, group, dim]
    return out.reshape(batch, heads, 1, dim).transpose(1, 2).contiguous()


def register_attention(name: str, function: Any) -> str:
    """Make ``function`` known to transformers as ``name``, with SDPA's mask format;
    returns ``name`` for ``attn_implementation``. Registering again replaces it."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(name, function)
    AttentionMaskInterface.register(name, sdpa_mask)
    return name


def register() -> str:
    """Make :data:`NAME` known to transformers (once); returns it for ``attn_implementation``."""
    global _registered
    if not _registered:
        register_attention(NAME, decode_attention)
        _registered = True
    return NAME
