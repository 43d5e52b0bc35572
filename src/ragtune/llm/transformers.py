"""The local backend: a Hugging Face causal LM, optionally with switchable LoRA adapters.

The model is an HF hub id, a local HF folder, a ``.gguf`` file (dequantized once into a
cached folder, see :mod:`ragtune.llm.gguf`), or ``"default"`` (SmolLM2-135M-Instruct)::

    from ragtune.llm import ChatMessage, GenerationParams
    from ragtune.llm.transformers import TransformersGenerator

    llm = TransformersGenerator("default", adapters={"ft": ".ragtune/adapters/ft"})
    convs = [[ChatMessage("user", q)] for q in ("Who wrote Hamlet?", "2+2?")]
    base = llm.generate(convs, GenerationParams(max_new_tokens=16))
    tuned = llm.generate(convs, GenerationParams(max_new_tokens=16), adapter="ft")

Speed on CPU comes from batching: prompts are sorted by token length and cut into
batches, decoded together with a KV cache under ``torch.inference_mode``, in bfloat16
when the CPU has bf16 matrix instructions (:mod:`ragtune.llm.dtype`). A greedy answer
does not depend on its batch: on CPU each prompt is prefilled on its own and every row
of a decoding step attends only to its own keys (:mod:`ragtune.llm.rowwise`), so
``llm.generate([a, b, c])[0]`` is ``llm.generate([a])[0]`` to the token.
``llm.compute_settings()`` says what was chosen (dtype and why, threads).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragtune._compat import quiet_upstream_deprecations
from ragtune._lazy import require
from ragtune.errors import BackendUnavailableError, ConfigError
from ragtune.llm import attention, rowwise
from ragtune.llm.base import (
    ChatMessage,
    Conversation,
    Generation,
    GenerationParams,
    Generator,
    as_conversation,
    stream_until_stop,
)
from ragtune.llm.dtype import choose_dtype, cpu_has_fast_bf16
from ragtune.llm.gguf import resolve_model_path
from ragtune.machine import cpu_threads


def cpu_bf16_is_fast() -> bool:
    """Whether this CPU has bf16 matrix instructions (AMX-BF16 or AVX512-BF16), read from
    its feature flags (not timed); kept for callers of the old name, see
    :func:`ragtune.llm.dtype.cpu_has_fast_bf16`."""
    return cpu_has_fast_bf16()


def pick_dtype(dtype: str, device: str) -> Any:
    """The torch dtype for ``dtype`` ("auto" | "bfloat16" | "float32" | "float16");
    :func:`ragtune.llm.dtype.choose_dtype` says why."""
    return choose_dtype(dtype, device).torch_dtype()


@dataclass(frozen=True)
class ComputeSettings:
    """What a generator computes with, chosen at run time; a run file records it.

    ``rowwise`` says whether prompts are prefilled one by one and decoded with each row
    over its own keys (CPU, a model whose layers all keep every key); ``batch_invariant``
    whether, on top of that, this machine's GEMMs give a row the same bits at any row
    count, so a greedy answer is the same whatever shares its batch
    (see :mod:`ragtune.llm.rowwise`).
    """

    device: str
    dtype: str
    dtype_reason: str
    threads: int
    rowwise: bool
    batch_invariant: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TransformersGenerator(Generator):
    """Generate with a local transformers model; see the module docstring.

    ``max_batch_tokens`` caps batch size x longest prompt, so long prompts get smaller
    batches instead of exhausting memory. ``num_threads`` sets torch's CPU threads
    (default: ``OMP_NUM_THREADS`` if set, else every core). ``adapters`` maps names to PEFT adapter
    folders, all loaded onto the one base model; pick one per call with ``adapter=``.
    """

    def __init__(
        self,
        model: str = "default",
        dtype: str = "auto",
        batch_size: int = 16,
        adapters: dict[str, str] | None = None,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        context_tokens: int | None = None,
        device: str | None = None,
        max_batch_tokens: int = 16384,
        num_threads: int | None = None,
    ) -> None:
        super().__init__(
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            batch_size=batch_size,
            context_tokens=context_tokens,
        )
        torch = require("torch", "rag")
        transformers = require("transformers", "rag")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cpu":
            # Intra-op threads are the whole speed budget on CPU (machine.cpu_threads:
            # RAGTUNE_THREADS, OMP_NUM_THREADS or every core; benchmarks/threads.py).
            torch.set_num_threads(num_threads or cpu_threads())
        self.dtype_choice = choose_dtype(dtype, self.device)
        self.dtype: Any = self.dtype_choice.torch_dtype()
        self.max_batch_tokens = max_batch_tokens
        self.path = resolve_model_path(model)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(self.path)
            loaded = self._load_model(transformers)
        except OSError as exc:
            raise BackendUnavailableError(
                f"cannot load model {model!r} ({self.path}): {exc}. Use 'default', a local "
                "HF folder, a .gguf file, or an HF id already in the local cache."
            ) from exc
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens follow the prompt
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.base_model = loaded.to(self.device).eval()
        self.model: Any = self.base_model  # becomes a PeftModel once an adapter loads
        self.adapters: dict[str, str] = {}
        self.name = "SmolLM2-135M-Instruct" if model in ("", "default") else model
        config = self.base_model.config
        self.context_window = int(getattr(config, "max_position_embeddings", 0) or 2048)
        eos = self.base_model.generation_config.eos_token_id
        eos_ids = eos if isinstance(eos, list) else [eos]
        self._end_ids = {
            i
            for i in [*eos_ids, self.tokenizer.eos_token_id, self.tokenizer.pad_token_id]
            if i is not None
        }
        self._lock = threading.RLock()
        self._cache_kw = rowwise.cache_argument(self.base_model)
        # Row-wise generation wherever it applies; whether it is also bit-for-bit batch
        # invariant depends on this machine's GEMM kernels, checked once.
        self.rowwise = (
            self.device == "cpu"
            and getattr(config, "_attn_implementation", None) == attention.NAME
            and rowwise.supports_rowwise(self.base_model)
        )
        self.batch_invariant = self.rowwise and rowwise.matmul_rows_agree(
            self.base_model, max_rows=batch_size
        )
        for name, path in (adapters or {}).items():
            self.load_adapter(name, path)

    def _load_model(self, transformers: Any) -> Any:
        """The model in ``self.dtype``; on CPU with ragtune's decoding attention
        (:mod:`ragtune.llm.attention`) where the architecture supports SDPA."""
        load = transformers.AutoModelForCausalLM.from_pretrained
        if self.device == "cpu":
            try:
                return load(self.path, dtype=self.dtype, attn_implementation=attention.register())
            except (ValueError, ImportError):  # an architecture without SDPA support
                pass
        return load(self.path, dtype=self.dtype)

    # -- adapters -------------------------------------------------------------------
    def load_adapter(self, name: str, path: str | Path) -> None:
        """Load a PEFT (LoRA) adapter under ``name``; the base model is not reloaded.

        >>> llm.load_adapter("ft", ".ragtune/adapters/ft")
        >>> llm.generate(convs, adapter="ft")
        """
        peft = require("peft", "train")
        with self._lock:
            if name in self.adapters:
                raise ConfigError(
                    f"adapter {name!r} is already loaded (from {self.adapters[name]})"
                )
            if not (Path(path) / "adapter_config.json").exists():
                raise ConfigError(f"adapter {name!r}: no adapter_config.json in {path}")
            with quiet_upstream_deprecations():
                if isinstance(self.model, peft.PeftModel):
                    self.model.load_adapter(str(path), adapter_name=name)
                else:
                    self.model = peft.PeftModel.from_pretrained(
                        self.base_model, str(path), adapter_name=name
                    )
            self.model.eval()
            self.adapters[name] = str(path)

    @contextlib.contextmanager
    def _adapter(self, adapter: str | None) -> Iterator[None]:
        if adapter is None:
            if self.adapters:
                with self.model.disable_adapter():
                    yield
            else:
                yield
            return
        if adapter not in self.adapters:
            known = ", ".join(sorted(self.adapters)) or "none loaded"
            raise ConfigError(f"unknown adapter {adapter!r}; known: {known}")
        self.model.set_adapter(adapter)
        yield

    # -- tokens ---------------------------------------------------------------------
    def render(self, conversation: Conversation) -> str:
        """The prompt text for a conversation, through the model's chat template."""
        messages = [m.to_dict() for m in conversation]
        if self.tokenizer.chat_template:
            text = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            return str(text)
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def count_tokens(self, text: str) -> int:
        return len(self._encode(text)) if text else 0

    def truncate_to_tokens(self, text: str, n: int) -> str:
        """The longest prefix of ``text`` that is at most ``n`` model tokens."""
        if n <= 0:
            return ""
        if not self.tokenizer.is_fast:
            ids = self._encode(text)
            return text if len(ids) <= n else str(self.tokenizer.decode(ids[:n]))
        offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)[
            "offset_mapping"
        ]
        if len(offsets) <= n:
            return text
        cut = text[: offsets[n - 1][1]]
        while cut and self.count_tokens(cut) > n:  # re-tokenizing can merge differently
            cut = cut[:-1]
        return cut

    # -- generation -----------------------------------------------------------------
    def plan_batches(self, conversations: list[list[ChatMessage]]) -> list[list[int]]:
        """Longest prompts first, so each batch holds prompts of similar length."""
        lengths = [len(self._encode(self.render(c))) for c in conversations]
        order = sorted(range(len(conversations)), key=lambda i: -lengths[i])
        batches: list[list[int]] = []
        for i in order:
            current = batches[-1] if batches else None
            longest = lengths[current[0]] if current else 0
            if (
                current
                and len(current) < self.batch_size
                and (len(current) + 1) * longest <= self.max_batch_tokens
            ):
                current.append(i)
            else:
                batches.append([i])
        return batches

    def _generate_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        transformers = require("transformers", "rag")
        torch = require("torch", "rag")
        options: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "do_sample": not params.greedy,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": sorted(self._end_ids - {self.tokenizer.pad_token_id})
            or [self.tokenizer.pad_token_id],
        }
        if not params.greedy:
            options.update(temperature=params.temperature, top_p=params.top_p)
            if params.seed is not None:
                torch.manual_seed(params.seed)
        kwargs: dict[str, Any] = {}
        if params.stop:
            # Ends a row as soon as its text contains a stop string; the text is cut later.
            options["stop_strings"] = list(params.stop)
            kwargs["tokenizer"] = self.tokenizer
        kwargs["generation_config"] = transformers.GenerationConfig(**options)
        return kwargs

    def _run(
        self,
        prompts: list[str],
        params: GenerationParams,
        adapter: str | None,
        streamer: Any = None,
        stop: threading.Event | None = None,
    ) -> tuple[Any, Any]:
        """``(encoding, sequences)`` for ``prompts``: the left-padded prompt tokens, and
        prompt plus generated tokens per prompt, in order. Setting ``stop`` ends the
        generation at the next token."""
        torch = require("torch", "rag")
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        ids, mask = enc["input_ids"], enc["attention_mask"]
        kwargs = self._generate_kwargs(params)
        with self._lock, torch.inference_mode(), self._adapter(adapter):
            if self.rowwise:
                ids, mask, kwargs, streamer = self._rowwise_inputs(ids, mask, kwargs, streamer)
            if streamer is not None:
                kwargs["streamer"] = streamer
            if stop is not None:
                transformers = require("transformers", "rag")
                criteria = kwargs.get("stopping_criteria") or transformers.StoppingCriteriaList()
                criteria.append(rowwise.StopWhenSet(stop))
                kwargs["stopping_criteria"] = criteria
            out = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
        return enc, out[: len(prompts)]

    def _rowwise_inputs(
        self, ids: Any, mask: Any, kwargs: dict[str, Any], streamer: Any
    ) -> tuple[Any, Any, dict[str, Any], Any]:
        """Filler rows, the per-row prefilled cache and the matching generate arguments
        (see :mod:`ragtune.llm.rowwise`)."""
        transformers = require("transformers", "rag")
        rows = ids.shape[0]
        ids, mask, fillers = rowwise.fill_rows(ids, mask, self.tokenizer.pad_token_id)
        cache = rowwise.prefill_rows(self.model, ids, mask, self._cache_kw)
        if cache is not None:
            kwargs[self._cache_kw] = cache
        if fillers:
            finished = rowwise.FillerRowsFinished(rows + fillers, fillers)
            kwargs["stopping_criteria"] = transformers.StoppingCriteriaList([finished])
            streamer = rowwise.FirstRowStreamer(streamer) if streamer is not None else None
        return ids, mask, kwargs, streamer

    def cache_identity(self) -> str | None:
        """The model file or folder (with its size and time), device, dtype and threads;
        ``None`` without batch-invariant decoding, where a batch's neighbours move answers."""
        settings = self.compute_settings()
        if not settings.batch_invariant:
            return None
        stat = Path(self.path).stat()
        return json.dumps(
            {
                "model": str(self.path),
                "stamp": [stat.st_size, stat.st_mtime_ns],
                "max_batch_tokens": self.max_batch_tokens,
                **{k: v for k, v in settings.to_dict().items() if k != "dtype_reason"},
            },
            sort_keys=True,
        )

    def compute_settings(self) -> ComputeSettings:
        """The device, dtype (and why), intra-op threads and batch invariance in use now.

        >>> llm.compute_settings().to_dict()
        {'device': 'cpu', 'dtype': 'bfloat16', 'dtype_reason': 'auto: the CPU has ...', ...}
        """
        torch = require("torch", "rag")
        return ComputeSettings(
            device=self.device,
            dtype=self.dtype_choice.dtype,
            dtype_reason=self.dtype_choice.reason,
            threads=int(torch.get_num_threads()),
            rowwise=self.rowwise,
            batch_invariant=self.batch_invariant,
        )

    def _generate_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
    ) -> list[Generation]:
        start = time.perf_counter()
        enc, out = self._run([self.render(c) for c in conversations], params, adapter)
        seconds = time.perf_counter() - start
        prompt_width = enc["input_ids"].shape[1]
        prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
        results = []
        for row, n_prompt in zip(out[:, prompt_width:].tolist(), prompt_tokens, strict=True):
            end = next((k for k, token in enumerate(row) if token in self._end_ids), None)
            kept = row if end is None else row[:end]
            results.append(
                Generation(
                    text=str(self.tokenizer.decode(kept, skip_special_tokens=True)).strip(),
                    prompt_tokens=int(n_prompt),
                    completion_tokens=len(row) if end is None else end + 1,
                    finish_reason="stop" if end is not None else "length",
                    seconds=seconds,
                    batch_size=len(conversations),
                )
            )
        return results

    def stream(
        self,
        conversation: str | Conversation,
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> Iterator[str]:
        """Yield text as it is decoded (generation runs in a worker thread). Closing the
        iterator early (a client that hung up) stops the generation at the next token
        and waits for the worker, so the model is free for the next request."""
        transformers = require("transformers", "rag")
        params = params or self.default_params
        prompt = self.render(as_conversation(conversation))
        streamer = transformers.TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        failure: list[BaseException] = []
        stop = threading.Event()

        def work() -> None:
            try:
                self._run([prompt], params, adapter, streamer, stop)
            except BaseException as exc:  # surfaced in the caller's thread below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=work, name="ragtune-stream", daemon=True)
        worker.start()
        first = True
        try:
            for piece in stream_until_stop(streamer, params.stop):
                # The first decoded piece may carry the template's leading whitespace.
                piece = piece.lstrip() if first else piece
                first = first and not piece
                if piece:
                    yield piece
        finally:
            stop.set()  # a stop string or an early close: decode no further
            worker.join()
        if failure:
            raise failure[0]
