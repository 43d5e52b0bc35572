"""Commercial and support documents: price lists, warranty and returns policies, support plans, FAQs.

These are living documents: when a price or a policy changes in version 2 they are
re-rendered with the new value and a new date.

>>> from ragtune.demo.world import build_world
>>> docs = compose_support(build_world(0))
>>> "support/support-plans.html" in {d.doc_id for d in docs}
True
"""

from __future__ import annotations

from ragtune.demo.document import DemoDoc, DocBuilder
from ragtune.demo.names import SUPPORT_TIERS
from ragtune.demo.world import Family, World


def _family_price_list(world: World, family: Family) -> DemoDoc:
    b = DocBuilder(world, f"pricing/{family.slug}-price-list.html", f"{family.name} price list")
    b.para(
        f"List prices in US dollars for the {family.name} {family.category} line, excluding "
        "tax and shipping. Distributors receive their discount on these figures."
    )
    b.table(
        ("Model", "List price", "Standard warranty"),
        [
            (p.name, b.fact(f"{p.slug}.price"), b.fact(f"{p.slug}.warranty"))
            for p in world.current_products(family.slug)
        ],
    )
    b.para(
        f"Any {family.name} unit can be covered beyond its standard warranty with the extended "
        f"warranty at {b.fact('policy.extended_warranty')} per year."
    )
    return b.build()


def _master_price_list(world: World) -> DemoDoc:
    b = DocBuilder(world, "pricing/master-price-list.pdf", f"{world.company} master price list")
    b.para(
        "This list is the single source for quotes. Prices are in US dollars and valid until "
        "the next edition replaces them."
    )
    for family in world.families:
        b.heading(f"{family.name} ({family.category})")
        b.table(
            ("Model", "List price"),
            [(p.name, b.fact(f"{p.slug}.price")) for p in world.current_products(family.slug)],
        )
    b.heading("Services")
    b.table(
        ("Service", "Price per year"),
        [(name, b.fact(f"policy.tier.{key}")) for key, name in SUPPORT_TIERS]
        + [("Extended warranty (per unit)", b.fact("policy.extended_warranty"))],
    )
    return b.build()


def _warranty_policy(world: World) -> DemoDoc:
    b = DocBuilder(world, "policies/warranty-policy.md", "Warranty policy")
    b.para(
        f"Every {world.company} product is covered against defects in materials and "
        "workmanship for its standard warranty period, counted from the date of delivery."
    )
    b.heading("Standard warranty by model")
    b.table(
        ("Model", "Standard warranty"),
        [(p.name, b.fact(f"{p.slug}.warranty")) for p in world.current_products()],
    )
    b.heading("Making a claim")
    b.para(
        f"Email warranty claims to {b.fact('policy.claims_email')} with the serial number, "
        "a description of the fault and, where possible, a photo of the rating label. Once a "
        f"claim is accepted, the RMA is processed within {b.fact('policy.rma_days')}."
    )
    b.heading("Extending coverage")
    b.para(
        f"The extended warranty costs {b.fact('policy.extended_warranty')} per year per unit "
        "and can be bought at any time before the standard warranty ends."
    )
    b.heading("What is not covered")
    b.bullets(
        [
            "Damage from installation that ignores the setup guide",
            "Consumables such as filters and desiccant packs",
            "Units whose serial label has been removed",
        ]
    )
    return b.build()


def _returns_policy(world: World) -> DemoDoc:
    b = DocBuilder(world, "policies/returns-and-shipping.docx", "Returns and shipping policy")
    b.heading("Returns")
    b.para(
        f"Customers may return an unused product within {b.fact('policy.return_window')} of "
        f"delivery. Returned goods are subject to a restocking fee of "
        f"{b.fact('policy.restocking_fee')} of the invoice value unless the product was "
        "defective on arrival."
    )
    b.para(f"Approved returns are processed within {b.fact('policy.rma_days')}.")
    b.heading("Shipping")
    b.para(
        f"Orders above {b.fact('policy.free_shipping')} ship free of charge within the "
        "contiguous service region. Smaller orders pay a flat handling fee plus carrier rates."
    )
    b.bullets(
        [
            "Battery storage cabinets ship by freight and need a loading dock or tail lift.",
            "Signed delivery is required for every shipment.",
            "Customs paperwork is prepared by our logistics team.",
        ]
    )
    return b.build()


def _support_plans(world: World) -> DemoDoc:
    b = DocBuilder(world, "support/support-plans.html", f"{world.company} support plans")
    b.para(
        "Every customer gets email support. The paid plans add phone access, faster response "
        "targets and a named engineer."
    )
    b.table(
        ("Plan", "Price per year", "Phone support", "Named engineer"),
        [
            (name, b.fact(f"policy.tier.{key}"), phone, named)
            for (key, name), phone, named in zip(
                SUPPORT_TIERS,
                ("Business hours", "Extended hours", "24/7"),
                ("No", "No", "Yes"),
                strict=True,
            )
        ],
    )
    b.heading("Response targets")
    b.table(
        ("Ticket priority", "First response within"),
        [(f"Priority {n}", b.fact(f"policy.sla.p{n}")) for n in (1, 2, 3)],
    )
    b.para("Response targets apply to all plans; Care Premier adds on-site visits.")
    return b.build()


def _sla(world: World) -> DemoDoc:
    b = DocBuilder(world, "support/service-level-agreement.txt", "Service level agreement")
    b.para(
        f"This agreement defines how quickly {world.company} support answers a ticket. "
        "Priority is set by the customer and reviewed by the support engineer."
    )
    b.bullets(
        [
            f"Priority 1 (production stopped): first response within {b.fact('policy.sla.p1')}.",
            f"Priority 2 (degraded operation): first response within {b.fact('policy.sla.p2')}.",
            f"Priority 3 (questions, minor faults): first response within "
            f"{b.fact('policy.sla.p3')}.",
        ]
    )
    b.para(
        "Response means a qualified engineer has read the ticket and replied; it is not a "
        "resolution time. Repeated misses are credited against the support plan fee."
    )
    return b.build()


def _faq(world: World, family: Family) -> DemoDoc:
    b = DocBuilder(
        world, f"support/{family.slug}-faq.md", f"{family.name} frequently asked questions"
    )
    b.heading("Which firmware should I run?")
    b.para(
        f"Always the newest: {family.name} firmware {b.fact(f'firmware.{family.slug}.latest')} is "
        "the current release. Older releases stay on the portal for audits."
    )
    b.heading("Can I return a unit I do not need?")
    b.para(
        f"Yes, within {b.fact('policy.return_window')} of delivery, if it is unused. See the "
        "returns policy for the restocking fee."
    )
    b.heading("The status light blinks amber. Is that a fault?")
    b.para(
        "No. Amber means the unit is waiting for its first configuration. It turns green once "
        "commissioning is complete."
    )
    b.heading("Who do I contact for a quote?")
    b.para("Your reseller or the regional sales team; list prices are on the price list.")
    return b.build()


def _release_notes(world: World, family: Family) -> DemoDoc:
    b = DocBuilder(
        world, f"releases/{family.slug}-release-history.md", f"{family.name} firmware history"
    )
    b.para(
        f"Firmware for all {family.name} models is released together. The latest version is "
        f"{b.fact(f'firmware.{family.slug}.latest')}."
    )
    b.table(
        ("Version", "Release date"),
        [(fw.version, b.fact(fw.fact_id)) for fw in reversed(world.family_firmware(family.slug))],
    )
    b.para("Releases are cumulative: installing the latest includes every earlier fix.")
    return b.build()


def compose_support(world: World) -> list[DemoDoc]:
    """Price lists, policies, support plans, FAQs and firmware histories."""
    docs = [
        _master_price_list(world),
        _warranty_policy(world),
        _returns_policy(world),
        _support_plans(world),
        _sla(world),
    ]
    for family in world.families:
        docs += [
            _family_price_list(world, family),
            _faq(world, family),
            _release_notes(world, family),
        ]
    return docs
