"""A random-operations soak of ``ingest --mirror``: edits, real SIGKILLs, re-indexes.

Rounds of random add / modify (text, title or metadata only) / delete / rename operations
on a folder of Markdown, text and JSONL files; after each round ``ingest --mirror`` (some
rounds first run a CLI ingest that SIGKILLs itself at a chosen write, delete or folder
swap, via ``tests.index.killer``; some rounds change the chunk size, so a re-index runs).
At the end the index is compared with a clean ingest of the final folder: documents,
chunk texts, vectors (bytes), and the top-5 hybrid hits of 20 queries (ids and scores).

    result = run_soak(Path("/tmp/soak"), operations=1000, kills=10, seed=0)
    result.differences   # [] when the incremental index equals the clean one
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.project import Project

REPO = Path(__file__).resolve().parents[2]
FAST: dict[str, dict[str, Any]] = {
    "embed": {"backend": "hash"},
    "corpus": {"tokenizer": "words", "chunk_size_tokens": 64, "chunk_overlap_tokens": 8},
}
CHUNK_SIZES = (64, 48)
WORDS = [
    "pump",
    "valve",
    "router",
    "switch",
    "sensor",
    "drone",
    "fan",
    "cable",
    "battery",
    "motor",
    "filter",
    "gauge",
    "relay",
    "Oslo",
    "Bergen",
    "Tallinn",
    "Tromso",
    "depot",
    "warranty",
    "price",
    "weight",
    "voltage",
    "pressure",
    "firmware",
]
# The same paragraph in many files: exact score ties that must not depend on history.
BOILERPLATE = "Support hours are nine to five on weekdays, except public holidays."
QUERIES = [
    "support hours weekdays",
    "pump pressure",
    "router firmware Oslo",
    "warranty years",
    "battery voltage drone",
    "valve depot Bergen",
    "cable weight",
    "sensor gauge relay",
    "motor filter price",
    "fan Tromso",
    "switch Tallinn",
    "public holidays",
    "drone battery",
    "firmware update",
    "depot Oslo",
    "pressure gauge",
    "relay switch",
    "weight price",
    "motor voltage",
    "nothing zebra",
]


@dataclass
class SoakResult:
    """What one soak did and found (``differences`` empty: the indexes are identical)."""

    operations: int
    rounds: int
    kills_planned: int
    kills_landed: int
    kill_points: list[str]
    reindexes: int
    documents: int
    chunks: int
    queries: int
    seconds: float
    differences: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Folder:
    """The folder being edited, with a seeded random generator of its files."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng, self.counter = root, rng, 0
        root.mkdir(parents=True, exist_ok=True)

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())

    def _paragraph(self) -> str:
        if self.rng.random() < 0.25:
            return BOILERPLATE
        words = self.rng.choices(WORDS, k=self.rng.randint(8, 30))
        return " ".join(words).capitalize() + f" costs {self.rng.randint(1, 999)} crowns."

    def _body(self, path: Path) -> str:
        title = " ".join(self.rng.choices(WORDS, k=3)).title()
        paragraphs = [self._paragraph() for _ in range(self.rng.randint(1, 12))]
        if path.suffix == ".jsonl":
            records = [
                {"id": f"r{i}", "text": p, "lang": self.rng.choice(["en", "de"])}
                for i, p in enumerate(paragraphs)
            ]
            return "".join(json.dumps(r) + "\n" for r in records)
        if path.suffix == ".md":
            return f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"
        return "\n\n".join(paragraphs) + "\n"

    def _new_path(self) -> Path:
        self.counter += 1
        folder = self.rng.choice(["", "sub", "sub/deep", "other"])
        ext = self.rng.choice([".md", ".md", ".txt", ".jsonl"])
        return self.root / folder / f"f{self.counter}{ext}"

    def add(self) -> None:
        path = self._new_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self._body(path))

    def modify(self, path: Path) -> str:
        text = path.read_text()
        kind = self.rng.choice(["text", "title", "meta"])
        if kind == "title" and path.suffix == ".md":
            lines = text.split("\n")
            lines[0] = "# " + " ".join(self.rng.choices(WORDS, k=3)).title()
            path.write_text("\n".join(lines))
        elif kind == "meta" and path.suffix == ".jsonl":
            records = [json.loads(line) for line in text.splitlines() if line]
            records[0]["lang"] = "fr" if records[0].get("lang") != "fr" else "en"
            path.write_text("".join(json.dumps(r) + "\n" for r in records))
        else:
            kind = "text"
            path.write_text(self._body(path))
        return kind

    def operate(self, counts: dict[str, int]) -> None:
        """One random operation (an add when the folder is nearly empty)."""
        files = self.files()
        op = "add" if len(files) < 5 else self.rng.choice(["add", "modify", "delete", "rename"])
        if op == "add":
            self.add()
        elif op == "modify":
            op = "modify-" + self.modify(self.rng.choice(files))
        elif op == "delete":
            self.rng.choice(files).unlink()
        else:
            source = self.rng.choice(files)
            target = self._new_path().with_suffix(source.suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(source, target)
        counts[op] = counts.get(op, 0) + 1


def _killed_ingest(project_dir: Path, docs: Path, kill_at: str, chunk_size: int) -> int:
    env = {
        **os.environ,
        "RAGTUNE_EMBED__BACKEND": "hash",
        "RAGTUNE_CORPUS__TOKENIZER": "words",
        "RAGTUNE_CORPUS__CHUNK_SIZE_TOKENS": str(chunk_size),
        "RAGTUNE_TEST_KILL_AT": kill_at,
        "RAGTUNE_TEST_WRITE_GROUP": "4",
    }
    command = [sys.executable, "-m", "tests.index.killer", "ingest", str(docs), "--mirror"]
    command += ["--project", str(project_dir), "--json"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, -9):
        raise RuntimeError(f"killed ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.returncode


def _ingest(project_dir: Path, docs: Path, chunk_size: int) -> None:
    project = Project.open(project_dir, {"corpus": {"chunk_size_tokens": chunk_size}})
    try:
        project.ingest([docs], mirror=True)
        check = project.check()
        if not check.ok:
            raise AssertionError(f"index check failed: {check.problems}")
    finally:
        project.close()


def snapshot(project_dir: Path, chunk_size: int) -> dict[str, Any]:
    """Everything the soak compares: documents, chunks, vector bytes, top-5 hits."""
    project = Project.open(project_dir, {"corpus": {"chunk_size_tokens": chunk_size}})
    try:
        store = project.store
        documents = [
            (r.id, r.source, r.title, r.content_hash, r.n_chunks, r.meta)
            for r in store.list_documents()
        ]
        chunks = [
            (c.id, c.text, c.start_char, c.end_char, c.heading_path, c.meta, c.source, c.title)
            for c in store.iter_chunks()
        ]
        with sqlite3.connect(project.store_dir / "store.sqlite") as db:
            vectors = dict(db.execute("SELECT id, vector FROM chunks ORDER BY id").fetchall())
        hits = {
            q: [(h.chunk.id, h.score, h.scores) for h in project.search(q, k=5)] for q in QUERIES
        }
    finally:
        project.close()
    return {"documents": documents, "chunks": chunks, "vectors": vectors, "hits": hits}


def compare(incremental: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    """Each difference between two snapshots, in words (empty: identical)."""
    differences = []
    for key in ("documents", "chunks"):
        a, b = incremental[key], clean[key]
        differences += [f"{key}: {x!r} != {y!r}" for x, y in zip(a, b, strict=False) if x != y]
        if len(a) != len(b):
            differences.append(f"{key}: {len(a)} incremental, {len(b)} clean")
    va, vb = incremental["vectors"], clean["vectors"]
    differences += [
        f"vector of {cid} differs"
        for cid in sorted(set(va) | set(vb))
        if va.get(cid) != vb.get(cid)
    ]
    for query in QUERIES:
        if incremental["hits"][query] != clean["hits"][query]:
            differences.append(
                f"top-5 for {query!r}: {incremental['hits'][query]} != {clean['hits'][query]}"
            )
    return differences


def run_soak(
    workdir: Path, operations: int = 100, kills: int = 2, seed: int = 0, per_round: int = 10
) -> SoakResult:
    """Run the soak in ``workdir`` (emptied first); see the module docstring."""
    started = time.perf_counter()
    shutil.rmtree(workdir, ignore_errors=True)
    rng = random.Random(seed)
    docs, project_dir = workdir / "docs", workdir / "proj"
    folder = _Folder(docs, rng)
    for _ in range(12):
        folder.add()
    Project.init(project_dir, FAST).close()
    rounds = -(-operations // per_round)
    kill_rounds = set(rng.sample(range(rounds), min(kills, rounds)))
    chunk_size, reindexes, landed = CHUNK_SIZES[0], 0, 0
    kill_points: list[str] = []
    counts: dict[str, int] = {}
    for round_number in range(rounds):
        for _ in range(min(per_round, operations - round_number * per_round)):
            folder.operate(counts)
        rebuild = round_number % 4 == 3  # every fourth round changes the chunking
        if rebuild:
            chunk_size = CHUNK_SIZES[(CHUNK_SIZES.index(chunk_size) + 1) % len(CHUNK_SIZES)]
            reindexes += 1
        if round_number in kill_rounds:
            points = (
                ["write:1:store.next", "write:3:store.next", "swap"]
                if rebuild
                else ["write:1", "write:2", "delete:1"]
            )
            kill_at = rng.choice(points)
            returncode = _killed_ingest(project_dir, docs, kill_at, chunk_size)
            landed += returncode == -9
            kill_points.append(
                f"round {round_number}: {kill_at} ({'killed' if returncode == -9 else 'not reached'})"
            )
        _ingest(project_dir, docs, chunk_size)
    incremental = snapshot(project_dir, chunk_size)
    clean_dir = workdir / "clean"
    Project.init(
        clean_dir, {**FAST, "corpus": {**FAST["corpus"], "chunk_size_tokens": chunk_size}}
    ).close()
    _ingest(clean_dir, docs, chunk_size)
    clean = snapshot(clean_dir, chunk_size)
    return SoakResult(
        operations=operations,
        rounds=rounds,
        kills_planned=len(kill_rounds),
        kills_landed=landed,
        kill_points=kill_points,
        reindexes=reindexes,
        documents=len(clean["documents"]),
        chunks=len(clean["chunks"]),
        queries=len(QUERIES),
        seconds=round(time.perf_counter() - started, 1),
        differences=compare(incremental, clean),
        counts=counts,
    )
