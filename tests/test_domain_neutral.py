"""Nothing outside ``ragtune.demo`` assumes the demo: no word of the fictional domain
(its companies, product families, people, resellers) and no talk of "the company" or
"products" in the code a team's own documents run through."""

from __future__ import annotations

import re
from pathlib import Path

import ragtune
from ragtune.demo import names
from ragtune.prompts import closed_book_messages, closed_book_system

PACKAGE = Path(ragtune.__file__).parent
ASSUMPTIONS = ("the company", "our products", "products and policies")


def demo_words() -> set[str]:
    words = {company for company, _ in names.COMPANIES}
    words |= {company.split()[0] for company, _ in names.COMPANIES}
    words |= set(names.FAMILY_NAMES) | set(names.RESELLERS) | set(names.COMPETITORS)
    words |= {f"{first} {last}" for first in names.FIRST_NAMES for last in names.LAST_NAMES}
    return {w for w in words if len(w) >= 4}


def outside_demo() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "demo" not in p.relative_to(PACKAGE).parts]


def test_no_demo_word_outside_the_demo_package() -> None:
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(demo_words()))) + r")\b")
    found = []
    for path in outside_demo():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            lowered = line.lower()
            if pattern.search(line) or any(a in lowered for a in ASSUMPTIONS):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_prompts_name_the_configured_domain_or_none() -> None:
    assert "company" not in closed_book_system().lower()
    assert closed_book_system("the PostgreSQL 15 manual").startswith(
        "You answer questions about the PostgreSQL 15 manual."
    )
    system, user = closed_book_messages("What is the default port?", "the PostgreSQL 15 manual")
    assert "PostgreSQL 15" in system.content and user.content == "What is the default port?"
