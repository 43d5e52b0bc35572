"""Company documents: profile, offices, directory, staff bios and the leadership brief.

>>> from ragtune.demo.world import build_world
>>> docs = compose_company(build_world(0))
>>> any(d.doc_id == "offices/directory.html" for d in docs)
True
"""

from __future__ import annotations

from ragtune.demo.document import DemoDoc, DocBuilder
from ragtune.demo.facts import Fact
from ragtune.demo.names import EXEC_ROLES
from ragtune.demo.world import Office, Person, World


def _profile(world: World) -> DemoDoc:
    b = DocBuilder(world, "about/company-profile.md", f"About {world.company}")
    b.para(
        f"{world.company} was founded in {b.fact('company.founded')} to build rugged "
        "instruments for the people who keep plants, grids and buildings running. Today the "
        f"company designs, assembles and supports {len(world.families)} product lines sold "
        "through direct sales and authorized resellers."
    )
    b.heading("Product lines")
    b.bullets(
        [f"{f.name}: {f.category}s that {f.pitch}" for f in world.families],
    )
    b.heading("Where we work")
    b.bullets(
        [f"The {o.role} in {b.fact(f'office.{o.key}.city')}" for o in world.offices],
    )
    b.heading("Leadership")
    b.bullets([f"{role}: {b.fact(f'exec.{key}')}" for key, role in EXEC_ROLES])
    b.para(
        "We publish this profile for partners, candidates and journalists. For press inquiries "
        "contact the communications team at the global headquarters."
    )
    return b.build()


def _office_page(world: World, office: Office) -> DemoDoc:
    key = office.key
    b = DocBuilder(world, f"offices/{key}.md", f"{world.company} {office.role}")
    city = b.fact(f"office.{key}.city")
    b.para(
        b.pick(
            (
                f"The {office.role} is located in {city}.",
                f"Our {office.role} sits in {city}, a short ride from the regional airport.",
                f"You will find the {office.role} in {city}.",
            )
        )
        + f" It opened in {b.fact(f'office.{key}.opened')} and today has a headcount of "
        f"{b.fact(f'office.{key}.headcount')}."
    )
    b.para(
        f"The site is managed by {b.fact(f'office.{key}.manager')}, who handles facilities, "
        "local hiring and visitor access."
    )
    staff = [p for p in world.people if p.office == key]
    if staff:
        for person in staff:
            # The page names them under this city: it states where they work.
            b.fact(f"person.{person.slug}.city")
        b.heading("People you may meet here")
        b.bullets([f"{p.name}, {p.title}" for p in staff])
    b.heading("Visiting")
    b.bullets(
        [
            "Register visitors at reception at least one working day in advance.",
            "Safety shoes are required beyond the lobby in production areas.",
            "Parking is limited; use the visitor spaces marked in yellow.",
        ]
    )
    return b.build()


def _directory(world: World) -> DemoDoc:
    b = DocBuilder(world, "offices/directory.html", "Office directory")
    b.para(f"All {world.company} sites, their size and the person in charge.")
    rows = [
        (
            o.role,
            b.fact(f"office.{o.key}.city"),
            b.fact(f"office.{o.key}.opened"),
            b.fact(f"office.{o.key}.headcount"),
            b.fact(f"office.{o.key}.manager"),
        )
        for o in world.offices
    ]
    b.table(("Site", "City", "Opened", "Headcount", "Site manager"), rows)
    b.para("Headcounts include contractors on site for more than three months.")
    return b.build()


def _role_sentence(fact: Fact) -> str:
    if fact.group == "product.pm":
        return f"product manager for the {fact.subject['product']}"
    if fact.group == "office.manager":
        return f"manager of the {fact.subject['office']}"
    return f"{fact.subject['role']} of the company"


def _bio(world: World, person: Person) -> DemoDoc:
    b = DocBuilder(world, f"people/{person.slug}.txt", f"{person.name} - {person.title}")
    joined = b.fact(f"person.{person.slug}.joined")
    city = b.fact(f"person.{person.slug}.city")
    b.para(
        b.pick(
            (
                f"{person.name} joined {world.company} in {joined} and works from {city}.",
                f"Based in {city}, {person.name} has been with {world.company} since {joined}.",
                f"{person.name} came to {world.company} in {joined}; their desk is in {city}.",
            )
        )
    )
    roles = world.roles_of(person)
    if roles:
        for fact in roles:
            b.fact(fact.id)
        duties = [_role_sentence(f) for f in roles]
        listed = duties[0] if len(duties) == 1 else ", ".join(duties[:-1]) + " and " + duties[-1]
        b.para(f"{person.name} currently serves as {listed}.")
    else:
        b.para(f"As {person.title}, {person.name} works across product lines and sites.")
    b.para(
        b.pick(
            (
                "Outside work: trail running and an unreasonable number of houseplants.",
                "Ask about the regional choir, but only if you have time.",
                "Known internally for the best whiteboard diagrams in the building.",
                "Speaks three languages and is learning a fourth.",
            )
        )
    )
    return b.build()


def _leadership(world: World) -> DemoDoc:
    b = DocBuilder(world, "people/leadership-team.docx", "Leadership team")
    b.para(
        f"The leadership team sets {world.company}'s strategy and budget and meets every "
        "second Tuesday at the global headquarters."
    )
    rows = []
    for key, role in EXEC_ROLES:
        name = world.facts[f"exec.{key}"].value
        slug = world.person(name).slug
        rows.append((role, b.fact(f"exec.{key}"), b.fact(f"person.{slug}.joined")))
    b.table(("Role", "Name", "Joined"), rows)
    b.para(
        "Site directors report to the Chief Executive Officer; product managers report to "
        "the Chief Technology Officer."
    )
    return b.build()


def compose_company(world: World) -> list[DemoDoc]:
    """Profile, one page per office, the directory, one bio per person, the leadership brief."""
    docs = [_profile(world), _directory(world), _leadership(world)]
    docs += [_office_page(world, office) for office in world.offices]
    docs += [_bio(world, person) for person in world.people]
    return docs
