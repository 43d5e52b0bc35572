"""Build an arm by name from its registered :class:`~ragtune.arms.ArmSpec`: one generator
in memory serves every arm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragtune.errors import RagtuneError
from ragtune.llm.base import GenerationParams, Generator
from ragtune.registry import arms
from ragtune.systems.base import System
from ragtune.systems.closed_book import ClosedBookSystem
from ragtune.systems.rag import RAGSystem

if TYPE_CHECKING:
    from ragtune.project import Project


def build_system(project: Project, arm: str, generator: Generator | None = None) -> System:
    """The named arm over ``project``'s index and generator (or ``generator``, e.g. the
    project's behind its answer cache).

    >>> build_system(Project.open(), "rag").answer("Who runs the Oslo office?")  # doctest: +SKIP
    """
    spec = arms.get(arm)
    adapter = spec.adapter
    if adapter is not None and adapter not in project.available_adapters():
        raise RagtuneError(
            f"arm {arm!r} needs the fine-tuned {adapter!r} adapter, which this project does not have yet; "
            f"run: ragtune synth && ragtune tune --mode {adapter}"
        )
    llm = project.config.llm
    params = GenerationParams(max_new_tokens=llm.max_new_tokens, temperature=llm.temperature)
    generator = generator or project.generator
    if spec.retrieves:
        retriever = project.retriever()
        return RAGSystem(
            retriever,
            generator,
            top_k=project.config.retrieve.top_k,
            params=params,
            adapter=adapter,
            arm=arm,
        )
    domain = project.config.project.domain
    return ClosedBookSystem(generator, params=params, adapter=adapter, arm=arm, domain=domain)
