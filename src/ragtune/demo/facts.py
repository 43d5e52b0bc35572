"""Facts: one typed value each, with the one way documents write it and the answers accepted.

Every document states a fact through :attr:`Fact.text`, so the canonical answer
appears verbatim wherever the fact is stated; :attr:`Fact.answers` adds the other
spellings a grader should accept.

>>> from datetime import date
>>> f = Fact("corvane-g200.price", "product.price", {"product": "Corvane G200"}, "money", 1249)
>>> f.text, f.answers
('$1,249', ['$1,249', '1,249', '$1249', '1249'])
>>> Fact("x.launch", "product.launch", {}, "date", date(2023, 3, 14)).answers[:2]
['March 14, 2023', '2023-03-14']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Kinds whose value is a business decision that can change between versions.
MUTABLE_GROUPS = frozenset(
    {
        "product.price",
        "product.warranty",
        "product.pm",
        "office.headcount",
        "office.manager",
        "policy.return_window",
        "policy.restocking_fee",
        "policy.free_shipping",
        "policy.sla",
        "policy.tier_price",
        "policy.extended_warranty",
        "policy.rma_days",
        "firmware.latest",
    }
)


def format_date(day: date) -> str:
    """Write a date the way every demo document does: ``March 14, 2023``."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def format_value(kind: str, value: Any) -> str:
    """The canonical text of a value of ``kind``, as documents state it."""
    if kind == "money":
        return f"${value:,}"
    if kind == "date":
        return format_date(value)
    if kind == "months":
        return f"{value} months"
    if kind == "kg":
        return f"{value:.1f} kg"
    if kind == "watts":
        return f"{value} W"
    if kind == "hours":
        return "1 hour" if value == 1 else f"{value} hours"
    if kind == "percent":
        return f"{value}%"
    if kind == "days":
        return f"{value} days"
    if kind == "business_days":
        return f"{value} business days"
    # year, count, name, city, email, version
    return str(value)


def answer_variants(kind: str, value: Any) -> list[str]:
    """Accepted short answers, canonical text first, duplicates removed."""
    text = format_value(kind, value)
    variants = [text]
    if kind == "money":
        variants += [f"{value:,}", f"${value}", str(value)]
    elif kind == "date":
        variants += [value.isoformat(), f"{value.day} {MONTHS[value.month - 1]} {value.year}"]
    elif kind == "months":
        variants += [str(value), f"{value}-month"]
    elif kind == "kg":
        variants += [f"{value:.1f}kg", f"{value:.1f} kilograms"]
    elif kind == "watts":
        variants += [f"{value}W", f"{value} watts"]
    elif kind in ("hours", "days"):
        variants += [str(value)]
    elif kind == "business_days":
        variants += [f"{value} days", str(value)]
    elif kind == "percent":
        variants += [f"{value} percent", str(value)]
    elif kind == "count":
        variants += [f"{value} people", f"{value} employees"]
    elif kind == "version":
        variants += [f"v{value}"]
    return list(dict.fromkeys(variants))


@dataclass(frozen=True)
class Fact:
    """One atomic, checkable statement about the demo world.

    ``group`` picks the question templates (see :mod:`ragtune.demo.questions`),
    ``subject`` fills their placeholders, ``since`` is when the value took effect and
    ``asked`` is False for distractor facts that documents state but no question tests.
    """

    id: str
    group: str
    subject: dict[str, str]
    kind: str
    value: Any
    since: date = date(2025, 1, 15)
    asked: bool = True
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return format_value(self.kind, self.value)

    @property
    def answers(self) -> list[str]:
        return answer_variants(self.kind, self.value)

    @property
    def mutable(self) -> bool:
        return self.group in MUTABLE_GROUPS

    def replace(self, **changes: Any) -> Fact:
        return dataclasses.replace(self, **changes)
