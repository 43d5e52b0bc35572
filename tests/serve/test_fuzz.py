"""A schemathesis fuzz run of the server's OpenAPI schema, on loopback (slow tier).

Every operation gets ``FUZZ_EXAMPLES`` generated requests, valid and invalid
(hypothesis, seeded), with the key. What must hold for each: no 5xx, every error is
JSON in OpenAI's shape, and the store is unchanged by every refused write. The run
is bounded in examples per operation and in seconds overall; its last result is in
benchmarks/README.md.

    .venv/bin/pip install -e ".[fuzz]"   # schemathesis and hypothesis, pinned
    .venv/bin/python -m pytest -q -m slow tests/serve/test_fuzz.py -s
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from ragtune.project import Project
from ragtune.serve.server import BackgroundServer
from tests.serve.conftest import AUTH

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[fuzz]'")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = [pytest.mark.slow, pytest.mark.integration]

FUZZ_EXAMPLES = 200
FUZZ_SECONDS = 600.0
# Writes: when none of an operation's cases succeeded, the store must be as it was.
WRITES = {"POST /v1/documents", "DELETE /v1/documents/{doc_id}"}


def check_response(response: Any, label: str, failures: list[str]) -> None:
    status = response.status_code
    if status >= 500:
        failures.append(f"{label}: {status} {response.text[:200]}")
    elif status >= 400:
        try:
            error = response.json()["error"]
            assert {"message", "type", "code"} <= set(error)
        except Exception:  # not JSON, or not OpenAI's error shape
            failures.append(
                f"{label}: {status} error body is not OpenAI-style: {response.text[:200]}"
            )


def fuzz_operation(
    operation: Any, server: BackgroundServer, started: float, failures: list[str]
) -> dict[int, int]:
    """Run one operation's cases; the status codes seen, counted."""
    label = operation.label
    counts: dict[int, int] = {}
    modes = schemathesis.GenerationMode
    strategy = hypothesis.strategies.one_of(
        operation.as_strategy(modes.POSITIVE), operation.as_strategy(modes.NEGATIVE)
    )

    @hypothesis.settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy, arm=hypothesis.strategies.sampled_from(["base", "rag", None]))
    def run(case: Any, arm: str | None) -> None:
        if time.monotonic() - started > FUZZ_SECONDS:
            return
        if arm and label == "POST /v1/chat/completions" and isinstance(case.body, dict):
            case.body["model"] = arm  # a random model name would only ever be a 404
        try:
            response = case.call(base_url=server.url, headers=AUTH, timeout=60)
        except Exception as exc:  # the server reset the connection, or it hung
            failures.append(f"{label}: {type(exc).__name__}: {exc}")
            return
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
        check_response(response, label, failures)

    run()
    return counts


def test_fuzz_every_operation(server: BackgroundServer, project: Project) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json", headers=AUTH)
    failures: list[str] = []
    statuses: dict[str, dict[int, int]] = {}
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        hashes = project.store.document_hashes()
        counts = fuzz_operation(operation, server, started, failures)
        statuses[operation.label] = counts
        if operation.label in WRITES and not any(200 <= s < 300 for s in counts):
            assert project.store.document_hashes() == hashes, operation.label
    elapsed = time.monotonic() - started
    n_cases = sum(sum(c.values()) for c in statuses.values())
    print(f"\nfuzz: {n_cases} cases over {len(statuses)} operations in {elapsed:.0f} s")
    for label, counts in sorted(statuses.items()):
        print(f"  {label}: {dict(sorted(counts.items()))}")
    assert not failures, failures[:10]
    assert httpx.get(server.url + "/healthz").status_code == 200
    assert project.store.check().ok
