"""Write a demo corpus folder: ``docs/`` (the documents), ``qa.jsonl``, ``manifest.json``, ``changes.jsonl``.

Document ids are paths relative to ``docs/``, which is the folder to ingest:
``ragtune ingest demo-v1/docs``. The ground truth beside it is not a document.

>>> from pathlib import Path
>>> info = write_demo_corpus(Path("demo-v1"), version=1, seed=0)  # doctest: +SKIP
>>> info.by_format                                                # doctest: +SKIP
{'docx': 22, 'html': 30, 'md': 46, 'pdf': 25, 'txt': 47}
>>> write_demo_corpus(Path("demo-v1"), version=2)  # replaces v1 in place   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ragtune.demo.corpus import DemoCorpus, build_corpus
from ragtune.demo.document import DemoDoc
from ragtune.demo.records import CHANGES_FILE, MANIFEST_FILE, QA_FILE, dump_jsonl
from ragtune.demo.render_docx import render_docx
from ragtune.demo.render_html import render_html
from ragtune.demo.render_pdf import render_pdf
from ragtune.demo.render_text import render_markdown, render_text
from ragtune.errors import RagtuneError

GENERATOR = "ragtune.demo"

RENDERERS: dict[str, Callable[[DemoDoc, str], bytes]] = {
    "md": render_markdown,
    "txt": render_text,
    "html": render_html,
    "pdf": render_pdf,
    "docx": render_docx,
}


DOCS_DIR = "docs"


class DemoCorpusError(RagtuneError):
    """The output folder cannot hold a demo corpus (not empty and not a previous one)."""


@dataclass
class DemoCorpusInfo:
    """What :func:`write_demo_corpus` wrote."""

    out: Path
    version: int
    seed: int
    n_documents: int
    n_facts: int
    n_questions: int
    by_format: dict[str, int] = field(default_factory=dict)
    company: str = ""
    n_changed_facts: int = 0

    @property
    def docs_dir(self) -> Path:
        """The documents alone (what to ingest); ground truth sits beside it in ``out``."""
        return self.out / DOCS_DIR

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        data["docs_dir"] = str(self.docs_dir)
        return data


def _is_demo_corpus(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("generator") == GENERATOR


def _prepare(out: Path) -> None:
    """Make ``out`` an empty folder, refusing to clear anything but a previous demo corpus."""
    if out.exists() and not out.is_dir():
        raise DemoCorpusError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not _is_demo_corpus(out):
            raise DemoCorpusError(
                f"{out}: folder is not empty and is not a ragtune demo corpus (no "
                f"{MANIFEST_FILE} from {GENERATOR}); choose a new or empty folder"
            )
        for entry in out.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _manifest(corpus: DemoCorpus, version: int, seed: int, hashes: dict[str, str]) -> dict:
    by_format = Counter(doc.fmt for doc in corpus.docs)
    manifest: dict[str, Any] = {
        "generator": GENERATOR,
        "version": version,
        "seed": seed,
        "company": corpus.world.company,
        "as_of": corpus.world.as_of.isoformat(),
        "n_documents": len(corpus.docs),
        "by_format": dict(sorted(by_format.items())),
        "n_facts": corpus.n_facts,
        "n_questions": len(corpus.qa),
        "phrasings": sorted({q.phrasing for q in corpus.qa}),
        # Not documents: leave these out when ingesting the folder.
        "metadata_files": [MANIFEST_FILE, QA_FILE] + ([CHANGES_FILE] if version == 2 else []),
    }
    if version == 2:
        manifest |= {
            "n_changed_facts": len(corpus.changes),
            "documents_added": corpus.added,
            "documents_removed": corpus.removed,
            "documents_changed": corpus.changed,
        }
    manifest["documents"] = hashes
    return manifest


def write_demo_corpus(out: Path | str, version: int = 1, seed: int = 0) -> DemoCorpusInfo:
    """Write version ``version`` (1 or 2) of the fictional demo domain for ``seed`` into ``out``.

    The same seed and version always give byte-identical files; documents whose facts
    did not change are byte-identical between versions 1 and 2. Writing over an
    earlier demo corpus replaces it entirely; any other non-empty folder is refused
    with :class:`DemoCorpusError`.

    >>> info = write_demo_corpus(Path("demo"), version=1, seed=0)  # doctest: +SKIP
    >>> info.n_documents, info.n_facts, info.n_questions          # doctest: +SKIP
    (170, 178, 712)
    """
    if version not in (1, 2):
        raise DemoCorpusError(f"version must be 1 or 2, got {version}")
    out = Path(out)
    corpus = build_corpus(version=version, seed=seed)
    company = corpus.world.company
    rendered = {doc.doc_id: RENDERERS[doc.fmt](doc, company) for doc in corpus.docs}

    _prepare(out)
    hashes = {}
    for doc_id, data in rendered.items():
        path = out / DOCS_DIR / doc_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        hashes[doc_id] = hashlib.sha256(data).hexdigest()
    dump_jsonl(out / QA_FILE, (q.to_dict() for q in corpus.qa))
    if version == 2:
        dump_jsonl(out / CHANGES_FILE, (c.to_dict() for c in corpus.changes))
    manifest = _manifest(corpus, version, seed, hashes)
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return DemoCorpusInfo(
        out=out,
        version=version,
        seed=seed,
        n_documents=manifest["n_documents"],
        n_facts=manifest["n_facts"],
        n_questions=manifest["n_questions"],
        by_format=manifest["by_format"],
        company=company,
        n_changed_facts=len(corpus.changes),
    )
