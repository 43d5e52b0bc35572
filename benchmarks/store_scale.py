"""Store scale benchmark: the embedded SQLite store beside Qdrant (local mode).

    .venv/bin/python benchmarks/store_scale.py                       # demo + 10k + 100k
    .venv/bin/python benchmarks/store_scale.py --sizes 10000 --skip-demo
    .venv/bin/python benchmarks/store_scale.py --sqlite-only-sizes 300000

1. Demo quality: the demo corpus is ingested once into SQLite with the default embedder,
   and the same documents, chunks and vectors are copied into Qdrant; both answer the
   demo's questions through ``Retriever`` (dense recall@10 and hybrid hit@5, documents
   as in ``ragtune.evaluate.retrieval``), and Qdrant also through its own RRF fusion.
2. Scale: synthetic chunks (``knowledge_base.synthetic_corpus``: Zipf words, clustered
   384-d vectors) written in groups of 200 documents x 10 chunks, then top-10 dense,
   BM25 and hybrid searches; p50/p95 per store. Both stores are measured in the same
   run and compared as ratios; each figure records ``os.getloadavg()`` when taken,
   because this machine's 2 cores are shared with other jobs.

Writes benchmarks/results/store_scale.json; docs/scale.md keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).parent))

from knowledge_base import FixedQueryEmbedder, synthetic_corpus

from ragtune.evaluate.retrieval import hit_at_k, ranked_doc_ids, recall_at_k
from ragtune.index.base import IndexedDocument, Store
from ragtune.index.qdrant import QdrantStore
from ragtune.index.sqlite import SQLiteStore
from ragtune.retrieve.retriever import Retriever
from ragtune.types import Chunk, Document

RESULTS = Path(__file__).parent / "results" / "store_scale.json"
DIM = 384


def load() -> float:
    return round(os.getloadavg()[0], 2)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def ms(values: list[float], q: float) -> float:
    return round(1000 * float(np.quantile(values, q)), 2)


# -- 1. demo quality ---------------------------------------------------------------------
def copy_store(source: SQLiteStore, target: Store) -> None:
    """Write ``source``'s documents, chunks and stored fp32 vectors into ``target``."""
    db = source._db  # the benchmark reads the stored vectors, not a re-embedding
    vectors = {
        cid: np.frombuffer(blob, dtype=np.float32)
        for cid, blob in db.execute("SELECT id, vector FROM chunks")
    }
    chunks: dict[str, list[Chunk]] = {}
    for chunk in source.iter_chunks():
        chunks.setdefault(chunk.doc_id, []).append(chunk)
    items = [
        IndexedDocument(
            doc, chunks.get(doc.id, []), np.stack([vectors[c.id] for c in chunks[doc.id]])
        )
        for doc in source.iter_documents()
        if doc.id in chunks
    ]
    for start in range(0, len(items), 50):
        target.write(items[start : start + 50])
    for key in ("index_key", "embedder_fingerprint"):
        value = source.get_setting(key)
        if value is not None:
            target.set_setting(key, value)


def bench_demo(workdir: Path) -> dict[str, Any]:
    corpus = workdir / "demo-v1"
    project = workdir / "demo-project"
    for argv in (["demo-corpus", str(corpus)], ["init", str(project)]):
        _run_cli(argv)
    started = time.perf_counter()
    _run_cli(["ingest", str(corpus / "docs")], cwd=project)
    ingest_s = time.perf_counter() - started
    from ragtune.project import Project

    proj = Project.open(project)
    sqlite_store = proj.store
    assert isinstance(sqlite_store, SQLiteStore)
    qdrant = QdrantStore(workdir / "demo-qdrant")
    started = time.perf_counter()
    copy_store(sqlite_store, qdrant)
    copy_s = time.perf_counter() - started
    questions = [json.loads(line) for line in (corpus / "qa.jsonl").open()]
    texts = [q["question"] for q in questions]
    vectors = proj.embedder.embed(texts)
    out: dict[str, Any] = {
        "questions": len(questions),
        "chunks": sqlite_store.stats()["chunks"],
        "sqlite_ingest_s_with_embedding": round(ingest_s, 1),
        "qdrant_copy_s": round(copy_s, 1),
        "load": load(),
    }
    for name, store in (("sqlite", sqlite_store), ("qdrant", qdrant)):
        scores: dict[str, list[float]] = {
            "dense_recall@10": [],
            "hybrid_hit@5": [],
            "bm25_hit@5": [],
        }
        for q, text, vector in zip(questions, texts, vectors, strict=True):
            gold = set(q["doc_ids"])
            embedder = FixedQueryEmbedder(vector)
            dense = Retriever(store, embedder, mode="dense").retrieve(text, k=10)  # type: ignore[arg-type]
            hybrid = Retriever(store, embedder, mode="hybrid").retrieve(text, k=5)  # type: ignore[arg-type]
            bm25 = Retriever(store, None, mode="bm25").retrieve(text, k=5)
            scores["dense_recall@10"].append(recall_at_k(ranked_doc_ids(dense), gold, 10))
            scores["hybrid_hit@5"].append(hit_at_k(ranked_doc_ids(hybrid), gold, 5))
            scores["bm25_hit@5"].append(hit_at_k(ranked_doc_ids(bm25), gold, 5))
            if name == "qdrant":
                fused = qdrant.search_hybrid_ids(text, vector, 5, candidates=50, rrf_k=60)
                docs = list(dict.fromkeys(cid.rsplit("::", 1)[0] for cid, _ in fused))
                scores.setdefault("hybrid_hit@5_qdrant_rrf", []).append(hit_at_k(docs, gold, 5))
        out[name] = {key: round(statistics.mean(values), 4) for key, values in scores.items()}
    qdrant.close()
    proj.close()
    return out


def _run_cli(argv: list[str], cwd: Path | None = None) -> None:
    """Run the ``ragtune`` command installed beside this interpreter, as a user would."""
    ragtune = Path(sys.executable).parent / "ragtune"
    subprocess.run([str(ragtune), *argv], check=True, cwd=cwd, stdout=subprocess.DEVNULL)


# -- 2. scale ------------------------------------------------------------------------------
def synthetic_items(texts: list[str], vectors: np.ndarray) -> list[IndexedDocument]:
    items = []
    for d in range(0, len(texts), 10):
        doc_id = f"doc{d // 10:07d}"
        body = texts[d : d + 10]
        doc = Document(id=doc_id, text="\n\n".join(body), source=f"/bench/{doc_id}.txt")
        chunks, offset = [], 0
        for i, text in enumerate(body):
            chunks.append(
                Chunk(
                    id=f"{doc_id}::{i}",
                    doc_id=doc_id,
                    text=text,
                    index=i,
                    start_char=offset,
                    end_char=offset + len(text),
                )
            )
            offset += len(text) + 2
        items.append(IndexedDocument(doc, chunks, vectors[d : d + 10]))
    return items


def bench_size(
    n_chunks: int, stores: dict[str, Callable[[Path], Store]], n_queries: int, workdir: Path
) -> dict[str, Any]:
    texts, vectors = synthetic_corpus(n_chunks, DIM)
    items = synthetic_items(texts, vectors)
    rng = np.random.default_rng(1)
    rows = rng.integers(0, n_chunks, n_queries)
    queries = [" ".join(texts[r].split()[::20][:6]) for r in rows]
    query_vectors = vectors[rows] + 0.3 * rng.standard_normal((n_queries, DIM)).astype(np.float32)
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
    result: dict[str, Any] = {"chunks": n_chunks}
    for name, make in stores.items():
        folder = workdir / f"{name}-{n_chunks}"
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        load_before = load()
        started = time.perf_counter()
        store = make(folder)
        for start in range(0, len(items), 200):
            store.write(items[start : start + 200])
        store.flush()
        ingest_s = time.perf_counter() - started
        figures: dict[str, Any] = {
            "ingest_s": round(ingest_s, 1),
            "ingest_chunks_per_s": round(n_chunks / ingest_s),
            "ingest_load": [load_before, load()],
            "disk_mb": round(folder_bytes(folder) / 2**20, 1),
            "peak_rss_mb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_rss_growth_mb": round(
                (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
            ),
        }
        searches: dict[str, Callable[[str, np.ndarray], Any]] = {
            "dense": lambda q, v, s=store: s.search_dense_ids(v, 10),
            "bm25": lambda q, v, s=store: s.search_bm25_ids(q, 10),
            "hybrid": lambda q, v, s=store: Retriever(
                s, FixedQueryEmbedder(v), candidates=50
            ).retrieve(q, k=10),  # type: ignore[arg-type]
        }
        if isinstance(store, QdrantStore):
            searches["hybrid_qdrant_rrf"] = lambda q, v, s=store: s.search_hybrid_ids(q, v, 10)
        for mode, search in searches.items():
            search(queries[0], query_vectors[0])  # warm
            times = []
            load_before = load()
            for q, v in zip(queries, query_vectors, strict=True):
                t = time.perf_counter()
                search(q, v)
                times.append(time.perf_counter() - t)
            figures[f"{mode}_p50_ms"] = ms(times, 0.5)
            figures[f"{mode}_p95_ms"] = ms(times, 0.95)
            figures[f"{mode}_load"] = [load_before, load()]
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
        result[name] = figures
        print(name, n_chunks, json.dumps(figures), flush=True)
    if "sqlite" in result and "qdrant" in result:
        result["qdrant_over_sqlite"] = {
            key: round(result["qdrant"][key] / max(result["sqlite"][key], 1e-9), 1)
            for key in ("ingest_s", "dense_p50_ms", "bm25_p50_ms", "hybrid_p50_ms", "disk_mb")
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--sqlite-only-sizes", type=int, nargs="*", default=[])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    both: dict[str, Callable[[Path], Store]] = {"sqlite": SQLiteStore, "qdrant": QdrantStore}
    record: dict[str, Any] = {
        "benchmark": "store_scale",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_at_start": list(os.getloadavg()),
        },
        "versions": {"qdrant_client": _version("qdrant-client"), "faiss": _version("faiss-cpu")},
        "dim": DIM,
        "qdrant_mode": "local (QdrantClient(path=...)): exact search in Python/numpy",
    }
    with tempfile.TemporaryDirectory(prefix="store-scale-") as tmp:
        work = Path(tmp)
        if not args.skip_demo:
            record["demo"] = bench_demo(work)
            print("demo", json.dumps(record["demo"]), flush=True)
        record["sizes"] = [bench_size(n, both, args.queries, work) for n in args.sizes]
        record["sqlite_only_sizes"] = [
            bench_size(n, {"sqlite": SQLiteStore}, args.queries, work)
            for n in args.sqlite_only_sizes
        ]
    record["load_at_end"] = list(os.getloadavg())
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.skip_demo and "demo" in previous:
        record["demo"] = previous["demo"]
    for part in ("sizes", "sqlite_only_sizes"):  # a run of only some sizes keeps the rest
        if not record[part] and previous.get(part):
            record[part] = previous[part]
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
