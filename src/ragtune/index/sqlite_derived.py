"""The SQLite store's derived indexes: FAISS and BM25 in memory, and their cache file.

``DerivedIndexes`` mirrors the chunks in SQLite: FAISS (exact inner product over fp16
codes) keyed by chunk rowid, and a ``BM25Index`` over the chunk texts. The store feeds it
every committed change and asks it for candidates; SQL stays in ``sqlite.py``.

``derived.npz`` beside ``store.sqlite`` is an uncompressed zip of ``.npy`` arrays plus a
JSON header, so numpy reads it without running any code from the file::

    header.json          {"format": "ragtune.sqlite-derived", "version": 1,
                          "store_id": ..., "generation": ..., "dim": ..., "bm25": {k1, b}}
    ids.npy              int64 (n,)       chunk rowids, the FAISS ids
    vectors.npy          float16 (n, dim) the FAISS fp16 codes, decoded
    bm25_<field>.npy     the BM25 postings (``BM25Arrays``)

    np.load(".ragtune/store/derived.npz", allow_pickle=False)["ids"]

The file is only a cache: ``read_cache`` answers ``None`` for one that is missing, torn,
garbled, foreign (another store's id), of another format version or older than SQLite's
generation, and the store then rebuilds from SQLite. ``write_cache`` writes a temporary
file and renames it over the old one, so readers see the old file or the new one.
Bump ``FORMAT_VERSION`` whenever the layout or the meaning of an array changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragtune._lazy import require
from ragtune.index.bm25 import BM25Arrays, BM25Index

CACHE_FILE = "derived.npz"
# Written by ragtune before the cache was plain files; never read, removed on the next save.
LEGACY_CACHE_FILES = ("derived.pkl",)
FORMAT = "ragtune.sqlite-derived"
FORMAT_VERSION = 1
_HEADER = "header.json"


@dataclass
class DerivedState:
    """The derived indexes as of one SQLite generation of one store."""

    store_id: str
    generation: int
    ids: np.ndarray  # int64 (n,)
    vectors: np.ndarray  # float16 (n, dim); dim 0 for a store without vectors yet
    bm25: BM25Arrays

    def validate(self) -> None:
        """Raise ``ValueError`` unless the arrays agree with each other."""
        if self.ids.ndim != 1 or self.ids.dtype != np.int64:
            raise ValueError("ids: expected 1-D int64")
        if self.vectors.ndim != 2 or self.vectors.dtype != np.float16:
            raise ValueError("vectors: expected 2-D float16")
        if len(self.vectors) != len(self.ids) or len(np.unique(self.ids)) != len(self.ids):
            raise ValueError("expected one vector per unique id")
        self.bm25.validate()
        if not np.array_equal(np.sort(self.bm25.ids), np.sort(self.ids)):
            raise ValueError("BM25 and vector ids differ")


class DerivedIndexes:
    """FAISS and BM25 over one store's chunks as of one SQLite generation.

    indexes = DerivedIndexes()
    indexes.load(ids, vectors, BM25Index(), generation=3)
    indexes.dense(query_vector, k=10, allowed=None)   # [(rowid, score), ...]
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self.generation = -1  # the SQLite generation the indexes reflect
        self.dirty = False  # changed since the cache file was written
        self.bm25 = BM25Index()
        self._faiss: Any = None

    @staticmethod
    def _new_faiss(dim: int) -> Any:
        # Exact inner product over fp16 codes: a query reads half the bytes of fp32, and
        # the scan is memory-bound (100k x 384: 16 ms fp32 -> 4 ms fp16 on 2 cores, with
        # recall@10 = 1.0 against fp32 in benchmarks/knowledge_base.py). The fp32
        # vectors stay in SQLite.
        faiss = require("faiss", "core")
        # One query scans in one thread: splitting a 4 ms scan across OpenMP threads
        # gains little when idle and costs 6x when another job holds a core (measured
        # 100k x 384: 4 ms on 1 thread vs 24 ms on 2 threads under load).
        faiss.omp_set_num_threads(1)
        codes = faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        return faiss.IndexIDMap2(codes)

    def load(self, ids: np.ndarray, vectors: np.ndarray, bm25: BM25Index, generation: int) -> None:
        """Replace everything with ``vectors`` (fp32 or fp16 rows) under ``ids``."""
        if vectors.shape[1] and self.dim is None:
            self.dim = int(vectors.shape[1])
        self._faiss = self._new_faiss(self.dim) if self.dim else None
        if self._faiss is not None and len(ids):
            # fp16 codes decode to fp32 values that re-encode to the same codes, so a
            # loaded cache scores exactly as the index it was saved from.
            self._faiss.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self.bm25 = bm25
        self.generation = generation

    def load_state(self, state: DerivedState) -> None:
        """Load what ``read_cache`` returned: the indexes now match the file on disk."""
        self.load(state.ids, state.vectors, BM25Index.from_arrays(state.bm25), state.generation)
        self.dirty = False

    def apply(
        self,
        removed: Sequence[int],
        added: Sequence[tuple[list[int], np.ndarray, list[str]]],
        generation: int,
    ) -> None:
        """Mirror a committed transaction: drop ``removed`` rowids, add ``(rowids,
        vectors, texts)`` groups, and record the generation it produced."""
        if self._faiss is None and self.dim:
            self._faiss = self._new_faiss(self.dim)
        if removed and self._faiss is not None:
            self._faiss.remove_ids(np.asarray(removed, dtype=np.int64))
        self.bm25.remove(removed)
        for rowids, vectors, texts in added:
            self._faiss.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(rowids, np.int64)
            )
            self.bm25.add(rowids, texts)
        self.generation = generation
        self.dirty = True

    def clear(self, generation: int) -> None:
        """Empty, and forget the vector size (the next write may bring another model's)."""
        self.dim = None
        self._faiss = None
        self.bm25 = BM25Index()
        self.generation = generation
        self.dirty = True

    @property
    def n_vectors(self) -> int:
        return 0 if self._faiss is None else int(self._faiss.ntotal)

    def vector_ids(self) -> np.ndarray:
        """The FAISS ids (chunk rowids), int64, in index order."""
        if not self.n_vectors:
            return np.zeros(0, dtype=np.int64)
        faiss = require("faiss", "core")
        return faiss.vector_to_array(self._faiss.id_map).astype(np.int64)

    def state(self, store_id: str) -> DerivedState:
        """Everything needed to load these indexes again, as plain arrays."""
        if self.n_vectors:
            vectors = self._faiss.index.reconstruct_n(0, self.n_vectors).astype(np.float16)
        else:
            vectors = np.zeros((0, self.dim or 0), dtype=np.float16)
        return DerivedState(
            store_id, self.generation, self.vector_ids(), vectors, self.bm25.to_arrays()
        )

    def dense(
        self, vector: np.ndarray, k: int, allowed: set[int] | None
    ) -> list[tuple[int, float]]:
        """The ``k`` best ``(rowid, score)`` pairs by inner product, best first, and
        every further pair tied with the ``k``-th (the caller breaks ties)."""
        index = self._faiss
        if index is None or index.ntotal == 0 or k < 1:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.dim:
            raise ValueError(f"query vector has dim {query.shape[1]}, the index has {self.dim}")
        params = None
        limit = int(index.ntotal)
        if allowed is not None:
            if not allowed:
                return []
            faiss = require("faiss", "core")
            selector = faiss.IDSelectorBatch(
                np.fromiter(allowed, dtype=np.int64, count=len(allowed))
            )
            params = faiss.SearchParameters(sel=selector)
            limit = min(limit, len(allowed))
        fetch = min(k + 1, limit)
        while True:
            scores, ids = index.search(query, fetch, params=params)
            pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
            # Done once the list ends below the k-th score or holds every candidate.
            if len(pairs) < fetch or fetch >= limit or pairs[-1][1] < pairs[k - 1][1]:
                break
            fetch = min(2 * fetch, limit)
        if len(pairs) > k:
            kth = pairs[k - 1][1]
            pairs = [pair for pair in pairs if pair[1] >= kth]
        return pairs

    def sparse(self, query: str, k: int, allowed: set[int] | None) -> list[tuple[int, float]]:
        """BM25's ``k`` best ``(rowid, score)`` pairs and every pair tied with the ``k``-th."""
        return self.bm25.search(query, k, allowed=allowed, with_ties=True)


def write_cache(folder: Path, state: DerivedState) -> None:
    """Save ``state`` as ``folder / CACHE_FILE`` atomically; drop legacy cache files."""
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "store_id": state.store_id,
        "generation": state.generation,
        "dim": int(state.vectors.shape[1]),
        "chunks": len(state.ids),
        "bm25": {"k1": state.bm25.k1, "b": state.bm25.b},
    }
    arrays = {"ids": state.ids, "vectors": state.vectors}
    arrays |= {f"bm25_{name}": getattr(state.bm25, name) for name in BM25Arrays.array_names()}
    # A unique temporary name: two stores in one process may flush the same folder.
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{CACHE_FILE}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(_HEADER, json.dumps(header, indent=1))
            for name, array in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(array))
        # No fsync: a file torn by a power cut fails its zip CRCs and is rebuilt.
        os.replace(tmp, folder / CACHE_FILE)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for legacy in LEGACY_CACHE_FILES:
        with contextlib.suppress(OSError):
            (folder / legacy).unlink(missing_ok=True)


def read_cache(folder: Path, store_id: str, generation: int) -> DerivedState | None:
    """The cached state if it is readable and belongs to this store and generation."""
    path = folder / CACHE_FILE
    if not path.is_file():
        return None
    try:
        return _read(path, store_id, generation)
    except Exception:
        # Any failure to parse a cache means "rebuild it". A cache file can be torn, truncated, garbled or written by anything at all;
        # none of that is an error, since SQLite holds everything the cache is made of.
        return None


def _read(path: Path, store_id: str, generation: int) -> DerivedState | None:
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read(_HEADER))
        if not (
            isinstance(header, dict)
            and header.get("format") == FORMAT
            and header.get("version") == FORMAT_VERSION
            and header.get("store_id") == store_id
            and header.get("generation") == generation
        ):
            return None
        arrays = {name: _read_array(zf, f"{name}.npy") for name in ("ids", "vectors")}
        bm25_params = header["bm25"]
        bm25 = BM25Arrays(
            k1=float(bm25_params["k1"]),
            b=float(bm25_params["b"]),
            **{name: _read_array(zf, f"bm25_{name}.npy") for name in BM25Arrays.array_names()},
        )
    state = DerivedState(store_id, generation, arrays["ids"], arrays["vectors"], bm25)
    state.validate()
    if state.vectors.shape[1] != header["dim"]:
        raise ValueError("vectors disagree with the header's dim")
    return state


def _read_array(zf: zipfile.ZipFile, name: str) -> Any:
    with zf.open(name) as member:
        array = np.lib.format.read_array(member, allow_pickle=False)
        # Reading to the end makes zipfile check the member's CRC: a file torn in the
        # middle fails here instead of loading as wrong numbers.
        if member.read():
            raise ValueError(f"{name}: trailing bytes after the array")
    return array
