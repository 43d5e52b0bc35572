from __future__ import annotations

import subprocess
import sys

import pytest

from ragtune.config import LLMConfig
from ragtune.errors import ConfigError
from ragtune.llm import ChatMessage, GenerationParams, create_generator
from ragtune.llm.base import Retryable, RetryPolicy, cut_at_stop, stream_until_stop
from ragtune.testing.scripted_generator import ScriptedGenerator


def test_import_does_not_load_torch() -> None:
    code = (
        "import sys, ragtune.llm, ragtune.llm.openai, ragtune.llm.gguf, "
        "ragtune.testing.scripted_generator; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cut_at_stop_uses_the_earliest_stop() -> None:
    assert cut_at_stop("a. b\nQ: c", ["\nQ:", "."]) == ("a", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)


def test_stream_until_stop_catches_a_stop_split_across_pieces() -> None:
    assert (
        "".join(stream_until_stop(["Par", "is.\nQue", "stion: more"], ["\nQuestion:"])) == "Paris."
    )
    assert list(stream_until_stop(["a", "b"], [])) == ["a", "b"]
    assert "".join(stream_until_stop(["ab", "cd"], ["zz"])) == "abcd"


def test_params_validate_and_accept_a_lone_stop_string() -> None:
    assert GenerationParams(stop="\n").stop == ("\n",)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_new_tokens"):
        GenerationParams(max_new_tokens=0)
    with pytest.raises(ConfigError, match="top_p"):
        GenerationParams(top_p=0)


def test_retry_policy_retries_then_raises_the_final_error() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_retries=2, backoff_s=1.0, sleep=slept.append)
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Retryable(RuntimeError("busy"), retry_after=0.25 if len(calls) == 2 else None)
        return "ok"

    assert policy.run(flaky) == "ok"
    assert slept[0] <= 1.0 and slept[1] == 0.25

    def always() -> str:
        raise Retryable(ValueError("down"))

    with pytest.raises(ValueError, match="down"):
        RetryPolicy(max_retries=1, backoff_s=0, sleep=slept.append).run(always)


def test_create_generator_passes_matching_config_fields() -> None:
    llm = create_generator(
        LLMConfig(backend="scripted", max_new_tokens=3, batch_size=2), adapters={"ft": "x"}
    )
    assert isinstance(llm, ScriptedGenerator)
    assert (
        llm.default_params.max_new_tokens == 3
        and llm.batch_size == 2
        and llm.adapters == {"ft": "x"}
    )
    assert llm.plan_batches([[ChatMessage("user", "q")]] * 5) == [[0, 1], [2, 3], [4]]


def test_create_generator_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="unknown generator backend 'nope'"):
        create_generator(LLMConfig(backend="nope"))
    with pytest.raises(ConfigError, match="base_url"):
        create_generator(LLMConfig(backend="openai"))
