"""Question templates: four phrasings per kind of fact.

A split can then train on some phrasings of a fact (``p0``, ``p1``) and test on the
others, which separates memorizing a question from knowing the fact.
Every template names its subject in full (the exact product, office, person, firmware
line and version), so that each question has one answer in the world even though
sibling products and legacy models state different numbers.

>>> from ragtune.demo.facts import Fact
>>> fact = Fact("corvane-g200.price", "product.price", {"product": "Corvane G200"}, "money", 1249)
>>> [q.question for q in questions_for(fact, "Veltrona Systems", [])][0]
'What is the list price of the Corvane G200?'
"""

from __future__ import annotations

from ragtune.demo.facts import Fact
from ragtune.types import QAExample

TEMPLATES: dict[str, tuple[str, ...]] = {
    "company.founded": (
        "In what year was {company} founded?",
        "When was {company} established?",
        "What is the founding year of {company}?",
        "Since which year has {company} been in business?",
    ),
    "product.price": (
        "What is the list price of the {product}?",
        "How much does the {product} cost?",
        "What does {company} charge for the {product}?",
        "What is the price of the {product} in US dollars?",
    ),
    "product.weight": (
        "How much does the {product} weigh?",
        "What is the weight of the {product}?",
        "What is the {product}'s weight in kilograms?",
        "How heavy is the {company} {product}?",
    ),
    "product.power": (
        "What is the maximum power draw of the {product}?",
        "How many watts does the {product} draw at most?",
        "What is the peak power consumption of the {product}?",
        "What maximum power rating is listed for the {product}?",
    ),
    "product.launch": (
        "When was the {product} released?",
        "On what date did the {product} launch?",
        "What is the release date of the {product}?",
        "When did {company} launch the {product}?",
    ),
    "product.warranty": (
        "How long is the standard warranty on the {product}?",
        "How many months of warranty come with the {product}?",
        "What warranty period does {company} give the {product}?",
        "For how many months is the {product} covered by the standard warranty?",
    ),
    "product.pm": (
        "Who is the product manager for the {product}?",
        "Which {company} employee is the product manager of the {product}?",
        "Who manages the {product} as a product?",
        "Name the product manager responsible for the {product}.",
    ),
    "product.plant": (
        "In which city is the {product} assembled?",
        "Where is the {product} manufactured?",
        "Which city's plant builds the {product}?",
        "The {product} is assembled in which city?",
    ),
    "office.city": (
        "In which city is {company}'s {office}?",
        "Where is the {office} of {company} located?",
        "Which city hosts {company}'s {office}?",
        "What city is {company}'s {office} in?",
    ),
    "office.opened": (
        "In what year did {company}'s {office} open?",
        "When was the {office} of {company} opened?",
        "What year was {company}'s {office} established?",
        "Since which year has {company} operated its {office}?",
    ),
    "office.headcount": (
        "How many people work at {company}'s {office}?",
        "What is the headcount of the {company} {office}?",
        "How many employees does {company}'s {office} have?",
        "What is the staff count at {company}'s {office}?",
    ),
    "office.manager": (
        "Who manages {company}'s {office}?",
        "Who is the site manager of the {company} {office}?",
        "Who runs {company}'s {office}?",
        "Name the manager of {company}'s {office}.",
    ),
    "exec.role": (
        "Who is the {role} of {company}?",
        "Who serves as {company}'s {role}?",
        "Name {company}'s {role}.",
        "Which person holds the position of {role} at {company}?",
    ),
    "person.joined": (
        "In what year did {person} join {company}?",
        "When did {person} start working at {company}?",
        "What year was {person} hired by {company}?",
        "Since which year has {person} worked at {company}?",
    ),
    "person.city": (
        "In which city is {person} of {company} based?",
        "Which city does {person} work in?",
        "Where is {person}'s office located (city)?",
        "In what city does {company} employee {person} work?",
    ),
    "firmware.released": (
        "When was {family} firmware {version} released?",
        "What is the release date of {family} firmware version {version}?",
        "On what date did {company} ship firmware {version} for the {family} line?",
        "When did {family} firmware {version} come out?",
    ),
    "firmware.latest": (
        "What is the latest firmware version for the {family} product line?",
        "Which firmware version is current for {family} devices?",
        "What is the newest {family} firmware release?",
        "Which version number does the most recent {family} firmware carry?",
    ),
    "policy.return_window": (
        "How many days do customers have to return a {company} product?",
        "What is {company}'s return window?",
        "Within how many days can a {company} purchase be returned?",
        "How long is the return period for {company} products?",
    ),
    "policy.restocking_fee": (
        "What restocking fee does {company} charge on returns?",
        "How large is the restocking fee for returned {company} products?",
        "What percentage is deducted as a restocking fee on {company} returns?",
        "What is {company}'s restocking fee?",
    ),
    "policy.free_shipping": (
        "Above what order value is shipping free at {company}?",
        "What is the free-shipping threshold for {company} orders?",
        "How much must an order total for {company} to ship it for free?",
        "From what order amount does {company} waive shipping fees?",
    ),
    "policy.extended_warranty": (
        "How much does {company}'s extended warranty cost per year?",
        "What is the yearly price of the {company} extended warranty?",
        "What does {company} charge per year to extend a warranty?",
        "What is the annual fee for {company}'s extended warranty?",
    ),
    "policy.rma_days": (
        "How long does {company} take to process an RMA?",
        "Within how many business days does {company} process a return merchandise authorization?",
        "What is {company}'s RMA processing time?",
        "How quickly does {company} handle an RMA request?",
    ),
    "policy.claims_email": (
        "Which email address handles warranty claims at {company}?",
        "Where should {company} warranty claims be emailed?",
        "What is the email address for {company} warranty claims?",
        "To which address do customers send {company} warranty claims?",
    ),
    "policy.sla": (
        "What is {company}'s first-response time for a {priority} support ticket?",
        "How fast does {company} support respond to a {priority} ticket?",
        "What response time does {company} promise for {priority} tickets?",
        "Within how many hours does {company} answer a {priority} support case?",
    ),
    "policy.tier_price": (
        "How much does the {company} {tier} support plan cost per year?",
        "What is the annual price of {company}'s {tier} plan?",
        "What does {company} charge per year for {tier}?",
        "What is the yearly fee for the {tier} support plan from {company}?",
    ),
}


def questions_for(fact: Fact, company: str, doc_ids: list[str]) -> list[QAExample]:
    """One :class:`QAExample` per template of the fact's group, ids ``<fact_id>:p<n>``."""
    fields = {"company": company, **fact.subject}
    return [
        QAExample(
            id=f"{fact.id}:p{n}",
            question=template.format(**fields),
            answers=fact.answers,
            fact_id=fact.id,
            doc_ids=list(doc_ids),
            phrasing=f"p{n}",
            meta={"group": fact.group, "kind": fact.kind},
        )
        for n, template in enumerate(TEMPLATES[fact.group])
    ]
