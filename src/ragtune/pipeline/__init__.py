"""The comparison as one resumable pipeline of cached stages (``ragtune compare``).

from ragtune.pipeline import CompareOptions, run_compare
result = run_compare(project, CompareOptions([Path("docs")], qa=Path("qa.csv")))
"""

from __future__ import annotations

from ragtune.pipeline.compare import STAGES, CompareOptions, CompareResult, run_compare

__all__ = ["STAGES", "CompareOptions", "CompareResult", "run_compare"]
