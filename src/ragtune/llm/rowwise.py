"""Batched generation whose every row computes exactly what it computes alone.

A greedy answer must not depend on which other questions shared its batch. On CPU three
things made it depend on them, each measured on SmolLM2-135M (benchmarks/batch_invariance.py):

1. **Left padding in the prompt pass.** A prompt padded to its batch's longest prompt
   goes through masked attention whose sums group the real keys differently with the
   amount of padding: last-token logits moved by up to 0.4 in bf16 (5e-5 in fp32).
   Here each prompt is prefilled on its own, unpadded, and the per-row key/value caches
   are then laid side by side, left-padded, for decoding together.
2. **Left padding in the decoding steps**: the same, fixed in :mod:`ragtune.llm.attention`
   by attending each row over its own keys only.
3. **One row is another kernel.** A decoding step multiplies a ``[rows, hidden]`` matrix
   by each weight. With one row, torch's CPU GEMMs take a matrix-vector path whose sums
   round differently from the path every larger batch takes (oneDNN bf16: rows >= 2 all
   agree to the bit); so a lone prompt is decoded beside a filler row (pad tokens that
   attend only to themselves and are marked finished), for about 2% more time per step.

The prompt's last token is left out of the prefill: it goes through the first batched
decoding step, so every row's first generated token also comes from a 1-token step.

    cache = prefill_rows(model, input_ids, attention_mask)
    model.generate(input_ids=input_ids, attention_mask=attention_mask, cache=cache, ...)
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from ragtune._lazy import require

# Decoding steps run with at least this many rows (see 3. above).
MIN_DECODE_ROWS = 2


def cache_argument(base_model: Any) -> str:
    """The keyword a model's ``forward`` takes (and returns) its KV cache under: ``cache``
    in transformers >= 5, ``past_key_values`` before. Ask the base model: a PEFT wrapper's
    ``forward`` takes ``**kwargs``."""
    parameters = inspect.signature(base_model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def fill_rows(input_ids: Any, attention_mask: Any, pad_token_id: int) -> tuple[Any, Any, int]:
    """Add filler rows up to :data:`MIN_DECODE_ROWS`; returns ``(ids, mask, fillers)``.

    A filler row is all padding but its last token, so it attends only to itself and
    costs almost nothing in attention; the caller marks it finished from the start.
    """
    torch = require("torch", "rag")
    fillers = max(0, MIN_DECODE_ROWS - input_ids.shape[0])
    if not fillers:
        return input_ids, attention_mask, 0
    width = input_ids.shape[1]
    ids = torch.full((fillers, width), pad_token_id, dtype=input_ids.dtype, device=input_ids.device)
    mask = torch.zeros((fillers, width), dtype=attention_mask.dtype, device=attention_mask.device)
    mask[:, -1] = 1
    return torch.cat([input_ids, ids]), torch.cat([attention_mask, mask]), fillers


def prefill_rows(
    model: Any, input_ids: Any, attention_mask: Any, cache_kw: str = "cache"
) -> Any | None:
    """A left-padded KV cache of every row's prompt but its last token, each row
    computed on its own (batch of one, no padding); ``None`` if no row has such a prefix.

    ``input_ids`` and ``attention_mask`` are ``[rows, width]``, left-padded. Rows with the
    same tokens (repeated questions) are computed once. ``cache_kw`` is what
    :func:`cache_argument` says.
    """
    torch = require("torch", "rag")
    transformers = require("transformers", "rag")
    rows, width = input_ids.shape
    if width < 2:
        return None
    starts = (width - attention_mask.sum(dim=1)).tolist()
    layers: list[tuple[Any, Any]] = []
    computed: dict[tuple[int, ...], list[tuple[Any, Any]]] = {}
    for row, start in enumerate(starts):
        tokens = input_ids[row, int(start) : width - 1]
        if tokens.numel() == 0:
            continue
        signature = tuple(tokens.tolist())
        if signature not in computed:
            # Only the cache is wanted; logits_to_keep=1 spares the LM head on every position.
            out = model(input_ids=tokens[None], use_cache=True, logits_to_keep=1)
            computed[signature] = [(k, v) for k, v, *_ in getattr(out, cache_kw)]
        for index, (k, v) in enumerate(computed[signature]):
            if len(layers) <= index:
                shape = (rows, k.shape[1], width - 1, k.shape[3])
                layers.append(
                    (
                        torch.zeros(shape, dtype=k.dtype, device=k.device),
                        torch.zeros(shape, dtype=v.dtype, device=v.device),
                    )
                )
            layers[index][0][row, :, int(start) :] = k[0]
            layers[index][1][row, :, int(start) :] = v[0]
    if not layers:
        return None
    cache = transformers.DynamicCache()
    for index, (k, v) in enumerate(layers):
        cache.update(k, v, index)
    return cache


def matmul_rows_agree(model: Any, max_rows: int = 16) -> bool:
    """Whether this machine's GEMMs give a row the same bits at every row count from 2 to
    ``max_rows``, checked once for each weight shape of the model's linear layers with a
    seeded random input (deterministic, not timed; tens of milliseconds).

    True for oneDNN's bf16 kernels on AVX512-BF16. MKL's fp32 ``sgemm`` picks kernels by
    row count and thread count (logits ~5e-5 apart between 16 rows and 3) unless its
    strict reproducibility mode is on: ``MKL_CBWR=AUTO,STRICT`` in the environment before
    the process's first matrix multiply.
    """
    torch = require("torch", "rag")
    weights: dict[tuple[int, int], Any] = {}
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            weights.setdefault(tuple(module.weight.shape), module.weight)
    if not weights:
        return False
    counts = sorted({MIN_DECODE_ROWS, MIN_DECODE_ROWS + 1, 8, max(max_rows, MIN_DECODE_ROWS)})
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for weight in weights.values():
            x = torch.randn(counts[-1], weight.shape[1], generator=generator).to(weight)
            outs = [torch.nn.functional.linear(x[:n], weight)[:MIN_DECODE_ROWS] for n in counts]
            if not all(torch.equal(outs[0], out) for out in outs[1:]):
                return False
    return True


def supports_rowwise(model: Any) -> bool:
    """Whether ``model``'s caches can be laid side by side: every layer keeps all its
    keys (no sliding window, no recurrent state)."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "is_encoder_decoder", False):
        return False
    layer_types = getattr(config, "layer_types", None)
    if layer_types is not None:
        return all(kind == "full_attention" for kind in layer_types)
    return getattr(config, "sliding_window", None) is None


class FillerRowsFinished:
    """A stopping criterion that marks the last ``fillers`` rows finished at once, so
    generation ends when the real rows do."""

    def __init__(self, rows: int, fillers: int) -> None:
        self.rows = rows
        self.fillers = fillers

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        torch = require("torch", "rag")
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        done[self.rows - self.fillers :] = True
        return done


class StopWhenSet:
    """A stopping criterion that ends every row once ``event`` is set: a stream whose
    reader left stops at the next token instead of decoding to ``max_new_tokens``."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        torch = require("torch", "rag")
        stopped = self.event.is_set()
        return torch.full((input_ids.shape[0],), stopped, dtype=torch.bool, device=input_ids.device)


class FirstRowStreamer:
    """Hands a one-row streamer only the first row of a batch padded with filler rows."""

    def __init__(self, streamer: Any) -> None:
        self.streamer = streamer

    def put(self, value: Any) -> None:
        self.streamer.put(value[:1])

    def end(self) -> None:
        self.streamer.end()
