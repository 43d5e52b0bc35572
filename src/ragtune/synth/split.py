"""Train / held-out split by fact, so evaluation never sees a training question.

Knowledge injection is measured two ways (Ovadia et al. 2023):

- ``unseen_phrasing``: a fact is trained on, but this wording of its question is not;
- ``unseen_fact``: the fact is never trained on at all (FT cannot know it; RAG can).

Rows without a ``fact_id`` are each their own fact. The split is a pure function of the
rows and the seed::

    >>> from ragtune.types import QAExample
    >>> rows = [QAExample(f"f{i}:p{p}", f"q{i} v{p}?", ["a"], fact_id=f"f{i}") for i in range(10) for p in range(4)]
    >>> split = split_by_fact(rows, heldout_share=0.25, unseen_fact_share=0.2, seed=0)
    >>> len(split.train), len(split.unseen_phrasing), len(split.unseen_fact)
    (24, 8, 8)
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field

from ragtune.sampling import stable_order
from ragtune.types import QAExample

UNSEEN_PHRASING = "unseen_phrasing"
UNSEEN_FACT = "unseen_fact"


def normalize_question(text: str) -> str:
    """Lower-case words only: two questions that differ in case or punctuation are one."""
    return " ".join(re.findall(r"\w+", text.lower()))


@dataclass
class Split:
    """Training rows and the two held-out sets (each row's ``meta["split"]`` says which)."""

    train: list[QAExample] = field(default_factory=list)
    unseen_phrasing: list[QAExample] = field(default_factory=list)
    unseen_fact: list[QAExample] = field(default_factory=list)

    @property
    def heldout(self) -> list[QAExample]:
        return [*self.unseen_phrasing, *self.unseen_fact]


def fact_key(row: QAExample) -> str:
    return row.fact_id or row.id


def _tag(row: QAExample, split: str) -> QAExample:
    return QAExample.from_dict({**row.to_dict(), "meta": {**row.meta, "split": split}})


def split_by_fact(
    rows: list[QAExample],
    heldout_share: float = 0.25,
    unseen_fact_share: float = 0.15,
    seed: int = 0,
) -> Split:
    """Split ``rows`` by fact; deterministic for a given ``seed``.

    ``unseen_fact_share`` of the facts go wholly to held-out. Of every other fact with
    two or more phrasings, ``heldout_share`` of its phrasings (at least one when the
    share is above zero, never all) are held out. A held-out question whose normalized
    text equals a training question is moved to training, so no evaluation question
    is ever trained on verbatim.
    """
    by_fact: dict[str, list[QAExample]] = defaultdict(list)
    for row in rows:
        by_fact[fact_key(row)].append(row)
    # Each fact's place comes from its own key, and each fact's held-out phrasings from a
    # generator seeded by that key: editing one document moves only its own facts
    # (see ragtune.sampling), not the whole split.
    facts = stable_order(by_fact, seed)
    n_unseen = round(unseen_fact_share * len(facts))
    if unseen_fact_share > 0 and n_unseen == 0 and len(facts) >= 2:
        n_unseen = 1
    split = Split()
    for position, fact in enumerate(facts):
        group = sorted(by_fact[fact], key=lambda r: (r.phrasing, r.id))
        if position < n_unseen:
            split.unseen_fact.extend(_tag(r, UNSEEN_FACT) for r in group)
            continue
        n_hold = 0
        if heldout_share > 0 and len(group) >= 2:
            n_hold = min(len(group) - 1, max(1, round(heldout_share * len(group))))
        held = set(random.Random(f"{seed}\0{fact}").sample(range(len(group)), n_hold))
        for index, row in enumerate(group):
            if index in held:
                split.unseen_phrasing.append(_tag(row, UNSEEN_PHRASING))
            else:
                split.train.append(_tag(row, "train"))
    trained = {normalize_question(r.question) for r in split.train}
    leaked = [r for r in split.unseen_phrasing if normalize_question(r.question) in trained]
    if leaked:
        split.unseen_phrasing = [r for r in split.unseen_phrasing if r not in leaked]
        split.train.extend(_tag(r, "train") for r in leaked)
    # Unseen facts must not share a question with training either (duplicate rows across facts).
    split.unseen_fact = [
        r for r in split.unseen_fact if normalize_question(r.question) not in trained
    ]
    split.train.sort(key=lambda r: (fact_key(r), r.phrasing, r.id))
    return split
