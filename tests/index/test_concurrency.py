"""Two processes read while one writes: no errors, no torn reads, a consistent store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ragtune.project import Project
from tests.test_ingest import FAST

pytestmark = pytest.mark.integration

WRITER = textwrap.dedent(
    """
    import sys
    from ragtune.project import Project
    from ragtune.types import Document
    project = Project.open(sys.argv[1])
    for round in range(40):
        docs = [Document(id=f"d{i}", text=f"Round {round}: the D{i} unit costs {round * 100 + i} crowns. " * 20)
                for i in range(10)]
        project.upsert_documents(docs)
        if round % 5 == 4:
            project.delete_documents([f"d{round % 10}"])
    print("writer done")
    """
)

READER = textwrap.dedent(
    """
    import json, re, sys
    from ragtune.project import Project
    project = Project.open(sys.argv[1])
    searches = torn = 0
    for _ in range(150):
        rounds = {}
        for hit in project.search("D3 unit costs crowns", k=8):
            # every write replaces all chunks of a document at once: one search must
            # never see chunks of two versions (rounds) of the same document
            found = set(re.findall(r"Round (\\d+)", hit.chunk.text))
            rounds.setdefault(hit.chunk.doc_id, set()).update(found)
        torn += sum(len(r) > 1 for r in rounds.values())
        searches += 1
    print(json.dumps({"searches": searches, "torn": torn}))
    """
)


def test_readers_keep_reading_while_a_writer_writes(tmp_path: Path) -> None:
    from ragtune.types import Document

    project = Project.init(tmp_path / "proj", FAST)
    project.upsert_documents([Document(id="seed", text="The D3 unit costs 5 crowns.")])
    project.close()
    env_args = [str(tmp_path / "proj")]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, *env_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, *env_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    _w_out, w_err = writer.communicate(timeout=300)
    assert writer.returncode == 0, w_err
    for reader in readers:
        out, err = reader.communicate(timeout=300)
        assert reader.returncode == 0, err
        result = json.loads(out.strip().splitlines()[-1])
        assert result == {"searches": 150, "torn": 0}
    final = Project.open(tmp_path / "proj")
    report = final.check()
    assert report.ok, report.problems
    assert report.chunks == report.vectors
