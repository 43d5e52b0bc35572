"""Request bodies, validated with pydantic (a bad field is a 400 naming it).

Chat requests follow OpenAI's ``/v1/chat/completions`` shape and allow the fields
OpenAI clients send that ragtune does not use (``user``, ``presence_penalty``, ...)::

    ChatCompletionRequest(model="rag", messages=[{"role": "user", "content": "Who runs Oslo?"}])
    UpsertRequest(documents=[{"id": "faq/returns", "text": "Returns within 30 days."}])
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ragtune.serve.validation import check_document_id, check_meta, check_text

__all__ = ["ChatCompletionRequest", "DocumentIn", "UpsertRequest", "check_document_id"]

# OpenAI's limits: up to 4 stop sequences. A long stop string costs the model memory
# for every vocabulary entry (transformers' stop-string matcher), so each is bounded too.
MAX_STOP_STRINGS = 4
MAX_STOP_CHARS = 64
# torch.manual_seed takes a 64-bit value; OpenAI documents seed as an integer.
MAX_SEED = 2**63 - 1


class ChatMessageIn(BaseModel):
    """One message; ``content`` is a string or OpenAI's list of ``{"type": "text", ...}`` parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    @field_validator("content")
    @classmethod
    def _valid_unicode(
        cls, value: str | list[dict[str, Any]] | None
    ) -> str | list[dict[str, Any]] | None:
        if isinstance(value, str):
            check_text(value, "content")
        elif isinstance(value, list):
            for part in value:
                text = part.get("text")
                if isinstance(text, str):
                    check_text(text, "content")
        return value

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
    seed: int | None = Field(None, ge=-MAX_SEED - 1, le=MAX_SEED)
    n: int = Field(1, ge=1, le=1)
    stream_options: dict[str, Any] | None = None

    @field_validator("stop")
    @classmethod
    def _bounded_stop(cls, value: str | list[str] | None) -> str | list[str] | None:
        strings = [value] if isinstance(value, str) else value or []
        if len(strings) > MAX_STOP_STRINGS:
            raise ValueError(f"at most {MAX_STOP_STRINGS} stop strings (got {len(strings)})")
        for string in strings:
            if len(string) > MAX_STOP_CHARS:
                raise ValueError(f"each stop string is at most {MAX_STOP_CHARS} characters")
            check_text(string, "stop")
        return value

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
        return check_text(value, "text")

    @field_validator("title")
    @classmethod
    def _title_text(cls, value: str) -> str:
        return check_text(value, "title")

    @field_validator("meta")
    @classmethod
    def _json_meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = check_meta(value)
        return checked


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
