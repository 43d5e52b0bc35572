"""Dated documents: press releases, firmware notes, meeting notes, blog posts, the update bulletin.

Everything here except the bulletin is *historic*: written on a date and never edited,
so it only states facts that cannot change (launch dates, release dates, cities).
Choices inside a historic document only look at facts dated before it, so adding
products or releases in version 2 leaves the old documents byte-identical.

>>> from ragtune.demo.world import build_world
>>> docs = compose_news(build_world(0))
>>> all(d.kind in {"press", "firmware-note", "meeting", "blog"} for d in docs)
True
"""

from __future__ import annotations

from datetime import date, timedelta

from ragtune.demo import names
from ragtune.demo.document import DemoDoc, DocBuilder
from ragtune.demo.facts import Fact, format_date
from ragtune.demo.world import V1_DATE, V2_DATE, Firmware, Product, World, rng_for

N_MEETINGS_V1 = 24
N_MEETINGS_V2 = 3
_TOPICS = (
    "Weekly support sync",
    "Roadmap review",
    "Plant safety walk",
    "Trade show planning",
    "Partner program check-in",
    "Documentation review",
    "Quality board",
)


def _launch_release(world: World, product: Product) -> DemoDoc:
    family = world.family(product.family)
    launch: date = world.facts[f"{product.slug}.launch"].value
    b = DocBuilder(
        world,
        f"news/{launch.isoformat()}-{product.slug}-launch.html",
        f"{world.company} introduces the {product.name}",
        kind="press",
        historic_date=launch,
    )
    b.para(
        f"{b.fact('office.hq.city')}, {b.fact(f'{product.slug}.launch')}. {world.company} "
        f"today announced the {product.name}, a {family.category} that {family.pitch}."
    )
    b.para(
        f"At {b.fact(f'{product.slug}.weight')} and a maximum draw of "
        f"{b.fact(f'{product.slug}.power')}, the {product.name} is built for crowded "
        f"cabinets. It is assembled in {b.fact(f'{product.slug}.plant')}."
    )
    b.para(
        b.pick(
            (
                f'"Customers asked for fewer truck rolls," said the {family.name} team. '
                '"This is our answer."',
                '"We tested it in the worst plant rooms we could find," an engineer said.',
                '"It is the easiest install in the family," said a pilot customer.',
            )
        )
    )
    b.para(
        f"About {world.company}: founded in {b.fact('company.founded')}, the company builds "
        "instruments for industrial sites. Pricing is available from authorized resellers."
    )
    return b.build()


def _firmware_note(world: World, fw: Firmware) -> DemoDoc:
    family = world.family(fw.family)
    released: date = world.facts[fw.fact_id].value
    b = DocBuilder(
        world,
        f"releases/{family.slug}-firmware-{fw.version}.html",
        f"{family.name} firmware {fw.version} release notes",
        kind="firmware-note",
        historic_date=released,
    )
    b.para(f"{family.name} firmware {fw.version} was released on {b.fact(fw.fact_id)}.")
    fixes = [
        "Faster boot after a power cut",
        "Corrected time zone handling in exported logs",
        "New diagnostic page for the network interfaces",
        "Lower memory use in the web console",
        "Stricter TLS defaults",
        "Fixed a rare watchdog reset during long uploads",
    ]
    b.rng.shuffle(fixes)
    b.heading("Changes")
    b.bullets(fixes[: b.rng.randint(2, 4)])
    b.heading("Upgrade notes")
    b.para("Back up the configuration first. The upgrade takes about four minutes per unit.")
    return b.build()


def _meeting(world: World, index: int, earliest: date, latest: date) -> DemoDoc:
    rng = rng_for(world.seed, "meeting", index)
    day = earliest + timedelta(days=rng.randint(0, (latest - earliest).days))
    topic = rng.choice(_TOPICS)
    slug = topic.lower().replace(" ", "-")
    b = DocBuilder(
        world,
        # Some teams keep their notes in Word, most in plain text.
        f"meetings/{day.isoformat()}-{slug}.{'docx' if index % 3 == 0 else 'txt'}",
        f"{topic} - notes",
        kind="meeting",
        historic_date=day,
    )
    attendees = rng.sample([p.name for p in world.people], 4)
    b.para("Attendees: " + ", ".join(attendees) + ".")
    launched = sorted(
        (p for p in world.current_products() if world.facts[f"{p.slug}.launch"].value < day),
        key=lambda p: p.slug,
    )
    released = sorted(
        (fw for fw in world.firmware if world.facts[fw.fact_id].value < day),
        key=lambda fw: fw.fact_id,
    )
    notes = [
        f"{attendees[1]} walked through open tickets; no escalations this week.",
        "Agreed to move the next review to the larger meeting room.",
        f"{attendees[2]} will circulate the updated onboarding checklist.",
    ]
    if launched:
        product = rng.choice(launched)
        notes.append(
            f"Field feedback on the {product.name} (launched "
            f"{b.fact(f'{product.slug}.launch')}) is positive; mounting kit questions remain."
        )
    if released:
        fw = rng.choice(released)
        family = world.family(fw.family)
        notes.append(
            f"{family.name} firmware {fw.version}, out since {b.fact(fw.fact_id)}, has no open "
            "regressions."
        )
    rng.shuffle(notes)
    b.heading("Discussion")
    b.bullets(notes)
    b.heading("Action items")
    b.bullets(
        [
            f"{attendees[0]}: send the summary to the wider team.",
            f"{attendees[3]}: check spare part stock before the next meeting.",
        ]
    )
    return b.build()


def _blog(world: World, index: int) -> DemoDoc:
    rng = rng_for(world.seed, "blog", index)
    day = date(2021, 1, 1) + timedelta(days=rng.randint(0, (V1_DATE - date(2021, 1, 1)).days))
    launched = sorted(
        (p for p in world.current_products() if world.facts[f"{p.slug}.launch"].value < day),
        key=lambda p: p.slug,
    ) or sorted(world.legacy_products(), key=lambda p: p.slug)
    product = rng.choice(launched)
    family = world.family(product.family)
    if index % 3 == 0:
        competitor = rng.choice(names.COMPETITORS)
        rival = (
            f"{competitor.split()[0]} {rng.choice('ABCM')}{rng.randint(2, 9)}{rng.randint(10, 99)}"
        )
        title = f"How to compare {family.category}s: a buyer's checklist"
        doc_id = f"blog/{day.isoformat()}-buyers-checklist-{index}.md"
        b = DocBuilder(world, doc_id, title, kind="blog", historic_date=day)
        b.para(
            f"Buyers often put the {product.name} next to the {rival} from {competitor}. "
            f"The {rival} weighs {rng.randint(11, 90) / 10:.1f} kg and lists at "
            f"${rng.randint(40, 900) * 10 - 1:,}; the {product.name} weighs "
            f"{b.fact(f'{product.slug}.weight')}. Numbers alone do not decide it."
        )
        b.bullets(
            [
                "Ask for the total cost over five years, not the list price.",
                "Check how firmware updates are delivered and signed.",
                "Visit a reference site with a similar environment.",
            ]
        )
    else:
        office = rng.choice(world.offices)
        title = f"Behind the scenes at the {office.role}"
        doc_id = f"blog/{day.isoformat()}-behind-the-scenes-{index}.md"
        b = DocBuilder(world, doc_id, title, kind="blog", historic_date=day)
        b.para(
            f"This month we visited the {office.role} in {b.fact(f'office.{office.key}.city')}, "
            f"open since {b.fact(f'office.{office.key}.opened')}. The team showed us how the "
            f"{product.name} is tested before it ships."
        )
        b.para(
            rng.choice(
                (
                    "The burn-in racks run around the clock and sound like a small waterfall.",
                    "Every unit is photographed before packing so support can see what shipped.",
                    "Lunch on Fridays is cooked by a different team each week.",
                )
            )
        )
    return b.build()


def _describe(fact: Fact) -> str:
    s = fact.subject
    return {
        "product.price": lambda: f"The list price of the {s.get('product')}",
        "product.warranty": lambda: f"The standard warranty on the {s.get('product')}",
        "product.pm": lambda: f"The product manager for the {s.get('product')}",
        "office.headcount": lambda: f"The headcount of the {s.get('office')}",
        "office.manager": lambda: f"The manager of the {s.get('office')}",
        "policy.return_window": lambda: "The return window",
        "policy.restocking_fee": lambda: "The restocking fee",
        "policy.free_shipping": lambda: "The free-shipping threshold",
        "policy.extended_warranty": lambda: "The yearly extended warranty price",
        "policy.rma_days": lambda: "The RMA processing time",
        "policy.sla": lambda: f"The first-response target for {s.get('priority')} tickets",
        "policy.tier_price": lambda: f"The annual price of {s.get('tier')}",
        "firmware.latest": lambda: f"The latest {s.get('family')} firmware",
    }[fact.group]()


def _bulletin(world: World) -> DemoDoc:
    b = DocBuilder(
        world,
        f"news/{V2_DATE.isoformat()}-pricing-and-policy-update.md",
        "Pricing, policy and ownership update",
        kind="bulletin",
    )
    b.para(
        f"The following changes take effect on {format_date(V2_DATE)}. Quotes issued before "
        "that date are honored for thirty days."
    )
    b.bullets(
        [
            f"{_describe(world.facts[fid])} is now {b.fact(fid)} "
            f"(previously {world.previous[fid].text})."
            for fid in sorted(world.previous)
        ]
    )
    b.para("Updated price lists and policies are on the intranet.")
    return b.build()


def compose_news(world: World) -> list[DemoDoc]:
    """Historic documents of ``world``, plus the update bulletin in version 2."""
    docs = [_launch_release(world, p) for p in world.current_products()]
    docs += [_firmware_note(world, fw) for fw in world.firmware]
    docs += [_meeting(world, i, date(2021, 1, 1), V1_DATE) for i in range(N_MEETINGS_V1)]
    docs += [_blog(world, i) for i in range(10)]
    if world.version >= 2:
        later = V1_DATE + timedelta(days=1)
        docs += [
            _meeting(world, N_MEETINGS_V1 + i, later, V2_DATE - timedelta(days=1))
            for i in range(N_MEETINGS_V2)
        ]
        docs.append(_bulletin(world))
    return docs
