"""The demo world: a fictional company, its products, offices, people and policies.

Entities (names, slugs, relations that never change) live in small frozen
dataclasses; every checkable value lives in :attr:`World.facts`, keyed by fact id, so
that version 2 of the world is version 1 with some facts replaced or added (see
:mod:`ragtune.demo.evolve`).

>>> world = build_world(seed=0)
>>> world.company
'Veltrona Systems'
>>> world.facts[world.products[0].slug + ".price"].text.startswith("$")
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from ragtune.demo import names
from ragtune.demo.facts import Fact

V1_DATE = date(2025, 1, 15)
V2_DATE = date(2025, 9, 1)


def rng_for(seed: int, *keys: object) -> random.Random:
    """An independent, platform-stable random stream per (seed, purpose).

    Seeding with a string hashes it with SHA-512, so the stream does not depend on
    ``PYTHONHASHSEED`` or on how many numbers other streams drew.
    """
    return random.Random(":".join(str(k) for k in (seed, *keys)))


def slugify(text: str) -> str:
    return "-".join(text.lower().replace(".", "-").split())


@dataclass(frozen=True)
class Family:
    name: str
    slug: str
    category: str
    pitch: str
    letter: str
    base_number: int


@dataclass(frozen=True)
class Product:
    name: str
    slug: str
    family: str  # Family.slug
    number: int
    legacy: bool = False
    plant: str = "plant-north"  # Office.key


@dataclass(frozen=True)
class Office:
    key: str
    role: str


@dataclass(frozen=True)
class Person:
    name: str
    slug: str
    title: str
    office: str  # Office.key


@dataclass(frozen=True)
class Firmware:
    family: str  # Family.slug
    version: str
    fact_id: str


@dataclass
class World:
    """Everything the documents and questions are generated from."""

    seed: int
    version: int
    company: str
    domain: str
    as_of: date
    families: list[Family]
    products: list[Product]
    offices: list[Office]
    people: list[Person]
    firmware: list[Firmware]
    facts: dict[str, Fact]
    # fact id -> the value it had in version 1, for facts that version 2 changed
    previous: dict[str, Fact] = field(default_factory=dict)

    def family(self, slug: str) -> Family:
        return next(f for f in self.families if f.slug == slug)

    def office(self, key: str) -> Office:
        return next(o for o in self.offices if o.key == key)

    def person(self, name: str) -> Person:
        return next(p for p in self.people if p.name == name)

    def current_products(self, family: str | None = None) -> list[Product]:
        return [p for p in self.products if not p.legacy and family in (None, p.family)]

    def legacy_products(self, family: str | None = None) -> list[Product]:
        return [p for p in self.products if p.legacy and family in (None, p.family)]

    def family_firmware(self, family: str) -> list[Firmware]:
        return [f for f in self.firmware if f.family == family]

    def roles_of(self, person: Person) -> list[Fact]:
        """Owner facts (product manager, site manager, executive) naming this person."""
        groups = ("product.pm", "office.manager", "exec.role")
        return [
            f
            for f in self.facts.values()
            if f.group in groups and f.value == person.name and f.asked
        ]


def _round_price(value: float) -> int:
    step = 100 if value >= 5000 else 10
    return max(step, round(value / step) * step) - 1


def _distinct(value: float, used: set[float], step: float) -> float:
    # Sibling models must differ: they are each other's distractors.
    while round(value, 1) in used:
        value += step
    used.add(round(value, 1))
    return round(value, 1)


def _product_facts(
    product: Product, base: tuple[float, float, float], tier: float, launch: date, used: dict
) -> list[Fact]:
    base_price, base_weight, base_power = base
    subject = {"product": product.name}
    asked = not product.legacy
    pid = product.slug

    def fact(name: str, group: str, kind: str, value: object) -> Fact:
        return Fact(f"{pid}.{name}", group, subject, kind, value, asked=asked)

    weight = _distinct(base_weight * tier**0.5, used.setdefault("kg", set()), 0.1)
    power = int(_distinct(max(1, round(base_power * tier)), used.setdefault("w", set()), 1))
    warranty = 24 if tier < 1.5 else 36
    return [
        fact("price", "product.price", "money", _round_price(base_price * tier)),
        fact("weight", "product.weight", "kg", weight),
        fact("power", "product.power", "watts", power),
        fact("launch", "product.launch", "date", launch),
        fact("warranty", "product.warranty", "months", 12 if product.legacy else warranty),
    ]


def build_world(seed: int = 0) -> World:
    """Version 1 of the demo world for ``seed``: same seed, same world, on every machine."""
    rng = rng_for(seed, "world")
    company, domain = names.COMPANIES[seed % len(names.COMPANIES)]
    cities = rng.sample(names.CITIES, len(names.OFFICE_ROLES))
    offices = [Office(key, role) for key, role in names.OFFICE_ROLES]
    facts: list[Fact] = [
        Fact("company.founded", "company.founded", {}, "year", rng.randint(1994, 2008))
    ]
    founded = facts[0].value

    # People: executives, site managers, product managers, staff. Names are unique.
    first = rng.sample(names.FIRST_NAMES, 18)
    last = rng.sample(names.LAST_NAMES, 18)
    full = [f"{a} {b}" for a, b in zip(first, last, strict=True)]
    titles = (
        ["Executive Team"] * len(names.EXEC_ROLES)
        + ["Site Director"] * len(offices)
        + ["Senior Product Manager"] * 4
        + list(rng.sample(names.STAFF_TITLES, 3))
    )
    people: list[Person] = []
    for i, (name, title) in enumerate(zip(full, titles, strict=True)):
        office_key = offices[i - 5].key if title == "Site Director" else rng.choice(offices).key
        if title == "Executive Team":
            office_key = "hq"
        people.append(Person(name, slugify(name), title, office_key))

    for office, city in zip(offices, cities, strict=True):
        subject = {"office": office.role}
        opened = rng.randint(founded, 2021)
        manager = next(p for p in people if p.title == "Site Director" and p.office == office.key)
        facts += [
            Fact(f"office.{office.key}.city", "office.city", subject, "city", city),
            Fact(f"office.{office.key}.opened", "office.opened", subject, "year", opened),
            Fact(
                f"office.{office.key}.headcount",
                "office.headcount",
                subject,
                "count",
                rng.randint(18, 420),
            ),
            Fact(f"office.{office.key}.manager", "office.manager", subject, "name", manager.name),
        ]
    city_of = {o.key: c for o, c in zip(offices, cities, strict=True)}
    for (key, role), person in zip(names.EXEC_ROLES, people[: len(names.EXEC_ROLES)], strict=True):
        facts.append(Fact(f"exec.{key}", "exec.role", {"role": role}, "name", person.name))
    for person in people:
        subject = {"person": person.name}
        joined = rng.randint(max(founded, 2005), 2023)
        facts += [
            Fact(f"person.{person.slug}.joined", "person.joined", subject, "year", joined),
            Fact(
                f"person.{person.slug}.city", "person.city", subject, "city", city_of[person.office]
            ),
        ]

    # Product families: three current models, two legacy ones (distractors).
    pms = [p for p in people if p.title == "Senior Product Manager"]
    categories = rng.sample(names.CATEGORIES, 4)
    families: list[Family] = []
    products: list[Product] = []
    firmware: list[Firmware] = []
    letters = rng.sample(names.MODEL_LETTERS, 4)
    for i, (fam_name, category, letter) in enumerate(
        zip(rng.sample(names.FAMILY_NAMES, 4), categories, letters, strict=True)
    ):
        family = Family(
            fam_name, slugify(fam_name), category[0], category[4], letter, rng.choice((2, 3, 5))
        )
        families.append(family)
        start = date(rng.randint(2019, 2022), rng.randint(1, 12), rng.randint(1, 28))
        _, price_range, weight_range, power_range, _ = category
        base = (
            rng.uniform(*price_range),
            rng.uniform(*weight_range),
            rng.uniform(*power_range),
        )
        used: dict[str, set[float]] = {}
        models = [
            (-100, 0.8, True),
            (-90, 0.9, True),
            (0, 1.0, False),
            (10, 1.15, False),
            (100, 1.6, False),
        ]
        for offset, tier, legacy in models:
            number = family.base_number * 100 + offset
            name = f"{fam_name} {letter}{number}"
            plant = rng.choice(("plant-north", "plant-south"))
            product = Product(name, slugify(name), family.slug, number, legacy, plant)
            products.append(product)
            if legacy:
                launch = start - timedelta(days=1500 - (offset + 100) * 20 + rng.randint(0, 200))
            else:
                launch = start + timedelta(days=offset * 4 + rng.randint(0, 60))
            facts += _product_facts(product, base, tier, launch, used)
            if not legacy:
                facts += [
                    Fact(
                        f"{product.slug}.pm",
                        "product.pm",
                        {"product": name},
                        "name",
                        pms[i].name,
                    ),
                    Fact(
                        f"{product.slug}.plant",
                        "product.plant",
                        {"product": name},
                        "city",
                        city_of[plant],
                    ),
                ]
        major = rng.randint(2, 5)
        first_minor = rng.randint(1, 4)
        versions = [f"{major}.{first_minor + k}.0" for k in range(3)]
        # Count back from the snapshot date so every release predates version 1.
        day = V1_DATE - timedelta(days=rng.randint(30, 150))
        days: list[date] = []
        for _ in versions:
            days.insert(0, day)
            day -= timedelta(days=rng.randint(150, 300))
        for version, released in zip(versions, days, strict=True):
            fid = f"firmware.{family.slug}.{version}.released"
            subject = {"family": fam_name, "version": version}
            facts.append(Fact(fid, "firmware.released", subject, "date", released))
            firmware.append(Firmware(family.slug, version, fid))
        facts.append(
            Fact(
                f"firmware.{family.slug}.latest",
                "firmware.latest",
                {"family": fam_name},
                "version",
                versions[-1],
            )
        )

    facts += _policy_facts(rng, domain)
    return World(
        seed=seed,
        version=1,
        company=company,
        domain=domain,
        as_of=V1_DATE,
        families=families,
        products=products,
        offices=offices,
        people=people,
        firmware=firmware,
        facts={f.id: f for f in facts},
    )


def _policy_facts(rng: random.Random, domain: str) -> list[Fact]:
    facts = [
        Fact("policy.return_window", "policy.return_window", {}, "days", rng.choice((14, 30, 45))),
        Fact("policy.restocking_fee", "policy.restocking_fee", {}, "percent", rng.choice((10, 15))),
        Fact("policy.free_shipping", "policy.free_shipping", {}, "money", rng.choice((250, 500))),
        Fact(
            "policy.extended_warranty",
            "policy.extended_warranty",
            {},
            "money",
            rng.choice((129, 149, 189)),
        ),
        Fact("policy.rma_days", "policy.rma_days", {}, "business_days", rng.choice((7, 10))),
        Fact(
            "policy.claims_email", "policy.claims_email", {}, "email", f"warranty-claims@{domain}"
        ),
    ]
    for priority, choices in ((1, (2, 4)), (2, (8, 12)), (3, (24, 48))):
        facts.append(
            Fact(
                f"policy.sla.p{priority}",
                "policy.sla",
                {"priority": f"Priority {priority}"},
                "hours",
                rng.choice(choices),
            )
        )
    price = rng.choice((390, 450, 520))
    for key, tier in names.SUPPORT_TIERS:
        facts.append(
            Fact(f"policy.tier.{key}", "policy.tier_price", {"tier": tier}, "money", price)
        )
        price = price * 2 + rng.choice((100, 200, 300))
    return facts
