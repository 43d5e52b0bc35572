"""A ragtune project: a folder with ``ragtune.toml`` and ``.ragtune/`` state.

The Python API that the CLI and the HTTP server are thin layers over::

    project = Project.init("acme-kb")                 # writes ragtune.toml, .ragtune/
    report = project.ingest(["~/acme/docs"])          # IngestReport(added=212, ...)
    hits = project.search("X200 warranty", k=5)       # list[Hit]
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.config import CONFIG_FILE, STATE_DIR, RagtuneConfig, config_to_toml, load_config
from ragtune.embed.base import Embedder, create_embedder
from ragtune.errors import IndexMissingError, RagtuneError
from ragtune.index import CheckReport, Store, open_store
from ragtune.ingest import EMBEDDER_FINGERPRINT, INDEX_KEY, sync_paths, write_lock
from ragtune.progress import Progress
from ragtune.retrieve.rerank import Reranker
from ragtune.retrieve.retriever import Mode, Retriever
from ragtune.types import Document, Hit, IngestReport

if TYPE_CHECKING:
    from ragtune.corpus.chunking import Chunker
    from ragtune.llm.answer_cache import CachedGenerator
    from ragtune.llm.base import Generator

STATE_SUBDIRS = ("store", "data", "adapters", "runs")


def find_project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` that holds a ``ragtune.toml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return None


class Project:
    """Paths, config and the lazily built parts (store, embedder, retriever) of one project."""

    def __init__(self, root: Path, config: RagtuneConfig) -> None:
        self.root = root.resolve()
        self.config = config
        # Built on first use, each by its own property; None until then.
        self._store: Store | None = None
        self._embedder: Embedder | None = None
        self._generator: Generator | None = None
        self._cached_generator: CachedGenerator | None = None
        self._reranker: Reranker | None = None
        self._reranker_loaded = False

    # -- construction -------------------------------------------------------------------
    @classmethod
    def init(cls, root: Path | str = ".", overrides: dict[str, Any] | None = None) -> Project:
        """Create ``ragtune.toml`` (defaults plus ``overrides``) and ``.ragtune/`` in ``root``."""
        root = Path(root).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        config_path = root / CONFIG_FILE
        if config_path.exists():
            raise RagtuneError(f"{config_path} already exists; this folder is a ragtune project")
        config = load_config(None, overrides)
        config_path.write_text(
            "# ragtune project settings. Every key is documented in ragtune.config;\n"
            "# env vars RAGTUNE_<SECTION>__<KEY> and CLI flags override them.\n\n"
            + config_to_toml(config)
        )
        project = cls(root, config)
        for sub in STATE_SUBDIRS:
            (project.state_dir / sub).mkdir(parents=True, exist_ok=True)
        return project

    @classmethod
    def open(
        cls, root: Path | str | None = None, overrides: dict[str, Any] | None = None
    ) -> Project:
        """Open the project at ``root``, or the one containing the working directory,
        or a default project in the working directory (defaults, no ``ragtune.toml``)."""
        if root is not None:
            folder = Path(root).expanduser()
            if not folder.is_dir():
                raise RagtuneError(
                    f"project folder {folder} does not exist; create it with: ragtune init {folder}"
                )
        else:
            folder = find_project_root() or Path.cwd()
        return cls(folder, load_config(folder, overrides))

    # -- paths --------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def store_dir(self) -> Path:
        return Path(self.config.index.path) if self.config.index.path else self.state_dir / "store"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def adapters_dir(self) -> Path:
        return self.state_dir / "adapters"

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs"

    # -- parts --------------------------------------------------------------------------
    @property
    def index_key(self) -> str:
        """Names everything that shapes the vectors; a change means re-index."""
        embed, corpus = self.config.embed, self.config.corpus
        return json.dumps(
            {
                "embed": [embed.backend, embed.model, embed.base_url, embed.dim],
                "chunk": [
                    f"{corpus.chunker}-1",
                    corpus.chunk_size_tokens,
                    corpus.chunk_overlap_tokens,
                    corpus.tokenizer,
                ],
            },
            sort_keys=True,
        )

    @property
    def store(self) -> Store:
        """The configured store, opened on first use (a backend finishes or rolls back
        a rebuild that a kill interrupted when it opens)."""
        if self._store is None:
            self._store = open_store(self.config.index, default_path=self.store_dir)
        return self._store

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = create_embedder(self.config.embed)
        return self._embedder

    def available_adapters(self) -> dict[str, str]:
        """Fine-tuned adapters in ``.ragtune/adapters/``: ``{name: folder}``."""
        if not self.adapters_dir.is_dir():
            return {}
        return {
            folder.name: str(folder)
            for folder in sorted(self.adapters_dir.iterdir())
            if (folder / "adapter_config.json").is_file()
        }

    @property
    def generator(self) -> Generator:
        """The configured generator, with every project adapter loaded for per-request
        switching; built on first use."""
        if self._generator is None:
            from ragtune.llm import create_generator

            self._generator = create_generator(
                self.config.llm, adapters=self.available_adapters() or None
            )
        return self._generator

    @generator.setter
    def generator(self, generator: Generator) -> None:
        """Use ``generator`` for every arm (a test double, or one built elsewhere)."""
        self._generator = generator

    def evaluation_generator(self) -> Generator:
        """The generator evaluation answers with: the project's, behind its answer cache
        (``.ragtune/cache/answers.sqlite``) unless ``eval.reuse_answers`` is off; see
        :mod:`ragtune.llm.answer_cache`."""
        if not self.config.eval.reuse_answers:
            return self.generator
        if self._cached_generator is None or self._cached_generator.inner is not self.generator:
            from ragtune.llm.answer_cache import AnswerCache, CachedGenerator, generator_identity

            identity = generator_identity(self.generator, self.config.llm.model_dump())
            if identity is None:  # the backend cannot vouch for repeatable answers
                return self.generator
            cache = AnswerCache(self.state_dir / "cache" / "answers.sqlite")
            self._cached_generator = CachedGenerator(
                self.generator, cache, identity, self._adapter_fingerprint
            )
        return self._cached_generator

    def _adapter_fingerprint(self, adapter: str | None) -> str:
        if adapter is None:
            return "base"
        from ragtune.llm.answer_cache import folder_fingerprint

        path = self.available_adapters().get(adapter)
        return folder_fingerprint(Path(path)) if path else f"missing:{adapter}"

    @property
    def loaded_generator(self) -> Generator | None:
        """The generator if one is loaded, without loading it."""
        return self._generator

    def reload_generator(self) -> None:
        """Forget the loaded generator, so the next use loads the current adapters."""
        self._generator = None
        self._drop_answer_cache()
        import gc

        gc.collect()

    def chunker(self) -> Chunker:
        """The configured chunker (``corpus.chunker``, from the chunkers registry), counting
        tokens with the embedder's tokenizer unless ``corpus.tokenizer`` names another."""
        from ragtune.corpus.chunking import chunkers, make_token_counter

        corpus = self.config.corpus
        if corpus.tokenizer == "embedder":
            counter = self.embedder.token_counter() or make_token_counter("words")
        else:
            counter = make_token_counter(corpus.tokenizer)
        return chunkers.create(
            corpus.chunker,
            chunk_size_tokens=corpus.chunk_size_tokens,
            chunk_overlap_tokens=corpus.chunk_overlap_tokens,
            count_tokens=counter,
        )

    def has_index(self) -> bool:
        return self.store_dir.exists() and self.store.stats()["documents"] > 0

    def require_index(self) -> Store:
        """The store, or a clear error telling the user how to build it."""
        if not self.has_index():
            raise IndexMissingError(
                f"no documents indexed in {self.root}; run: ragtune ingest PATH (e.g. ragtune ingest docs/)"
            )
        self._require_current_settings()
        return self.store

    def retriever(self, mode: Mode | None = None) -> Retriever:
        retrieve = self.config.retrieve
        mode = mode or retrieve.mode
        embedder = None if mode == "bm25" else self.embedder
        return Retriever(
            self.require_index(),
            embedder,
            mode=mode,
            candidates=retrieve.candidates,
            rrf_k=retrieve.rrf_k,
            reranker=self.reranker,
        )

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder, loaded once per project (none by default)."""
        if not self._reranker_loaded:
            retrieve = self.config.retrieve
            if retrieve.reranker:
                from ragtune.registry import rerankers

                self._reranker = rerankers.create(
                    retrieve.reranker_backend, model=retrieve.reranker
                )
            self._reranker_loaded = True
        return self._reranker

    # -- verbs --------------------------------------------------------------------------
    def ingest(
        self, paths: Sequence[Path | str], mirror: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Index the files and folders in ``paths`` incrementally (see ``ragtune.ingest``:
        what counts as changed, moved or deleted, and how a re-index is swapped in through
        the store's ``begin_rebuild``/``commit_rebuild``)."""
        resolved = [Path(p).expanduser() for p in paths]
        for path in resolved:
            if not os.path.lexists(path):
                raise RagtuneError(f"{path}: no such file or folder")
        with write_lock(self.state_dir / "store.lock"):
            report, store = sync_paths(
                self.store,
                self.embedder,
                resolved,
                self.config.corpus,
                self.index_key,
                self.chunker(),
                mirror=mirror,
                progress=progress,
            )
        self._store = store
        return report

    def upsert_documents(
        self, documents: list[Document], progress: Progress | None = None
    ) -> IngestReport:
        """Add or replace documents given as text (not files): e.g. from the HTTP API.

        Unchanged text is skipped by hash; each document is written atomically.
        """
        from ragtune.ingest import sync_documents

        with write_lock(self.state_dir / "store.lock"):
            self._require_current_settings()
            self.store.set_setting(INDEX_KEY, self.index_key)
            self.store.set_setting(EMBEDDER_FINGERPRINT, self.embedder.fingerprint)
            report = IngestReport()
            started = time.perf_counter()
            sync_documents(
                self.store,
                self.embedder,
                self.chunker(),
                {d.id: d for d in documents},
                set(),
                progress or Progress(),
                report,
            )
            self.store.flush()
            report.seconds = round(time.perf_counter() - started, 3)
        return report

    def delete_documents(self, doc_ids: list[str]) -> int:
        """Delete documents by id; returns how many existed."""
        with write_lock(self.state_dir / "store.lock"):
            deleted = self.store.delete(doc_ids)
            self.store.flush()
        return deleted

    def _require_current_settings(self) -> None:
        stored_key = self.store.get_setting(INDEX_KEY)
        if stored_key is not None and stored_key != self.index_key and self.store.document_hashes():
            raise IndexMissingError(
                "the index was built with other embedding or chunking settings "
                f"({self.store.get_setting(EMBEDDER_FINGERPRINT)}); run: ragtune ingest PATH to re-index"
            )

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: Mode | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[Hit]:
        """Top ``k`` hits for ``query`` (hybrid by default), optionally filtered by metadata."""
        return self.retriever(mode).retrieve(
            query, k or self.config.retrieve.top_k, filters=filters
        )

    def check(self) -> CheckReport:
        return self.store.check()

    def _drop_answer_cache(self) -> None:
        if self._cached_generator is not None:
            self._cached_generator.cache.close()
            self._cached_generator = None

    def close(self) -> None:
        self._drop_answer_cache()
        if self._store is not None:
            self._store.close()
