"""``/v1/documents``: add, replace, read and delete documents while the server runs.

The next question sees the change (the store is shared, and every write bumps its
generation so retrieval reloads). Writes need the API key (see :mod:`ragtune.serve.auth`)::

    curl -X POST localhost:8000/v1/documents -H "Authorization: Bearer $RAGTUNE_API_KEY" \\
         -H 'Content-Type: application/json' -d '{"documents": [{"id": "faq", "text": "..."}]}'
    curl -X POST localhost:8000/v1/documents -H "Authorization: Bearer $RAGTUNE_API_KEY" -F file=@guide.pdf
    curl -X DELETE localhost:8000/v1/documents/faq -H "Authorization: Bearer $RAGTUNE_API_KEY"

Every document, whichever way it comes, passes :func:`ragtune.serve.validation.check_document`
before anything is written. GET and DELETE take any id the store holds (one stored
before those checks existed included), so nothing stored is beyond reach. Writes run
one at a time (the store serialises them anyway), so a burst of uploads holds one
worker thread, not the whole pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ragtune.corpus.loaders.budget import LoadBudget
from ragtune.serve.errors import ApiError
from ragtune.serve.render import shown_source
from ragtune.serve.routes_chat import get_service
from ragtune.serve.schemas import UpsertRequest, check_document_id
from ragtune.serve.uploads import load_uploads, read_multipart
from ragtune.serve.validation import check_document, json_safe
from ragtune.types import Document

router = APIRouter(tags=["documents"])


def _known_id(doc_id: str, stored_ids: set[str]) -> str:
    """``doc_id`` if it is a valid id or one the store holds, else a 400."""
    if doc_id in stored_ids:
        return doc_id
    try:
        return check_document_id(doc_id)
    except ValueError as exc:
        raise ApiError(400, str(exc), code="invalid_document_id", param="id") from None


def _write_gate(request: Request) -> asyncio.Semaphore:
    state = request.app.state
    gate: asyncio.Semaphore | None = getattr(state, "write_gate", None)
    if gate is None:
        gate = state.write_gate = asyncio.Semaphore(1)
    return gate


@router.get("/v1/documents")
async def list_documents(request: Request) -> dict[str, Any]:
    """Every indexed document (no text): id, title, source, chunk count, content hash."""
    project = get_service(request).project
    records = await run_in_threadpool(project.store.list_documents)
    return json_safe(
        {
            "object": "list",
            "data": [
                {
                    "id": r.id,
                    "object": "document",
                    "title": r.title,
                    "source": shown_source(r.source, project.root, r.id),
                    "n_chunks": r.n_chunks,
                    "hash": r.content_hash,
                    "meta": r.meta,
                }
                for r in records
            ],
        }
    )


@router.get("/v1/documents/{doc_id:path}")
async def get_document(doc_id: str, request: Request) -> dict[str, Any]:
    """One document with its full (cleaned) text."""
    project = get_service(request).project
    document = await run_in_threadpool(project.store.get_document, doc_id)
    if document is None:
        _known_id(doc_id, set())  # a malformed id is a 400, a well-formed unknown one a 404
        raise ApiError(404, f"no document {doc_id!r}", code="document_not_found", param="id")
    body = {"object": "document", **document.to_dict(), "hash": document.hash}
    body["source"] = shown_source(document.source, project.root, document.id)
    return json_safe(body)


@router.delete("/v1/documents/{doc_id:path}")
async def delete_document(doc_id: str, request: Request) -> dict[str, Any]:
    """Delete one document and its chunks; 404 if there was none."""
    project = get_service(request).project
    async with _write_gate(request):
        stored = await run_in_threadpool(project.store.get_document, doc_id)
        _known_id(doc_id, {doc_id} if stored is not None else set())
        # Nothing to delete is a 404 that leaves the store byte for byte as it was (a
        # delete commits a transaction that bumps the generation and rewrites the cache).
        deleted = 0
        if stored is not None:
            deleted = await run_in_threadpool(project.delete_documents, [doc_id])
    if not deleted:
        raise ApiError(404, f"no document {doc_id!r}", code="document_not_found", param="id")
    return {"id": doc_id, "object": "document", "deleted": True}


# The body is parsed by hand (JSON or multipart); the schema still says what it takes.
_UPSERT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": UpsertRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "id": {"type": "string"},
                    },
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post("/v1/documents", openapi_extra=_UPSERT_BODY)
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
        for document in documents:
            try:
                check_document(document)
            except ValueError as exc:
                raise ApiError(400, str(exc), code="invalid_document") from None
    elif content_type == "multipart/form-data":
        uploads, doc_id = await read_multipart(request, service.max_upload_bytes)
        documents = await run_in_threadpool(
            load_uploads,
            uploads,
            service.project.state_dir,
            doc_id,
            LoadBudget.from_config(service.project.config.corpus),
        )
    else:
        raise ApiError(
            415,
            "send JSON (application/json) or files (multipart/form-data)",
            code="unsupported_media_type",
        )
    async with _write_gate(request):
        report = await run_in_threadpool(service.project.upsert_documents, documents)
    return {"object": "ingest_report", "ids": [d.id for d in documents], **report.to_dict()}
