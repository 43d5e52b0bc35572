"""Import heavy optional libraries on first use, with an actionable message if missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from ragtune.errors import BackendUnavailableError


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or explain which ragtune extra installs it.

    >>> np = require("numpy", "core")
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"{module} is not installed; run: pip install 'ragtune[{extra}]' ({exc})"
        ) from exc
