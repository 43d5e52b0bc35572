"""Version 2 of the demo world: the same company eight months later.

About a fifth of the version-1 facts change (prices, warranty terms, policies,
product and site owners, the latest firmware of every line), every product line ships
one more firmware release, and one new product launches. :attr:`World.previous` keeps
the old value of each changed fact so that ``changes.jsonl`` and the update bulletin
can be written.

>>> from ragtune.demo.world import build_world
>>> v1 = build_world(seed=0)
>>> v2 = evolve_world(v1)
>>> 0.15 <= len(v2.previous) / sum(f.asked for f in v1.facts.values()) <= 0.25
True
"""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

from ragtune.demo.facts import Fact
from ragtune.demo.world import V1_DATE, V2_DATE, Firmware, Product, World, rng_for, slugify

CHANGED_FRACTION = 0.2

_CHOICES: dict[str, tuple[int, ...]] = {
    "policy.return_window": (14, 21, 30, 45, 60),
    "policy.restocking_fee": (5, 8, 10, 12, 15, 20),
    "policy.free_shipping": (250, 300, 400, 500, 750),
    "policy.rma_days": (5, 7, 10, 12, 14),
    "product.warranty": (12, 18, 24, 36, 48),
}
_NOT_SITE_MANAGERS = ("Executive Team", "Senior Product Manager")
_SLA_CHOICES = {"p1": (1, 2, 3, 4), "p2": (6, 8, 12, 16), "p3": (24, 36, 48, 72)}


def _new_value(rng: random.Random, fact: Fact, world: World) -> object:
    """A different value of the same kind, plausible for the fact's group."""
    value = fact.value
    if fact.group in _CHOICES:
        return rng.choice([v for v in _CHOICES[fact.group] if v != value])
    if fact.group == "policy.sla":
        key = fact.id.rsplit(".", 1)[1]
        return rng.choice([v for v in _SLA_CHOICES[key] if v != value])
    if fact.kind == "money":
        # Price moves of 4-15% either way, kept on the "ends in 9" grid.
        factor = 1 + rng.choice((-1, 1)) * rng.uniform(0.04, 0.15)
        step = 100 if value >= 5000 else 10
        new = max(step, round(value * factor / step) * step) - 1
        return new if new != value else value + step
    if fact.group == "office.headcount":
        return max(5, value + rng.choice((-1, 1)) * rng.randint(6, 40))
    if fact.group == "product.pm":
        pms = sorted({p.name for p in world.people if p.title == "Senior Product Manager"})
        return rng.choice([p for p in pms if p != value])
    if fact.group == "office.manager":
        # A promotion from inside the site when there is someone else there.
        office = fact.id.split(".")[1]
        local = [
            p.name
            for p in world.people
            if p.office == office and p.title not in _NOT_SITE_MANAGERS and p.name != value
        ]
        pool = local or [p.name for p in world.people if p.title == "Site Director"]
        return rng.choice([p for p in pool if p != value])
    raise ValueError(f"no rule to change fact {fact.id} (group {fact.group})")


def evolve_world(world: World) -> World:
    """Return version 2 of ``world`` (a version-1 world); ``world`` is left untouched."""
    if world.version != 1:
        raise ValueError("evolve_world expects a version-1 world")
    rng = rng_for(world.seed, "v2")
    facts = dict(world.facts)
    previous: dict[str, Fact] = {}
    n_asked = sum(f.asked for f in facts.values())
    n_changes = round(CHANGED_FRACTION * n_asked)

    def change(fact_id: str, value: object) -> None:
        previous[fact_id] = facts[fact_id]
        facts[fact_id] = facts[fact_id].replace(value=value, since=V2_DATE)

    # Every product line ships one more firmware release between the two snapshots.
    firmware = list(world.firmware)
    for family in world.families:
        latest = facts[f"firmware.{family.slug}.latest"]
        major, minor, _ = (int(x) for x in latest.value.split("."))
        version = f"{major}.{minor + 1}.0"
        fid = f"firmware.{family.slug}.{version}.released"
        released = V1_DATE + timedelta(days=rng.randint(40, 200))
        facts[fid] = Fact(
            fid,
            "firmware.released",
            {"family": family.name, "version": version},
            "date",
            released,
            since=V2_DATE,
        )
        firmware.append(Firmware(family.slug, version, fid))
        change(latest.id, version)

    candidates = sorted(
        f.id
        for f in facts.values()
        if f.asked and f.mutable and f.id not in previous and f.group != "firmware.latest"
    )
    for fact_id in rng.sample(candidates, n_changes - len(previous)):
        change(fact_id, _new_value(rng, facts[fact_id], world))

    products = list(world.products)
    products.append(_launch_product(rng, world, facts))
    return dataclasses.replace(
        world,
        version=2,
        as_of=V2_DATE,
        products=products,
        firmware=firmware,
        facts=facts,
        previous=previous,
    )


def _launch_product(rng: random.Random, world: World, facts: dict[str, Fact]) -> Product:
    """Add the new flagship of the first product line, with its facts, to ``facts``."""
    family = world.families[0]
    siblings = world.current_products(family.slug)
    top = max(siblings, key=lambda p: p.number)
    number = top.number + 100
    name = f"{family.name} {family.letter}{number}"
    product = Product(name, slugify(name), family.slug, number, False, top.plant)
    subject = {"product": name}
    top_facts = {k: facts[f"{top.slug}.{k}"] for k in ("price", "weight", "power", "pm", "plant")}
    step = 100 if top_facts["price"].value >= 5000 else 10
    price = round(top_facts["price"].value * 1.3 / step) * step - 1
    launch = V1_DATE + timedelta(days=rng.randint(60, 180))

    def add(key: str, group: str, kind: str, value: object) -> None:
        fid = f"{product.slug}.{key}"
        facts[fid] = Fact(fid, group, subject, kind, value, since=V2_DATE)

    add("price", "product.price", "money", price)
    add("weight", "product.weight", "kg", round(top_facts["weight"].value * 1.12 + 0.1, 1))
    add("power", "product.power", "watts", round(top_facts["power"].value * 1.25) + 1)
    add("launch", "product.launch", "date", launch)
    add("warranty", "product.warranty", "months", 36)
    add("pm", "product.pm", "name", top_facts["pm"].value)
    add("plant", "product.plant", "city", top_facts["plant"].value)
    return product
