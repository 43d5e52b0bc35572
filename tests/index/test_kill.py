"""A real SIGKILL during ingestion leaves a consistent store; the next run finishes the job."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_ingest import FAST, write_docs

pytestmark = pytest.mark.integration


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragtune.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def ingest_process(project: Path, docs: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "RAGTUNE_EMBED__BACKEND": "hash", "RAGTUNE_CORPUS__TOKENIZER": "words"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ragtune.cli.main",
            "ingest",
            str(docs),
            "--project",
            str(project),
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def documents_done(project: Path) -> int:
    db_path = project / ".ragtune" / "store" / "store.sqlite"
    if not db_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


N_DOCS = 1500


@pytest.mark.parametrize("kill_at_share", [0.1, 0.4, 0.7])
def test_sigkill_mid_ingest_then_resume(tmp_path: Path, kill_at_share: float) -> None:
    from ragtune.project import Project

    docs = tmp_path / "docs"
    write_docs(docs, N_DOCS)
    project_dir = tmp_path / "proj"
    Project.init(project_dir, FAST)

    proc = ingest_process(project_dir, docs)
    deadline = time.monotonic() + 300
    while documents_done(project_dir) < kill_at_share * N_DOCS:
        if proc.poll() is not None:
            out, err = proc.communicate()
            assert proc.returncode == 0, f"ingest died on its own: {err}"
            pytest.fail(
                f"ingest finished before {kill_at_share:.0%} could be observed: {out[:200]}"
            )
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    check = run_cli("index", "check", "--project", str(project_dir), "--json", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    partial = json.loads(check.stdout)
    assert partial["ok"] and partial["problems"] == []
    assert partial["chunks"] == partial["vectors"]

    resumed = ingest_process(project_dir, docs)
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    report = json.loads(out)
    assert report["added"] + report["unchanged"] == N_DOCS
    assert report["unchanged"] == partial["documents"]  # nothing done twice
    assert report["failed"] == 0

    final = json.loads(
        run_cli("index", "check", "--project", str(project_dir), "--json", cwd=tmp_path).stdout
    )
    assert final["ok"] and final["documents"] == N_DOCS and final["chunks"] == final["vectors"]


def test_sigkill_during_reindex_keeps_serving_the_old_index_then_finishes(tmp_path: Path) -> None:
    """Changing chunking rebuilds into a sibling folder; a kill there leaves the old index intact."""
    from ragtune.project import Project

    docs = tmp_path / "docs"
    write_docs(docs, N_DOCS)
    project_dir = tmp_path / "proj"
    project = Project.init(project_dir, FAST)
    project.ingest([docs])
    project.close()

    env = {
        **os.environ,
        "RAGTUNE_EMBED__BACKEND": "hash",
        "RAGTUNE_CORPUS__TOKENIZER": "words",
        "RAGTUNE_CORPUS__CHUNK_SIZE_TOKENS": "48",
    }
    cmd = [
        sys.executable,
        "-m",
        "ragtune.cli.main",
        "ingest",
        str(docs),
        "--project",
        str(project_dir),
        "--json",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sibling = project_dir / ".ragtune" / "store.next" / "store.sqlite"
    deadline = time.monotonic() + 300
    while True:
        done = 0
        if sibling.exists():
            try:
                with sqlite3.connect(f"file:{sibling}?mode=ro", uri=True, timeout=1) as db:
                    done = int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
            except sqlite3.OperationalError:
                done = 0
        if done >= N_DOCS // 3:
            break
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    old = Project.open(project_dir, FAST)
    assert old.check().ok and len(old.store.document_hashes()) == N_DOCS
    assert old.search("P7 kilograms", k=1)[0].chunk.doc_id == "p7.md"  # still serving
    old.close()

    finished = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["reindexed"] and report["unchanged"] == N_DOCS
    new = Project.open(project_dir, {**FAST, "corpus": {**FAST["corpus"], "chunk_size_tokens": 48}})
    assert new.check().ok and len(new.store.document_hashes()) == N_DOCS
    assert not (project_dir / ".ragtune" / "store.next").exists()
