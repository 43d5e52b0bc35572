"""Request bodies, validated with pydantic (a bad field is a 400 naming it).

Chat requests follow OpenAI's ``/v1/chat/completions`` shape and allow the fields
OpenAI clients send that ragtune does not use (``user``, ``presence_penalty``, ...)::

    ChatCompletionRequest(model="rag", messages=[{"role": "user", "content": "Who runs Oslo?"}])
    UpsertRequest(documents=[{"id": "faq/returns", "text": "Returns within 30 days."}])
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ID_CHARS = 512


def check_document_id(doc_id: str) -> str:
    """A document id is a name, never a path out of anywhere: no ``..`` or ``.`` segment,
    no leading ``/``, no backslash, no control characters, at most 512 characters.

    >>> check_document_id("guides/x200.md")
    'guides/x200.md'
    >>> check_document_id("../etc/passwd")
    Traceback (most recent call last):
    ValueError: document id '../etc/passwd' may not contain '.' or '..' path segments
    """
    if not doc_id or not doc_id.strip():
        raise ValueError("document id is empty")
    if len(doc_id) > MAX_ID_CHARS:
        raise ValueError(f"document id is longer than {MAX_ID_CHARS} characters")
    if _CONTROL.search(doc_id):
        raise ValueError("document id contains control characters")
    if "\\" in doc_id:
        raise ValueError(f"document id {doc_id!r} may not contain a backslash")
    if doc_id.startswith("/"):
        raise ValueError(f"document id {doc_id!r} may not start with '/'")
    if any(part in (".", "..") for part in re.split(r"[/#]", doc_id)):
        raise ValueError(f"document id {doc_id!r} may not contain '.' or '..' path segments")
    return doc_id


class ChatMessageIn(BaseModel):
    """One message; ``content`` is a string or OpenAI's list of ``{"type": "text", ...}`` parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(
                str(p.get("text", "")) for p in self.content if p.get("type") == "text"
            )
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request. ``model`` names an arm or alias; ``n`` must be 1."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(None, ge=1, le=8192)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(1, ge=1, le=1)
    stream_options: dict[str, Any] | None = None

    def question(self) -> str:
        """The last user message (earlier turns and system messages are not used)."""
        for message in reversed(self.messages):
            if message.role == "user" and message.text().strip():
                return message.text().strip()
        raise ValueError(
            "messages: no user message with text; the question is the last user message"
        )

    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class DocumentIn(BaseModel):
    """A document given as text: ``{"id", "text", "title"?, "meta"?}``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = Field(min_length=1)
    title: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        return check_document_id(value)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value


class UpsertRequest(BaseModel):
    """``POST /v1/documents`` as JSON: one or many documents, ids unique."""

    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1, max_length=10_000)

    @field_validator("documents")
    @classmethod
    def _unique_ids(cls, value: list[DocumentIn]) -> list[DocumentIn]:
        seen: set[str] = set()
        for doc in value:
            if doc.id in seen:
                raise ValueError(f"document id {doc.id!r} appears twice")
            seen.add(doc.id)
        return value
