"""Pools of invented names the demo world draws from.

Every name here is made up so that no pretrained model can already know a fact about
it. All strings are plain ASCII, so they survive every document format untouched
(PDF core fonts included).

>>> COMPANIES[0][0]
'Veltrona Systems'
"""

from __future__ import annotations

# (company name, email domain). Seed 0 is always the first one.
COMPANIES: tuple[tuple[str, str], ...] = (
    ("Veltrona Systems", "veltrona.example"),
    ("Quillmark Dynamics", "quillmark.example"),
    ("Orvenna Instruments", "orvenna.example"),
    ("Brisklane Technologies", "brisklane.example"),
    ("Caldrith Labs", "caldrith.example"),
    ("Maerlow Industries", "maerlow.example"),
)

FAMILY_NAMES: tuple[str, ...] = (
    "Corvane",
    "Halvix",
    "Tessaro",
    "Orlune",
    "Vantrel",
    "Seraphyx",
    "Drovik",
    "Ambrel",
    "Kestrane",
    "Lumivar",
    "Pyrenth",
    "Zolvar",
)

MODEL_LETTERS = "GKRTVXZ"

# (category, price range USD, weight range kg, power range W, one-line pitch)
CATEGORIES: tuple[tuple[str, tuple[int, int], tuple[float, float], tuple[int, int], str], ...] = (
    (
        "edge gateway",
        (400, 2500),
        (0.8, 3.5),
        (12, 60),
        "collects readings from field sensors and forwards them securely to the plant network",
    ),
    (
        "thermal imaging camera",
        (1200, 9000),
        (0.6, 2.4),
        (5, 25),
        "watches switchgear, bearings and furnaces for hot spots before they fail",
    ),
    (
        "ultrasonic flow meter",
        (900, 4800),
        (1.5, 7.5),
        (3, 18),
        "measures liquid flow through closed pipes without cutting into them",
    ),
    (
        "battery storage cabinet",
        (4000, 24000),
        (60.0, 240.0),
        (300, 2400),
        "stores energy on site to shave demand peaks and ride through outages",
    ),
    (
        "air quality monitor",
        (250, 1800),
        (0.4, 2.0),
        (2, 12),
        "tracks particulates, VOCs and carbon dioxide on factory floors and in offices",
    ),
    (
        "vibration analyzer",
        (700, 5200),
        (0.3, 1.8),
        (2, 10),
        "listens to rotating machinery and flags imbalance, misalignment and wear",
    ),
)

FIRST_NAMES: tuple[str, ...] = (
    "Ilse",
    "Tobiah",
    "Marisol",
    "Quentin",
    "Anouk",
    "Desmond",
    "Priyanka",
    "Oskar",
    "Leontine",
    "Rafferty",
    "Sunniva",
    "Caspian",
    "Yelena",
    "Bram",
    "Odalys",
    "Thaddeus",
    "Nerea",
    "Emrys",
    "Calla",
    "Ivo",
    "Saoirse",
    "Matthias",
    "Wren",
    "Ottoline",
)

LAST_NAMES: tuple[str, ...] = (
    "Marwood",
    "Castellane",
    "Oyelaran",
    "Vintergaard",
    "Halloran",
    "Zeitler",
    "Brambury",
    "Drummelow",
    "Faircloth",
    "Kettleby",
    "Quennell",
    "Ostrander",
    "Lindqvist",
    "Abernathy",
    "Pellegrin",
    "Sorvino",
    "Tremayne",
    "Ashgrove",
    "Valcourt",
    "Rooksby",
    "Everhart",
    "Delacroix",
    "Morrigan",
    "Stellwagen",
)

CITIES: tuple[str, ...] = (
    "Port Almira",
    "Calderwick",
    "Nysa Falls",
    "Vennholm",
    "Larkspur Bay",
    "Oststrand",
    "Marrowgate",
    "Elsinore Ridge",
    "Tavira Point",
    "Quenby",
    "Harrowmere",
    "San Lucero",
)

# (office key, how documents name it)
OFFICE_ROLES: tuple[tuple[str, str], ...] = (
    ("hq", "global headquarters"),
    ("eu-sales", "European sales office"),
    ("apac-support", "Asia-Pacific support center"),
    ("rnd", "research and development lab"),
    ("plant-north", "northern assembly plant"),
    ("plant-south", "southern assembly plant"),
)

EXEC_ROLES: tuple[tuple[str, str], ...] = (
    ("ceo", "Chief Executive Officer"),
    ("cto", "Chief Technology Officer"),
    ("cfo", "Chief Financial Officer"),
    ("vp-support", "Vice President of Customer Support"),
    ("vp-sales", "Vice President of Sales"),
)

STAFF_TITLES: tuple[str, ...] = (
    "Principal Firmware Engineer",
    "Field Applications Engineer",
    "Support Team Lead",
    "Quality Assurance Manager",
    "Technical Writer",
    "Supply Chain Analyst",
    "Solutions Architect",
)

RESELLERS: tuple[str, ...] = (
    "Northbeam Distribution",
    "Coralfinch Supply",
    "Tidewater Industrial",
    "Kestrel Automation Partners",
)

COMPETITORS: tuple[str, ...] = (
    "Grennard Apparatus",
    "Pollux Fieldworks",
    "Ivoryline Controls",
)

SUPPORT_TIERS: tuple[tuple[str, str], ...] = (
    ("essential", "Care Essential"),
    ("plus", "Care Plus"),
    ("premier", "Care Premier"),
)
