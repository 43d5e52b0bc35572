"""The HTTP server: an OpenAI-compatible API over every arm, live document updates, a web page.

    ragtune serve --project acme-kb            # http://127.0.0.1:8000, page at /

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="<RAGTUNE_API_KEY>")
    client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "..."}])

Routes are thin layers over :class:`ragtune.project.Project` and the arms
(:mod:`ragtune.systems`); see ``app`` for how the parts fit, ``auth`` for the key
policy and ``batching`` for how concurrent questions share the model. FastAPI and
uvicorn are imported only here, never by ``import ragtune``; install them with
``pip install 'ragtune[serve]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    """Build the app; see :func:`ragtune.serve.app.create_app`."""
    from ragtune._lazy import require

    require("fastapi", "serve")
    from ragtune.serve.app import create_app as _create_app

    return _create_app(*args, **kwargs)
