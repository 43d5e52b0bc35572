"""The dtype comes from the CPU's feature flags, never from how fast it is right now."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.errors import ConfigError
from ragtune.llm import dtype as dtype_module
from ragtune.llm.dtype import DtypeChoice, choose_dtype, cpu_bf16_reason, cpu_flags

SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"})
COOPER_LAKE = frozenset({"avx2", "avx512f", "avx512_bf16"})
ZEN3 = frozenset({"avx2", "fma", "sse4_2"})


def _with_flags(monkeypatch: pytest.MonkeyPatch, flags: frozenset[str] | None) -> None:
    monkeypatch.setattr(dtype_module, "cpu_flags", lambda cpuinfo=None: flags)


@pytest.mark.parametrize(
    ("flags", "expected", "feature"),
    [
        (SAPPHIRE_RAPIDS, "bfloat16", "AMX-BF16 (amx_bf16)"),
        (COOPER_LAKE, "bfloat16", "AVX512-BF16 (avx512_bf16)"),
        (ZEN3, "float32", "neither AMX-BF16 nor AVX512-BF16"),
    ],
)
def test_auto_on_cpu_follows_the_flags(
    monkeypatch: pytest.MonkeyPatch, flags: frozenset[str], expected: str, feature: str
) -> None:
    _with_flags(monkeypatch, flags)
    choice = choose_dtype("auto", "cpu")
    assert choice.dtype == expected
    assert choice.reason.startswith("auto: ") and feature in choice.reason


def test_the_choice_does_not_time_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    def no_clock() -> float:
        raise AssertionError("the dtype choice read a clock")

    monkeypatch.setattr(time, "perf_counter", no_clock)
    monkeypatch.setattr(time, "time", no_clock)
    _with_flags(monkeypatch, COOPER_LAKE)
    assert [choose_dtype("auto", "cpu").dtype for _ in range(3)] == ["bfloat16"] * 3


def test_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx2 avx512_bf16\n\n"
        "processor\t: 1\nflags\t\t: fpu avx2 avx512_bf16 amx_bf16\n"
    )
    assert cpu_flags(cpuinfo) == frozenset({"fpu", "avx2", "avx512_bf16", "amx_bf16"})
    assert cpu_flags(tmp_path / "missing") is None
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd bf16\n")
    assert cpu_flags(arm) is None  # no x86 flags: torch's own probes decide


def test_without_cpuinfo_torch_probes_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_flags(monkeypatch, None)
    answers = {"_is_amx_tile_supported": False, "_is_avx512_bf16_supported": True}
    monkeypatch.setattr(dtype_module, "_torch_cpu_probe", lambda name: lambda: answers[name])
    assert cpu_bf16_reason() == "the CPU has AVX512-BF16 (torch.cpu._is_avx512_bf16_supported)"
    answers["_is_avx512_bf16_supported"] = False
    assert cpu_bf16_reason() is None
    assert choose_dtype("auto", "cpu").dtype == "float32"
    monkeypatch.setattr(dtype_module, "_torch_cpu_probe", lambda name: None)
    assert cpu_bf16_reason() is None


def test_a_configured_dtype_wins_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_flags(monkeypatch, ZEN3)
    assert choose_dtype("bfloat16", "cpu") == DtypeChoice(
        "bfloat16", 'configured: llm.dtype = "bfloat16"'
    )
    with pytest.raises(ConfigError, match=r"llm\.dtype must be one of auto, bfloat16"):
        choose_dtype("int3", "cpu")


def test_torch_dtype_names() -> None:
    torch = pytest.importorskip("torch")
    from ragtune.llm.transformers import pick_dtype

    assert DtypeChoice("bfloat16", "x").torch_dtype() is torch.bfloat16
    assert pick_dtype("float32", "cpu") is torch.float32
    with pytest.raises(ConfigError, match=r"llm\.dtype"):
        pick_dtype("int3", "cpu")
