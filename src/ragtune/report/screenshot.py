"""Render a report page to PNG with headless Chromium (Debian's ``chromium``).

shot = screenshot(Path(".ragtune/runs/report.html"), Path("report.png"))  # None if no chromium
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# Headless, offline: without the background-networking flags Chromium keeps trying
# (and failing) to reach Google's services on a closed network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html: Path, out: Path, height: int = 2400, timeout_s: float = 180) -> Path | None:
    """Write a 1280-wide PNG of ``html`` to ``out``; ``None`` when Chromium is not installed."""
    chromium = find_chromium()
    if chromium is None:
        return None
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            "--hide-scrollbars",
            f"--screenshot={out}",
            f"--window-size=1280,{height}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=timeout_s,
    )
    return out
