"""Packed training rows: per-example attention and the loss over completion logits only
give what transformers' own path gives (in float32, to rounding)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from ragtune.tune import packed_attention  # noqa: E402
from ragtune.tune.packed_attention import example_bounds  # noqa: E402
from ragtune.tune.sft import completion_cross_entropy, completion_positions  # noqa: E402

SEGMENTS = [9, 5, 6]


def _positions(segments: list[int]) -> torch.Tensor:
    return torch.cat([torch.arange(n) for n in segments]).unsqueeze(0)


def test_example_bounds_reads_where_positions_restart() -> None:
    assert example_bounds(_positions(SEGMENTS), 20) == [(0, 9), (9, 14), (14, 20)]
    assert example_bounds(torch.arange(7).unsqueeze(0), 7) == [(0, 7)]
    # Not packed rows: a gap in the count, a start past 0, two rows, no positions.
    assert example_bounds(torch.tensor([[0, 1, 3, 4]]), 4) is None
    assert example_bounds(torch.tensor([[2, 3, 4]]), 3) is None
    assert example_bounds(torch.arange(4).repeat(2, 1), 4) is None
    assert example_bounds(None, 4) is None


def _tiny_llama(attn: str) -> transformers.PreTrainedModel:
    config = transformers.LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        attn_implementation=attn,
    )
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(config)


def _packed_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(0, 64, (1, sum(SEGMENTS)))
    labels = torch.full_like(ids, -100)
    start = 0
    for n in SEGMENTS:  # each example's last 3 tokens are its completion
        labels[0, start + n - 3 : start + n] = ids[0, start + n - 3 : start + n]
        start += n
    return ids, labels, _positions(SEGMENTS)


def _gradients(model: transformers.PreTrainedModel) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def test_packed_training_step_matches_transformers_masked_sdpa_and_its_loss() -> None:
    ids, labels, positions = _packed_batch()
    items = torch.tensor(int((labels != -100).sum()))

    reference = _tiny_llama("sdpa")
    expected = reference(
        input_ids=ids,
        position_ids=positions,
        labels=labels,
        num_items_in_batch=items,
        use_cache=False,
    )
    expected.loss.backward()

    ours = _tiny_llama(packed_attention.register())
    keep = completion_positions(labels)
    assert keep.tolist() == [5, 6, 7, 10, 11, 12, 16, 17, 18]  # each label's previous token
    out = ours(input_ids=ids, position_ids=positions, logits_to_keep=keep)
    assert out.logits.shape[:2] == (1, len(keep))
    loss = completion_cross_entropy(out, labels, num_items_in_batch=items)
    loss.backward()

    assert loss.item() == pytest.approx(expected.loss.item(), rel=1e-5)
    assert torch.allclose(_gradients(ours), _gradients(reference), rtol=1e-4, atol=1e-6)


def test_packed_attention_keeps_examples_apart() -> None:
    """Changing one packed example's tokens changes no other example's logits."""
    ids, _, positions = _packed_batch()
    model = _tiny_llama(packed_attention.register()).eval()
    edited = ids.clone()
    edited[0, 10:13] = (edited[0, 10:13] + 1) % 64  # inside the second example
    with torch.no_grad():
        before, after = (
            model(input_ids=ids, position_ids=positions).logits,
            model(input_ids=edited, position_ids=positions).logits,
        )
    assert torch.equal(before[0, :9], after[0, :9])
    assert torch.equal(before[0, 14:], after[0, 14:])
    assert not torch.equal(before[0, 9:14], after[0, 9:14])


def test_the_loss_without_a_batch_count_is_the_mean_over_labels() -> None:
    ids, labels, positions = _packed_batch()
    model = _tiny_llama("sdpa")
    with torch.no_grad():
        expected = model(input_ids=ids, position_ids=positions, labels=labels, use_cache=False).loss
        out = model(
            input_ids=ids,
            position_ids=positions,
            logits_to_keep=completion_positions(labels),
            use_cache=False,
        )
        assert completion_cross_entropy(out, labels).item() == pytest.approx(
            expected.item(), rel=1e-5
        )
