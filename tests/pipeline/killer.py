"""Run ``ragtune compare`` and SIGKILL it at a chosen stage: a real kill, at a known place.

    RAGTUNE_TEST_KILL_IN=evaluate python -m tests.pipeline.killer compare docs -p proj

The stage's work finishes (its files are on disk) and the process dies before the
stage's record is written: the worst moment for a resume to get wrong.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def install(stage: str) -> None:
    from ragtune.pipeline.stages import StageCache

    real_save = StageCache.save

    def save(self: StageCache, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_save(self, name, *args, **kwargs)

    StageCache.save = save  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get("RAGTUNE_TEST_KILL_IN"):
        install(os.environ["RAGTUNE_TEST_KILL_IN"])
    from ragtune.cli.main import app

    sys.argv = ["ragtune", *sys.argv[1:]]
    app()
