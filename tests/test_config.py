from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.config import load_config
from ragtune.errors import ConfigError


def test_precedence_file_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ragtune.toml").write_text(
        "[retrieve]\ntop_k = 7\nmode = 'bm25'\n[embed]\nbatch_size = 8\n"
    )
    monkeypatch.setenv("RAGTUNE_RETRIEVE__TOP_K", "9")
    config = load_config(tmp_path, {"embed": {"batch_size": 3}})
    assert config.retrieve.top_k == 9  # env beats file
    assert config.retrieve.mode == "bm25"  # file beats default
    assert config.embed.batch_size == 3  # override beats file


def test_unknown_key_in_file_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "ragtune.toml").write_text("[retrieve]\ntop_kk = 7\n")
    with pytest.raises(ConfigError, match=r"ragtune.toml: retrieve.top_kk: Extra inputs"):
        load_config(tmp_path)


def test_bad_value_names_key_and_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"retrieve.mode: .*'fuzzy'"):
        load_config(tmp_path, {"retrieve": {"mode": "fuzzy"}})
    with pytest.raises(ConfigError, match="chunk_overlap_tokens"):
        load_config(tmp_path, {"corpus": {"chunk_size_tokens": 32, "chunk_overlap_tokens": 40}})


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "ragtune.toml").write_text("[retrieve\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


def test_import_ragtune_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import ragtune, ragtune.config, ragtune.cli.main, ragtune.llm, ragtune.index, sys; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
