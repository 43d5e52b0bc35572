"""What an arm is, said once: an :class:`ArmSpec` registered by name.

An arm is a way of answering questions about the documents. Its spec says whether it
retrieves passages, which fine-tuned adapter it needs (and so how that adapter is
trained: the adapter's name is its ``ragtune tune --mode``), and where it sits in
tables. Systems, evaluation, freshness, costs, the report, the CLI and the server all
read the spec; nothing else names arms. A new arm is one registration::

    from ragtune.arms import ArmSpec
    from ragtune.registry import arms

    arms.register(ArmSpec("raft-closed", retrieves=False, adapter="raft", order=60,
                          description="the RAFT adapter without retrieval"))

The five built-ins (``base``, ``rag``, ``ft``, ``ft+rag``, ``raft``) are registered in
:mod:`ragtune.registry`, through the same door.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ragtune.errors import ConfigError
from ragtune.plugins import load_plugins

# A plot colour for arms that do not name one, picked from the name (stable across runs).
_FALLBACK_COLORS = ("#c2417a", "#4aa3b5", "#a58a1a", "#5a5a5a")


@dataclass(frozen=True)
class ArmSpec:
    """One arm: its name, whether it retrieves, the adapter it needs, its display order.

    >>> ArmSpec("ft", retrieves=False, adapter="qa").closed_book
    True
    """

    name: str
    retrieves: bool
    adapter: str | None = None
    order: int = 100
    description: str = ""
    color: str | None = None

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() for c in self.name):
            raise ConfigError(f"arm name must be a non-empty word (got {self.name!r})")

    def to_dict(self) -> dict[str, object]:
        """What a run file records of the arm, so reports need not know the registry."""
        return {"retrieves": self.retrieves, "adapter": self.adapter, "order": self.order}

    @classmethod
    def from_dict(cls, name: str, data: dict[str, object]) -> ArmSpec:
        adapter = data.get("adapter")
        order = data.get("order", 100)
        return cls(
            name,
            retrieves=bool(data.get("retrieves")),
            adapter=str(adapter) if adapter else None,
            order=int(order) if isinstance(order, int | float) else 100,
        )

    @property
    def closed_book(self) -> bool:
        """Answers from the model's weights only, with no passages in the prompt."""
        return not self.retrieves

    @property
    def fine_tuned(self) -> bool:
        return self.adapter is not None

    @property
    def learns_documents(self) -> bool:
        """Whether the documents reach this arm at all (by retrieval or by training):
        an arm that does neither (``base``) never becomes fresh after an update."""
        return self.retrieves or self.fine_tuned


class ArmRegistry:
    """The registered arms, in display order (``order``, then name)."""

    kind = "arm"

    def __init__(self) -> None:
        self._specs: dict[str, ArmSpec] = {}

    def register(self, spec: ArmSpec) -> ArmSpec:
        """Add (or replace) ``spec`` under ``spec.name``."""
        self._specs[spec.name] = spec
        return spec

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)

    def _load(self) -> None:
        load_plugins()

    def specs(self) -> list[ArmSpec]:
        self._load()
        return sorted(self._specs.values(), key=lambda s: (s.order, s.name))

    def names(self) -> list[str]:
        return [s.name for s in self.specs()]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._specs

    def get(self, name: str) -> ArmSpec:
        self._load()
        try:
            return self._specs[name]
        except KeyError:
            raise ConfigError(
                f"unknown arm {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def find(self, name: str) -> ArmSpec | None:
        """The spec of ``name``, or ``None`` for an arm that is not registered (say, one
        read from an old run file)."""
        self._load()
        return self._specs.get(name)

    def recorded(self, name: str, summary: dict[str, object] | None = None) -> ArmSpec:
        """The spec of an arm read from a run file: the one recorded in its summary
        (``summary["spec"]``) when there is one, else the registered one. An arm that is
        neither recorded nor registered is an error naming it, never a silent default."""
        recorded = (summary or {}).get("spec")
        if isinstance(recorded, dict):
            return ArmSpec.from_dict(name, recorded)
        spec = self.find(name)
        if spec is None:
            raise ConfigError(
                f"arm {name!r} in this run file is not registered and the run does not "
                "record what it is; register its ArmSpec (ragtune.registry.arms) to read it"
            )
        return spec

    def check(self, names: Iterable[str]) -> list[str]:
        """``names`` as a list, or a ConfigError naming the unknown ones."""
        names = list(names)
        unknown = [n for n in names if n not in self]
        if unknown:
            raise ConfigError(
                f"unknown arm(s) {', '.join(unknown)}; choose from: {', '.join(self.names())}"
            )
        return names

    def ordered(self, names: Iterable[str]) -> list[str]:
        """``names`` in display order; names not registered go last, as given."""
        given = list(dict.fromkeys(names))
        known = [n for n in self.names() if n in given]
        return known + [n for n in given if n not in known]

    def adapters_for(self, names: Sequence[str]) -> list[str]:
        """The adapters ``names`` need, each once, in training order (the display order of
        the first arm that needs it): ``["qa", "raft"]`` for the five built-in arms."""
        wanted = set(names)
        out: list[str] = []
        for spec in self.specs():
            if spec.name in wanted and spec.adapter and spec.adapter not in out:
                out.append(spec.adapter)
        return out

    def arm_for_adapter(self, adapter: str) -> str | None:
        """The first arm (display order) that uses ``adapter``, preferring closed book:
        ``ft`` for ``qa``, ``raft`` for ``raft``."""
        using = [s for s in self.specs() if s.adapter == adapter]
        using.sort(key=lambda s: not s.closed_book)
        return using[0].name if using else None

    def color(self, name: str) -> str:
        spec = self.find(name)
        if spec is not None and spec.color:
            return spec.color
        return _FALLBACK_COLORS[sum(map(ord, name)) % len(_FALLBACK_COLORS)]
