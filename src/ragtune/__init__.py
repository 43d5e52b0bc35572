"""ragtune: RAG, fine-tuning, or both, measured side by side on your own documents.

    from ragtune import Project
    project = Project.open("my-project")          # folder made by `ragtune init`
    project.ingest(["docs/"])                      # incremental: only changed files
    hits = project.search("warranty on the X200", k=5)

Heavy libraries (torch, transformers) load only when a model is used.
"""

from __future__ import annotations

from ragtune.types import Answer, Chunk, Citation, Document, Hit, IngestReport, QAExample

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "Hit",
    "IngestReport",
    "Project",
    "QAExample",
    "__version__",
]


def __getattr__(name: str) -> object:
    # Project pulls in the store and config; load it on first use only.
    if name == "Project":
        from ragtune.project import Project

        return Project
    raise AttributeError(name)
