"""Uploaded files to ``Document``s: size-limited, type-checked, loaded by ragtune's loaders.

A file is accepted only if its extension is one ragtune loads and its bytes look like
that type (a PDF starts with ``%PDF-``, a DOCX is a zip holding ``word/document.xml``,
text formats hold no binary signature or NUL bytes). It is then written to a private
temporary folder inside the project (``.ragtune/uploads/``), loaded with
:func:`ragtune.corpus.loaders.load_file`, and removed. Every document it yields (a
JSONL file yields many) must pass :func:`ragtune.serve.validation.check_document`.
Every file of a request must load, or nothing is written::

    uploads, doc_id = await read_multipart(request, max_bytes=20 * 2**20)
    documents = load_uploads(uploads, project.state_dir)   # ids are the file names
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request

from ragtune.corpus.loaders import load_file
from ragtune.corpus.loaders.base import bomless_utf16
from ragtune.corpus.loaders.budget import LoadBudget
from ragtune.serve.errors import ApiError
from ragtune.serve.validation import check_document, check_document_id
from ragtune.types import Document

TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".jsonl"})
BINARY_EXTENSIONS = frozenset({".pdf", ".docx"})
ALLOWED_EXTENSIONS = TEXT_EXTENSIONS | BINARY_EXTENSIONS
MAX_FILES = 64
# Signatures of binary formats that must not pass as text.
_BINARY_MAGIC = (
    b"%PDF-",
    b"PK\x03\x04",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"\x7fELF",
    b"MZ",
    b"\x1f\x8b",
    b"BZh",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xd0\xcf\x11\xe0",
)


@dataclass
class Upload:
    """One uploaded file: its plain name and bytes."""

    filename: str
    data: bytes

    @property
    def extension(self) -> str:
        return Path(self.filename).suffix.lower()


def check_filename(filename: str | None) -> str:
    """A plain file name with a supported extension, else a 400/415."""
    name = (filename or "").strip()
    if not name:
        raise ApiError(400, "an uploaded file has no file name", code="invalid_file_name")
    try:
        check_document_id(name)
    except ValueError as exc:
        raise ApiError(400, f"file name: {exc}", code="invalid_file_name") from None
    if "/" in name or name.startswith("."):
        raise ApiError(
            400,
            f"file name {name!r} must be a plain name (no folders, not hidden)",
            code="invalid_file_name",
        )
    extension = Path(name).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise ApiError(
            415,
            f"{name}: unsupported file type {extension or '(none)'} (allowed: {allowed})",
            code="unsupported_file_type",
        )
    return name


def sniff_problem(upload: Upload) -> str | None:
    """Why the bytes do not look like the extension says, or None.

    >>> sniff_problem(Upload("a.pdf", b"hello"))
    'a.pdf: not a PDF (no %PDF- header)'
    """
    data, ext, name = upload.data, upload.extension, upload.filename
    if not data:
        return f"{name}: empty file"
    if ext == ".pdf":
        return None if b"%PDF-" in data[:1024] else f"{name}: not a PDF (no %PDF- header)"
    if ext == ".docx":
        if not data.startswith(b"PK\x03\x04"):
            return f"{name}: not a DOCX (not a zip archive)"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return f"{name}: not a DOCX (damaged zip archive)"
        return (
            None if "word/document.xml" in names else f"{name}: not a DOCX (no word/document.xml)"
        )
    head = data[:8192]
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not _utf16(data)):
        return f"{name}: binary content, not {ext.lstrip('.')} text"
    return None


def _utf16(data: bytes) -> bool:
    """UTF-16 text, with a BOM or without one (as the loaders tell it: zero bytes)."""
    return data.startswith((b"\xff\xfe", b"\xfe\xff")) or bomless_utf16(data) is not None


async def read_multipart(request: Request, max_bytes: int) -> tuple[list[Upload], str | None]:
    """The uploaded files (each checked for name, size and type) and the optional ``id`` field."""
    async with request.form(max_files=MAX_FILES, max_fields=16) as form:
        uploads: list[Upload] = []
        doc_id: str | None = None
        for field, value in form.multi_items():
            if isinstance(value, UploadFile):
                name = check_filename(value.filename)
                data = await value.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise ApiError(
                        413,
                        f"{name}: larger than {max_bytes / 2**20:.1f} MB (serve.max_upload_mb)",
                        code="file_too_large",
                    )
                upload = Upload(name, data)
                problem = sniff_problem(upload)
                if problem:
                    raise ApiError(415, problem, code="content_type_mismatch")
                uploads.append(upload)
            elif field == "id" and value.strip():
                doc_id = value.strip()
    if not uploads:
        raise ApiError(
            400, "no file in the upload (send it in a form field named 'file')", code="no_file"
        )
    names = [u.filename for u in uploads]
    if len(set(names)) != len(names):
        raise ApiError(400, "two uploaded files have the same name", code="duplicate_file_name")
    if doc_id is not None:
        try:
            check_document_id(doc_id)
        except ValueError as exc:
            raise ApiError(400, str(exc), code="invalid_document_id", param="id") from None
        if len(uploads) != 1 or uploads[0].extension == ".jsonl":
            raise ApiError(400, "'id' names the document of a single non-JSONL file", param="id")
    return uploads, doc_id


def load_uploads(
    uploads: list[Upload],
    state_dir: Path,
    doc_id: str | None = None,
    budget: LoadBudget | None = None,
) -> list[Document]:
    """Load every upload into documents (ids are file names), or raise a 422 naming each
    problem. Each file loads within ``budget`` (the project's ``corpus.max_*`` settings,
    as ``ragtune ingest`` uses), so an upload over it is refused like a folder file is
    skipped."""
    scratch = state_dir / "uploads"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=scratch))
    try:
        documents: list[Document] = []
        problems: list[str] = []
        for upload in uploads:
            path = folder / upload.filename
            path.write_bytes(upload.data)
            result = load_file(path, root=folder, budget=budget)
            problems += [f"{upload.filename}: {e.reason}" for e in result.errors]
            for document in result.documents:
                document.source = f"upload:{upload.filename}"
                if doc_id is not None:
                    document.id = doc_id
                documents.append(document)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for document in documents:
        try:
            check_document(document)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ApiError(
            422, "nothing was written; " + "; ".join(problems[:20]), code="unreadable_document"
        )
    if not documents:
        raise ApiError(422, "the upload holds no documents", code="unreadable_document")
    return documents
