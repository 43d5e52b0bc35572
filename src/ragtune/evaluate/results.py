"""Typed results that cross from the experiment to the report and the CLI.

The report renders these and nothing else of the experiment: it never imports
``ragtune.experiment``. A recommendation is made there and handed to the report::

    rec = recommend_latest(project.runs_dir, project.config.recommend)
    write_report(project.runs_dir, rec)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Recommendation:
    """The chosen arm with the numbers behind it and what would change it (``--json``)."""

    arm: str | None
    constraints: dict[str, Any]
    tier: list[str]
    excluded: dict[str, str]
    profiles: dict[str, dict[str, Any]]
    costs: dict[str, dict[str, Any]]
    explanation: list[str]
    what_would_change: list[str]
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
