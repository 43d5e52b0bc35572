"""Product documents: spec sheets, overviews, datasheets, reseller copies, setup guides, archive.

Several documents state the same product facts in different words and formats
(near-duplicates), and the archive holds discontinued sibling models whose numbers
differ (distractors).

>>> from ragtune.demo.world import build_world
>>> docs = compose_products(build_world(0))
>>> sorted({d.fmt for d in docs})
['docx', 'md', 'pdf', 'txt']
"""

from __future__ import annotations

from ragtune.demo import names
from ragtune.demo.document import DemoDoc, DocBuilder
from ragtune.demo.world import Product, World, rng_for, slugify

_FEATURES: dict[str, tuple[str, ...]] = {
    "edge gateway": (
        "Store-and-forward buffer for up to 14 days of readings",
        "Dual Ethernet with hardware failover",
        "Modbus TCP, OPC UA and MQTT out of the box",
        "Signed over-the-air updates",
        "DIN-rail or wall mounting",
    ),
    "thermal imaging camera": (
        "Radiometric video at 30 frames per second",
        "Automatic alarms on user-drawn regions",
        "Germanium lens with motorized focus",
        "PoE+ powered, single cable install",
        "ONVIF profile support",
    ),
    "ultrasonic flow meter": (
        "Clamp-on transducers, no pipe cutting",
        "Bidirectional flow and totalizer",
        "Works on steel, copper and PVC pipes",
        "4-20 mA and pulse outputs",
        "Built-in data logger",
    ),
    "battery storage cabinet": (
        "Lithium iron phosphate cells",
        "Peak shaving and backup modes",
        "Remote fleet monitoring",
        "Integrated fire suppression",
        "Parallel operation of up to eight cabinets",
    ),
    "air quality monitor": (
        "Laser particle counter for PM1, PM2.5 and PM10",
        "NDIR carbon dioxide sensor",
        "Color status ring visible across the room",
        "Battery backup for power cuts",
        "BACnet and REST interfaces",
    ),
    "vibration analyzer": (
        "Triaxial accelerometer up to 10 kHz",
        "On-device FFT and envelope analysis",
        "Magnetic or stud mounting",
        "Ten-year battery option",
        "Alarm thresholds per ISO 10816",
    ),
}


def _pf(b: DocBuilder, product: Product, key: str) -> str:
    return b.fact(f"{product.slug}.{key}")


def noise_specs(world: World, product: Product) -> list[tuple[str, str]]:
    """Secondary specifications nobody asks about, the same in every document of a product."""
    rng = rng_for(world.seed, "noise", product.slug)
    low, high = rng.choice((-40, -30, -20, -10, 0)), rng.choice((45, 50, 55, 60, 70))
    dims = " x ".join(str(rng.randint(4, 60) * 10) for _ in range(3))
    return [
        ("Operating temperature", f"{low} to {high} degrees C"),
        ("Ingress protection", rng.choice(("IP54", "IP65", "IP66", "IP67"))),
        ("Dimensions (mm)", dims),
        ("MTBF", f"{rng.randint(40, 160) * 1000:,} hours"),
        ("Certifications", rng.choice(("CE, UKCA, FCC", "CE, FCC, UL 61010-1", "CE, IECEx"))),
    ]


_CORE_ROWS = (
    ("List price", "price"),
    ("Weight", "weight"),
    ("Maximum power draw", "power"),
    ("Standard warranty", "warranty"),
    ("Release date", "launch"),
    ("Assembled in", "plant"),
)


def _core_rows(
    b: DocBuilder, product: Product, limit: int = len(_CORE_ROWS)
) -> list[tuple[str, str]]:
    # Legacy models have no assembly-site fact; only rows actually written are recorded.
    keys = [row for row in _CORE_ROWS if not (product.legacy and row[1] == "plant")]
    return [(label, _pf(b, product, key)) for label, key in keys[:limit]]


def _spec_sheet(world: World, product: Product) -> DemoDoc:
    family = world.family(product.family)
    b = DocBuilder(
        world, f"products/{product.slug}-spec.pdf", f"{product.name} Technical Specification"
    )
    b.para(
        f"The {product.name} is a {family.category} from the {family.name} line that "
        f"{family.pitch}. This sheet lists the reference specification for order entry, "
        "quotes and site planning."
    )
    b.heading("Key specifications")
    b.table(("Specification", product.name), _core_rows(b, product) + noise_specs(world, product))
    b.heading("Ownership")
    b.para(
        f"Product manager: {_pf(b, product, 'pm')}. Route pricing exceptions and roadmap "
        "requests through the product manager rather than through sales engineering."
    )
    b.para(
        b.pick(
            (
                "Specifications are subject to change without notice.",
                "Values are typical unless stated otherwise.",
            )
        )
    )
    return b.build()


def _overview(world: World, product: Product) -> DemoDoc:
    family = world.family(product.family)
    b = DocBuilder(world, f"products/{product.slug}-overview.md", f"{product.name} at a glance")
    opener = b.pick(
        (
            f"Meet the {product.name}, the {family.category} that {family.pitch}.",
            f"The {product.name} {family.pitch}, and it does so with very little fuss.",
            f"If your team needs a {family.category}, the {product.name} is where most "
            "conversations start.",
        )
    )
    b.para(opener)
    b.para(
        f"It weighs {_pf(b, product, 'weight')} and draws at most {_pf(b, product, 'power')}, "
        f"so it fits the power budget of most installations. The list price is "
        f"{_pf(b, product, 'price')}, and the standard warranty covers every unit for "
        f"{_pf(b, product, 'warranty')}."
    )
    b.heading("Highlights")
    features = list(_FEATURES[family.category])
    b.rng.shuffle(features)
    b.bullets(features[:4])
    b.heading("History")
    b.para(
        f"{world.company} released the {product.name} on {_pf(b, product, 'launch')}. Units are "
        f"assembled in {_pf(b, product, 'plant')}."
    )
    return b.build()


def _datasheet(world: World, product: Product) -> DemoDoc:
    b = DocBuilder(world, f"products/{product.slug}-datasheet.docx", f"{product.name} Datasheet")
    b.para(
        f"This datasheet summarizes the {product.name} for distributors and system integrators. "
        "Contact your account manager for volume pricing."
    )
    b.heading("Ordering information")
    b.table(
        ("Item", "Value"),
        [
            ("Model", product.name),
            ("List price (USD)", _pf(b, product, "price")),
            ("Warranty", _pf(b, product, "warranty")),
        ],
    )
    b.heading("Physical and electrical")
    b.table(
        ("Parameter", "Value"),
        [
            ("Weight", _pf(b, product, "weight")),
            ("Maximum power draw", _pf(b, product, "power")),
            *noise_specs(world, product)[:3],
        ],
    )
    b.heading("In the box")
    b.bullets(
        [
            f"{product.name} main unit",
            "Mounting kit and template",
            "Quick start card",
            "Declaration of conformity",
        ]
    )
    return b.build()


def _reseller_sheet(world: World, product: Product) -> DemoDoc:
    reseller = rng_for(world.seed, "reseller", product.slug).choice(names.RESELLERS)
    b = DocBuilder(
        world,
        f"partners/{slugify(reseller)}/{product.slug}.txt",
        f"{reseller}: {product.name} product sheet",
        author=reseller,
    )
    b.para(
        f"{reseller} is an authorized {world.company} reseller. The figures below are copied "
        "from the manufacturer's specification."
    )
    b.table(("Item", "Manufacturer figure"), _core_rows(b, product, limit=4))
    b.para(
        b.pick(
            (
                "Lead time is usually two to three weeks from order confirmation.",
                "Stock levels are updated every morning; call for availability.",
                "Ask us about bundled installation and commissioning.",
            )
        )
    )
    return b.build()


def _setup_guide(world: World, product: Product) -> DemoDoc:
    family = world.family(product.family)
    b = DocBuilder(world, f"guides/{product.slug}-setup-guide.pdf", f"{product.name} Setup Guide")
    b.para(
        f"This guide walks an installer through unpacking, mounting and commissioning the "
        f"{product.name}. Read it fully before you start."
    )
    b.heading("Before you begin")
    b.bullets(
        [
            f"Plan for a supply that can deliver at least {_pf(b, product, 'power')} continuously.",
            f"The unit weighs {_pf(b, product, 'weight')}; check that the mounting surface can "
            "carry it.",
            "Keep the serial number label visible after installation.",
        ]
    )
    b.heading("Commissioning")
    steps = [
        "Connect the protective earth before any other cable.",
        "Power the unit and wait for the status light to turn steady green.",
        f"Open the {family.name} web console and create the administrator account.",
        "Install the latest firmware from the support portal.",
        "Record the commissioning report and file it with the site documents.",
    ]
    b.bullets(steps)
    b.para(
        "If the status light blinks red after power-up, disconnect the supply, wait thirty "
        "seconds and try again before calling support."
    )
    return b.build()


def _archive_sheet(world: World, product: Product) -> DemoDoc:
    b = DocBuilder(
        world,
        f"archive/{product.slug}-spec.md",
        f"{product.name} (discontinued) specification",
        kind="archive",
        historic_date=world.facts[f"{product.slug}.launch"].value,
    )
    b.para(
        f"The {product.name} is no longer sold. This archived sheet is kept for customers "
        "with installed units and for spare parts planning. Current models are listed in the "
        "product catalog."
    )
    b.table(("Specification", "Value at end of sale"), _core_rows(b, product))
    b.para("Spare parts remain available for seven years after the end of sale.")
    return b.build()


def compose_products(world: World) -> list[DemoDoc]:
    """Every product-level document of ``world``, current models and archive."""
    docs: list[DemoDoc] = []
    for product in world.current_products():
        docs += [
            _spec_sheet(world, product),
            _overview(world, product),
            _datasheet(world, product),
            _reseller_sheet(world, product),
            _setup_guide(world, product),
        ]
    docs += [_archive_sheet(world, product) for product in world.legacy_products()]
    return docs
