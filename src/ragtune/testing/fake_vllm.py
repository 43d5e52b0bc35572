"""A stand-in for vLLM's OpenAI server, for tests of ``ragtune engine vllm`` without vLLM.

It takes the server's command line (``-m vllm.entrypoints.openai.api_server --model DIR
--served-model-name NAME --port P --lora-modules a=PATH ...``), lists the model and the
LoRA modules at ``/v1/models`` (every served name, as vLLM lists them), answers chat completions with ``[model] <last user
message>``, and loads and unloads LoRA modules at run time as vLLM does. Environment
switches make it misbehave: ``FAKE_VLLM_EXIT`` (a message: print it and exit 1 during
start), ``FAKE_VLLM_DROP`` (a LoRA module it does not list), ``FAKE_VLLM_DELAY_S`` (a
slow start), ``FAKE_VLLM_IGNORE_TERM`` (SIGTERM is ignored, so stop must kill).

:func:`make_fake_venv` writes a folder whose ``bin/python`` runs this module, so the
engine starts it exactly as it starts the real server::

    venv = make_fake_venv(tmp_path / "venv")
    state = start("default", {}, tmp_path / ".ragtune", EngineOptions(venv=venv, port=0))
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def make_fake_venv(folder: Path) -> Path:
    """A folder laid out like a virtualenv whose ``bin/python`` is this fake server."""
    bin_dir = Path(folder) / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    python = bin_dir / "python"
    # The arguments pass through whole, so the process's command line names the vLLM
    # module as the real one does (the engine checks it before signalling a pid).
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ragtune.testing.fake_vllm "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return Path(folder)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fake_vllm")
    parser.add_argument("-m", dest="module")
    parser.add_argument("--model", required=True)
    parser.add_argument("--served-model-name", nargs="+")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--lora-modules", nargs="*", default=[])
    args, _ = parser.parse_known_args(argv)
    return args


class _State:
    def __init__(self, names: list[str], loras: dict[str, str]) -> None:
        self.names = names
        self.loras = loras
        self.runtime = os.environ.get("VLLM_ALLOW_RUNTIME_LORA_UPDATING", "").lower() in (
            "1",
            "true",
        )


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            sys.stdout.write(f"fake vllm: {format % args}\n")

        def _send(self, status: int, body: dict[str, Any] | str) -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path != "/v1/models":
                return self._send(404, {"error": {"message": "Not Found", "code": 404}})
            dropped = os.environ.get("FAKE_VLLM_DROP")
            names = [*state.names, *(n for n in state.loras if n != dropped)]
            self._send(200, {"object": "list", "data": [{"id": n} for n in names]})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/v1/chat/completions":
                return self._chat(body)
            if state.runtime and self.path == "/v1/load_lora_adapter":
                state.loras[body["lora_name"]] = body["lora_path"]
                return self._send(200, "Success")
            if state.runtime and self.path == "/v1/unload_lora_adapter":
                if state.loras.pop(body.get("lora_name"), None) is None:
                    return self._send(404, {"error": {"message": "lora cannot be found"}})
                return self._send(200, "Success")
            self._send(404, {"detail": "Not Found"})

        def _chat(self, body: dict[str, Any]) -> None:
            model = body.get("model")
            if model not in state.names and model not in state.loras:
                message = f"The model `{model}` does not exist."
                return self._send(404, {"error": {"message": message, "code": 404}})
            user = [m["content"] for m in body.get("messages", []) if m["role"] == "user"]
            words = f"[{model}] {user[-1] if user else ''}".split()
            max_tokens = int(body.get("max_tokens") or 16)
            text = " ".join(words[:max_tokens])
            finish = "length" if len(words) > max_tokens else "stop"
            usage = {
                "prompt_tokens": len(" ".join(user).split()),
                "completion_tokens": len(text.split()),
            }
            choice = {"index": 0, "message": {"role": "assistant", "content": text}}
            self._send(200, {"choices": [{**choice, "finish_reason": finish}], "usage": usage})

    return Handler


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    print(f"fake vllm: loading {args.model}", flush=True)
    failure = os.environ.get("FAKE_VLLM_EXIT")
    if failure:
        print(f"ValueError: {failure}", flush=True)
        sys.exit(1)
    time.sleep(float(os.environ.get("FAKE_VLLM_DELAY_S") or 0))
    if os.environ.get("FAKE_VLLM_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    loras = dict(item.split("=", 1) for item in args.lora_modules)
    names = list(args.served_model_name or [args.model])
    server = ThreadingHTTPServer((args.host, args.port), _handler(_State(names, loras)))
    print(f"fake vllm: serving {names[0]} on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
