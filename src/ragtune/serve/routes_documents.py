"""``/v1/documents``: add, replace, read and delete documents while the server runs.

The next question sees the change (the store is shared, and every write bumps its
generation so retrieval reloads). Writes need the API key (see :mod:`ragtune.serve.auth`)::

    curl -X POST localhost:8000/v1/documents -H "Authorization: Bearer $RAGTUNE_API_KEY" \\
         -H 'Content-Type: application/json' -d '{"documents": [{"id": "faq", "text": "..."}]}'
    curl -X POST localhost:8000/v1/documents -H "Authorization: Bearer $RAGTUNE_API_KEY" -F file=@guide.pdf
    curl -X DELETE localhost:8000/v1/documents/faq -H "Authorization: Bearer $RAGTUNE_API_KEY"
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ragtune.serve.errors import ApiError
from ragtune.serve.routes_chat import get_service
from ragtune.serve.schemas import UpsertRequest, check_document_id
from ragtune.serve.uploads import load_uploads, read_multipart
from ragtune.types import Document

router = APIRouter(tags=["documents"])


def _checked_id(doc_id: str) -> str:
    try:
        return check_document_id(doc_id)
    except ValueError as exc:
        raise ApiError(400, str(exc), code="invalid_document_id", param="id") from None


@router.get("/v1/documents")
async def list_documents(request: Request) -> dict[str, Any]:
    """Every indexed document (no text): id, title, source, chunk count, content hash."""
    project = get_service(request).project
    records = await run_in_threadpool(project.store.list_documents)
    return {
        "object": "list",
        "data": [
            {
                "id": r.id,
                "object": "document",
                "title": r.title,
                "source": r.source,
                "n_chunks": r.n_chunks,
                "hash": r.content_hash,
                "meta": r.meta,
            }
            for r in records
        ],
    }


@router.get("/v1/documents/{doc_id:path}")
async def get_document(doc_id: str, request: Request) -> dict[str, Any]:
    """One document with its full (cleaned) text."""
    doc_id = _checked_id(doc_id)
    document = await run_in_threadpool(get_service(request).project.store.get_document, doc_id)
    if document is None:
        raise ApiError(404, f"no document {doc_id!r}", code="document_not_found", param="id")
    return {"object": "document", **document.to_dict(), "hash": document.hash}


@router.delete("/v1/documents/{doc_id:path}")
async def delete_document(doc_id: str, request: Request) -> dict[str, Any]:
    """Delete one document and its chunks; 404 if there was none."""
    doc_id = _checked_id(doc_id)
    deleted = await run_in_threadpool(get_service(request).project.delete_documents, [doc_id])
    if not deleted:
        raise ApiError(404, f"no document {doc_id!r}", code="document_not_found", param="id")
    return {"id": doc_id, "object": "document", "deleted": True}


@router.post("/v1/documents")
async def upsert_documents(request: Request) -> dict[str, Any]:
    """Add or replace documents: JSON ``{"documents": [{id, text, title?, meta?}]}``, or a
    multipart upload of txt/md/html/pdf/docx/jsonl files (field name ``file`` or ``files``;
    an optional ``id`` field names a single uploaded document)."""
    service = get_service(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            payload = UpsertRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        documents = [
            Document(id=d.id, text=d.text, title=d.title, meta=d.meta, source=f"api:{d.id}")
            for d in payload.documents
        ]
    elif content_type == "multipart/form-data":
        uploads, doc_id = await read_multipart(request, service.max_upload_bytes)
        documents = await run_in_threadpool(
            load_uploads, uploads, service.project.state_dir, doc_id
        )
    else:
        raise ApiError(
            415,
            "send JSON (application/json) or files (multipart/form-data)",
            code="unsupported_media_type",
        )
    report = await run_in_threadpool(service.project.upsert_documents, documents)
    return {"object": "ingest_report", "ids": [d.id for d in documents], **report.to_dict()}
