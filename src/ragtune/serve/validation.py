"""What the server checks and shows of documents: the document checks (one set for
every way a document enters, defined in :mod:`ragtune.corpus.validation` so that
``ragtune ingest`` runs them too, and re-exported here), JSON-safe listings and
sources without absolute server paths::

    check_document(Document(id="a", text="x", meta={"lang": "de"}))   # ValueError if not
    json_safe({"k": "a\\ud800b"})                                      # {'k': 'a\\ufffdb'}
    display_source("/srv/kb/guides/x.md", Path("/home/u/proj"), "guides/x.md")  # 'kb/guides/x.md'

Nothing here imports FastAPI.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ragtune.corpus.validation import (
    LONE_SURROGATE,
    MAX_ID_CHARS,
    MAX_META_DEPTH,
    MAX_META_KEYS,
    MAX_META_STRING_CHARS,
    MAX_TITLE_CHARS,
    check_document,
    check_document_id,
    check_meta,
    check_text,
)

__all__ = [
    "MAX_ID_CHARS",
    "MAX_META_DEPTH",
    "MAX_META_KEYS",
    "MAX_META_STRING_CHARS",
    "MAX_TITLE_CHARS",
    "check_document",
    "check_document_id",
    "check_meta",
    "check_text",
    "display_source",
    "json_safe",
]


def json_safe(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD, so it encodes as UTF-8 JSON
    (for records stored before these checks existed).

    >>> json_safe({"k": "a\\ud800b"})
    {'k': 'a\\ufffdb'}
    """
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def display_source(source: str, root: Path, doc_id: str | None = None) -> str:
    """``source`` as a client may see it: never an absolute server path.

    A path inside the project is shown relative to it; a path elsewhere as the ingested
    folder's name plus the document id (ids are paths relative to that folder), or else
    its file name. Anything that is not an absolute path (``upload:x.md``, ``api:faq``)
    is shown as it is.

    >>> display_source("/srv/kb/guides/x.md", Path("/home/u/proj"), "guides/x.md")
    'kb/guides/x.md'
    >>> display_source("/home/u/proj/docs/a.md", Path("/home/u/proj"))
    'docs/a.md'
    """
    if not source:
        return source
    path_part, hash_sign, fragment = source.partition("#")
    path = Path(path_part)
    if not path.is_absolute():
        return source
    suffix = hash_sign + fragment
    try:
        return path.relative_to(root.resolve()).as_posix() + suffix
    except ValueError:
        pass
    try:
        return path.relative_to(root).as_posix() + suffix
    except ValueError:
        pass
    if doc_id:
        plain_id = doc_id.partition("#")[0]
        if plain_id and path.as_posix().endswith("/" + plain_id):
            ingested_root = Path(path.as_posix()[: -len(plain_id) - 1])
            return f"{ingested_root.name}/{plain_id}{suffix}" if ingested_root.name else plain_id
    return path.name + suffix
