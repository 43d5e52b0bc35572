"""Build an arm by name from a project: one generator in memory serves every arm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragtune.errors import ConfigError, RagtuneError
from ragtune.llm.base import GenerationParams
from ragtune.systems.base import System
from ragtune.systems.closed_book import ClosedBookSystem
from ragtune.systems.rag import RAGSystem

if TYPE_CHECKING:
    from ragtune.project import Project

ARMS = ("base", "rag", "ft", "ft+rag", "raft")
# Which fine-tuned adapter each arm uses (folders under .ragtune/adapters/).
ARM_ADAPTER = {"base": None, "rag": None, "ft": "qa", "ft+rag": "qa", "raft": "raft"}
RETRIEVES = {"rag", "ft+rag", "raft"}


def build_system(project: Project, arm: str) -> System:
    """The named arm over ``project``'s index and generator.

    >>> build_system(Project.open(), "rag").answer("Who runs the Oslo office?")  # doctest: +SKIP
    """
    if arm not in ARMS:
        raise ConfigError(f"unknown arm {arm!r}; choose one of: {', '.join(ARMS)}")
    adapter = ARM_ADAPTER[arm]
    if adapter is not None and adapter not in project.available_adapters():
        raise RagtuneError(
            f"arm {arm!r} needs the fine-tuned {adapter!r} adapter, which this project does not have yet; "
            f"run: ragtune synth && ragtune tune --mode {adapter}"
        )
    llm = project.config.llm
    params = GenerationParams(max_new_tokens=llm.max_new_tokens, temperature=llm.temperature)
    generator = project.generator
    if arm in RETRIEVES:
        retriever = project.retriever()
        return RAGSystem(
            retriever,
            generator,
            top_k=project.config.retrieve.top_k,
            params=params,
            adapter=adapter,
            arm=arm,
        )
    return ClosedBookSystem(generator, params=params, adapter=adapter, arm=arm)
