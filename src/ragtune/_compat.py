"""Upstream noise that ragtune's users can do nothing about."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_upstream_deprecations() -> Iterator[None]:
    """Hide transformers 5's deprecation of ``is_gradient_checkpointing``, which PEFT and
    TRL still read when they wrap a model: it is not the user's to fix, so it should not
    fill their terminal."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*gradient_checkpointing.*deprecated", FutureWarning)
        yield
