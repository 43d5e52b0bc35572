"""The extractive rules: statement units to facts, each with several question phrasings.

Every rule reads one :class:`~ragtune.synth.units.Unit` (and where it sits: the
document's title, the option its section documents) and yields :class:`Candidate`
facts whose answer is a span of that unit. Rules know the shapes facts take in
documentation, not any domain: option and flag descriptions, ``X defaults to Y``,
tables, ``Key: value`` items, definitions (``X is a Y``), ``X is used to Y``,
``X requires Y``, passives with a date, version, place, name or duration (``was added
in 2.1``), and quantities (``weighs 1.4 kg``)::

    >>> from ragtune.synth.units import split_units
    >>> units = split_units("# `--depth`\\n\\nLimits how deep to recurse. Defaults to `3`.")
    >>> [(c.relation, c.answer, c.questions[0]) for c in facts_in_units(units, title="CLI")]
    [('option', '--depth', 'Which command-line option do you use to limit how deep to recurse?'), ('default', '3', 'What is the default value of `--depth`?')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ragtune.synth import templates as t
from ragtune.synth.units import Unit

_V = t.VALUE.pattern
# A value ends its clause: at punctuation, or where a function word starts the next phrase.
_END = (
    r"(?=$|[.,;:)]|\s\(|\s(?:and|or|but|unless|if|when|by|for|in|on|at|with|from|to|of|after"
    r"|before|under|because|so|while|as|unless|per)\b)"
)
_SUBJ = r"(?P<subj>[^,;:()]{2,80}?)"
_AUX = r"(?P<aux>is|are|was|were|has been|have been|will be|can be)"
_PARTICIPLE = (
    r"(?P<pp>[a-z]+ed|built|made|written|held|run|sent|kept|paid|given|shown|set|done|taken|found"
    r"|known|sold|begun|drawn|led|read|seen|told|brought|bought|chosen|frozen|shipped|split)"
)
COPULA = re.compile(
    rf"^{_SUBJ} {_AUX} (?:(?:set to|limited to|about|approximately|currently|now|at most"
    rf"|at least|up to|only) )?(?P<val>{_V}){_END}"
)
PASSIVE = re.compile(
    rf"^{_SUBJ} {_AUX} (?:[a-z]+ly )?{_PARTICIPLE} (?:(?:only|first|again) )?"
    rf"(?P<prep>in|on|at|by|within|after|every|for|since|to) "
    rf"(?:(?:version|release|v) )?(?P<val>{_V}|{t.NAME}){_END}"
)
MEASURE = re.compile(
    rf"^{_SUBJ} (?P<verb>weighs|costs|takes|lasts|holds|stores|supports|allows|accepts|draws|uses"
    rf"|needs|keeps|retries|waits|runs|spawns|returns) (?:(?:at most|up to|at least|a maximum of"
    rf"|a minimum of|about|around|approximately|roughly|over|under|less than|more than) )?"
    rf"(?P<val>{t.QUANTITY}){_END}"
)
DEFAULTS_TO = re.compile(
    rf"^{_SUBJ} (?:defaults to|is set by default to|is by default) (?P<val>{_V}|\w+){_END}"
)
THE_DEFAULT = re.compile(
    rf"^(?:The|Its) default(?: value)?(?: (?:of|for) (?P<subj>[^,;:()]{{2,60}}?))? (?:is|are) "
    rf"(?P<val>{_V}|\w+){_END}"
)
BARE_DEFAULT = re.compile(
    rf"(?:^|\()(?:Defaults to|Default(?: value)?(?: is)?:?) (?P<val>{_V}|\w+){_END}"
)
USED = re.compile(
    rf"^{_SUBJ} (?P<aux>is|are|can be|is mainly|is typically|is usually) used (?P<prep>to|for) "
    r"(?P<val>[^;:()]{3,120}?)(?=$|\.(?:\s|$)|[;:]|, (?:which|and|but|so)\b)"
)
REQUIRES = re.compile(
    rf"^{_SUBJ} (?P<verb>requires|needs|depends on) (?P<val>[^;:,()]{{2,80}}?)(?=$|\.(?:\s|$)|[;:,]| to (?:be|run|work|use|have|make|build|install|start)\b| if\b| when\b)"
)
DEFINITION = re.compile(
    rf"^(?P<subj>{t.CODE}|{t.NAME}) (?:is|are) (?P<val>(?:a|an|the) [^;:,()]{{3,110}}?)"
    r"(?=$|\.(?:\s|$)|[;:,]| that\b| which\b| with\b| for\b| and\b)"
)
ACTIVE_DATE = re.compile(
    rf"^(?P<subj>{t.NAME}) (?P<verb>released|launched|introduced|announced|published|founded"
    rf"|acquired|opened|shipped|deprecated|removed|added|dropped) (?P<obj>[^,;:()]{{2,60}}?) "
    rf"(?P<prep>on|in) (?P<val>{t.DATE}|{t.YEAR}|{t.VERSION}){_END}"
)
MAPS = re.compile(
    rf"^(?P<subj>{t.CODE}|{t.NAME}|[^,;:()]{{2,60}}?):? (?P<verb>corresponds to|maps to|is an alias for"
    rf"|is equivalent to|is short for|stands for) (?P<val>[^;:,()]{{2,80}}?)(?=$|\.(?:\s|$)|[;:,])"
)
SINCE = re.compile(
    rf"^(?:Since|As of|Starting with|Starting from|From) (?:(?:version|release|v) )?(?P<val>{t.VERSION}|{t.DATE}|{t.YEAR}), "
    rf"(?P<subj>[^,;:()]{{2,60}}?) (?P<verb>[a-z]+s) (?P<obj>[^;:()]{{2,80}}?)(?=$|\.(?:\s|$)|[;:])"
)
KEY_VALUE = re.compile(r"^(?P<key>[A-Z][\w /()'&-]{1,48}?): (?P<val>[^;:]{1,60}?)\.?$")
_FLAGS = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)")
_OPTION_HEADING = re.compile(
    r"^(?:`?--?[A-Za-z0-9][\w-]*(?:[ =][\w<>\[\]-]+)?`?[, /]*)+$|^`[a-z][a-z0-9_.-]*`$"
)
_OPTION_ITEM = re.compile(
    r"^(?P<name>`[^`]{1,60}`|--?[A-Za-z0-9][\w-]*)(?:,? ?`?--?[\w-]+`?)*\s*[:—–-]\s+(?P<desc>.+)$"
)
_PROSE_HEADERS = {"description", "notes", "note", "comment", "comments", "remarks", "explanation"}
_GENERIC_HEADERS = {"value", "values", "details", "detail", "data", "setting", "info", "entry"}
_SKIP_CELLS = {"", "-", "—", "–", "yes", "no", "y", "n", "true", "false", "n/a", "x", "✓", "none"}
_PAST_TO_BASE = {
    "released": "release",
    "launched": "launch",
    "introduced": "introduce",
    "announced": "announce",
    "published": "publish",
    "founded": "found",
    "acquired": "acquire",
    "opened": "open",
    "shipped": "ship",
    "deprecated": "deprecate",
    "removed": "remove",
    "added": "add",
    "dropped": "drop",
}


@dataclass(frozen=True)
class Candidate:
    """A fact found by a rule: its answer (a span of the source, ``span`` in source
    offsets), what it is about, and its question phrasings (first is the plainest)."""

    relation: str
    subject: str
    answer: str
    span: tuple[int, int]
    questions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    unit_text: str = field(default="", compare=False)


@dataclass
class _Context:
    title: str
    option: tuple[str, tuple[int, int]] | None = None  # the option this section documents
    option_described: bool = False


def _answer(unit: Unit, start: int, end: int) -> tuple[str, tuple[int, int]]:
    """The answer text between ``start`` and ``end`` of the unit, backticks and closing
    punctuation trimmed, and its source span."""
    text = unit.text
    while end > start and text[end - 1] in " .,;:":
        end -= 1
    if end - start >= 2 and text[start] == "`" and text[end - 1] == "`":
        start, end = start + 1, end - 1
    return text[start:end], unit.source_span(start, end)


def _make(
    unit: Unit,
    relation: str,
    subject: str,
    start: int,
    end: int,
    questions: Sequence[str],
    scope: str,
) -> Candidate | None:
    answer, span = _answer(unit, start, end)
    questions = [q for q in questions if q]
    if not answer or len(questions) < 1:
        return None
    if t.is_generic(subject):
        # "What is the list price?" is unanswerable without where it is stated.
        if " " in subject and subject[:1].isupper():  # "Support for X" reads "support for X"
            first = subject.split(" ", 1)[0]
            lowered = first.lower() + subject[len(first) :]
            questions = [q.replace(f" {subject}", f" {lowered}") for q in questions]
        questions = [s for s in (t.scoped(q, scope) for q in questions) if s]
    elif scope:
        questions = [*questions, t.scoped(questions[0], scope)]
    if len(questions) < 2:
        return None
    return Candidate(
        relation,
        subject,
        answer,
        span,
        tuple(dict.fromkeys(questions)),
        tuple(t.number_alias(answer) if t.value_kind(answer) == "number" else ()),
        unit.text,
    )


def _option_in_heading(unit: Unit) -> tuple[str, tuple[int, int]] | None:
    text = unit.text
    if not _OPTION_HEADING.match(text):
        return None
    flags = [m for m in _FLAGS.finditer(text)]
    if flags:
        best = max(flags, key=lambda m: (m.group(1).startswith("--"), len(m.group(1))))
        return best.group(1), unit.source_span(best.start(1), best.end(1))
    name = text.strip("`")
    start = text.index(name)
    return name, unit.source_span(start, start + len(name))


def _statement_texts(text: str) -> Iterator[tuple[int, str]]:
    """The unit's text and, after a leading clause ("Once accepted, the X is ..."), the rest."""
    yield 0, text
    first = text.split(" ", 1)[0].lower()
    comma = text.find(", ")
    if first in t.CLAUSE_STARTS | {"once", "today"} and 0 < comma < 80:
        rest = text[comma + 2 :]
        yield comma + 2, rest


def _row_facts(unit: Unit, scope: str) -> Iterator[Candidate]:
    key = unit.cells[0] if unit.cells else ""
    if not key or len(key.split()) > 8:
        return
    key_subject = key
    for index in range(1, min(len(unit.cells), len(unit.header))):
        value, header = unit.cells[index], unit.header[index].strip()
        start, end = unit.cell_spans[index]
        if value.lower() in _SKIP_CELLS or not header or len(value.split()) > 8:
            continue
        if header.lower() in _PROSE_HEADERS:
            continue  # a description is asked about by the option rule, not as "the description of"
        if header.split(" ")[-1].lower().endswith("ed"):
            continue  # "Opened", "Joined": a verb, not an attribute to ask "what is the" of
        needs_scope = not re.search(r"[A-Za-z]{2}", key)  # "3.5.0" means little on its own
        if header.split(" ")[0].lower() in _GENERIC_HEADERS:
            attribute = key[:1].lower() + key[1:] if not key[:2].isupper() else key
            questions = [
                t.scoped(f"what is the {attribute}", scope),
                t.ask(f"In '{scope}', what is listed as the {attribute}") if scope else "",
            ]
            candidate = _make(unit, "table", attribute, start, end, questions, "")
        else:
            attribute = header if header[:2].isupper() else header[:1].lower() + header[1:]
            questions = [
                t.ask(f"What is the {attribute} of {key_subject}"),
                t.ask(f"What {attribute} is listed for {key_subject}"),
                t.ask(f"For {key_subject}, what is the {attribute}"),
            ]
            if needs_scope:
                questions = [t.scoped(q, scope) for q in questions]
            candidate = _make(unit, "table", key_subject, start, end, questions, scope)
        if candidate:
            yield candidate


def _unit_facts(unit: Unit, context: _Context) -> Iterator[Candidate]:
    scope = context.title
    text = unit.text
    if unit.kind == "row":
        yield from _row_facts(unit, scope)
        return
    if context.option and unit.first_in_block and not context.option_described:
        name, span = context.option
        context.option_described = True
        questions = t.option_questions(name, text)
        if questions:
            yield Candidate("option", f"`{name}`", name, span, tuple(questions), (), text)
    if unit.kind == "item":
        if MAPS.match(text):
            yield from _statement_facts(unit, text, 0, scope, "")
            return
        item = _OPTION_ITEM.match(text)
        if item:
            name = item.group("name").strip("`")
            questions = t.option_questions(name, item.group("desc").split(". ")[0])
            made = _make(
                unit, "option", f"`{name}`", item.start("name"), item.end("name"), questions, ""
            )
            if made:
                yield made
            return
        kv = KEY_VALUE.match(text)
        if (
            kv
            and len(kv.group("key").split()) <= 6
            and len(kv.group("val").split()) <= 8
            and "?" not in kv.group("val")
        ):
            key, value = kv.group("key"), kv.group("val")
            who = "who" if re.fullmatch(t.NAME, value) and len(value.split()) >= 2 else "what"
            if who == "what" and re.fullmatch(t.NAME, key) and value.split(" ")[0] in t.VERBS:
                return  # "Ann Berg: send the summary": an action item, not a fact
            lone_capital = not any(w[:1].isupper() for w in key.split()[1:])
            key_l = key[:1].lower() + key[1:] if lone_capital and not key[:2].isupper() else key
            questions = [
                t.scoped(f"{who} is the {key_l}", scope),
                t.ask(f"In '{scope}', {who} is listed as the {key_l}") if scope else "",
            ]
            made = _make(unit, "field", key_l, kv.start("val"), kv.end("val"), questions, "")
            if made:
                yield made
    option_subject = f"`{context.option[0]}`" if context.option else ""
    for shift, statement in _statement_texts(text):
        yield from _statement_facts(unit, statement, shift, scope, option_subject)


@dataclass(frozen=True)
class _Found:
    """What one statement rule matched: a relation about a subject, asked several ways.

    An empty ``subject`` means the rule matched but names nothing to ask about.
    """

    relation: str
    subject: str
    match: re.Match[str]
    questions: Sequence[str] = ()


def _default_rule(text: str, option_subject: str) -> _Found | None:
    for pattern in (THE_DEFAULT, BARE_DEFAULT, DEFAULTS_TO):
        match = pattern.search(text) if pattern is BARE_DEFAULT else pattern.match(text)
        if match:
            named = match.groupdict().get("subj")
            subject = (t.clean_subject(named) if named else option_subject) or ""
            return _Found(
                "default", subject, match, t.default_questions(subject) if subject else ()
            )
    return None


_MAPS_BASE = {"corresponds to": "correspond to", "maps to": "map to", "stands for": "stand for"}


def _maps_rule(text: str, option_subject: str) -> _Found | None:
    match = MAPS.match(text)
    if not match:
        return None
    named = match.group("subj")
    subject = named if named.startswith("`") else t.clean_subject(named)
    if not subject:
        return None
    verb = match.group("verb")
    if verb in _MAPS_BASE:
        first = t.ask(f"What does {subject} {_MAPS_BASE[verb]}")
    else:
        first = t.ask(f"What {verb} {subject}")
    return _Found("maps", subject, match, [first, t.ask(f"{subject} {verb} what")])


def _since_rule(text: str, option_subject: str) -> _Found | None:
    match = SINCE.match(text)
    if not match:
        return None
    subject = t.clean_subject(match.group("subj"))
    since_base = t.base_form(match.group("verb"))
    if not (subject and since_base):
        return None
    version = t.value_kind(match.group("val")) == "version"
    rest = f"{subject} {since_base} {match.group('obj')}"
    questions = [
        t.ask(f"Since {'which version' if version else 'when'} does {rest}"),
        t.ask(f"Starting {'with which version' if version else 'when'} does {rest}"),
    ]
    return _Found("since", subject, match, questions)


def _definition_rule(text: str, option_subject: str) -> _Found | None:
    match = DEFINITION.match(text)
    if not (match and len(match.group("val").split()) <= 14):
        return None
    subject = match.group("subj")
    if subject.lower() in t.PRONOUNS or subject.split()[0].lower() in t.CLAUSE_STARTS:
        return None
    questions = [t.ask(f"What is {subject}"), t.ask(f"How is {subject} described")]
    return _Found("definition", subject, match, questions)


def _used_rule(text: str, option_subject: str) -> _Found | None:
    match = USED.match(text)
    if not (match and len(match.group("val").split()) <= 16):
        return None
    subject = t.clean_subject(match.group("subj"))
    if not subject:
        return None
    prep = match.group("prep")
    verb = " do" if prep == "to" else ""
    aux = match.group("aux")
    questions = [t.ask(f"What can {subject} be used {prep}{verb}")]
    if aux in ("is", "are"):
        questions.insert(0, t.ask(f"What {aux} {subject} used {prep}{verb}"))
    else:
        questions.append(t.ask(f"For what purpose can {subject} be used"))
    return _Found("used_for", subject, match, questions)


_REQUIRES_BASE = {"requires": "require", "needs": "need", "depends on": "depend on"}


def _requires_rule(text: str, option_subject: str) -> _Found | None:
    match = REQUIRES.match(text)
    if not (match and len(match.group("val").split()) <= 10):
        return None
    subject = t.clean_subject(match.group("subj"))
    if not subject:
        return None
    verb = _REQUIRES_BASE[match.group("verb")]
    questions = [t.ask(f"What does {subject} {verb}"), t.ask(f"What must {subject} have to work")]
    if verb == "require":
        questions.insert(1, t.ask(f"What is required by {subject}"))
    return _Found("requires", subject, match, questions)


def _event_rule(text: str, option_subject: str) -> _Found | None:
    match = ACTIVE_DATE.match(text)
    if not match:
        return None
    past_base = _PAST_TO_BASE[match.group("verb")]
    who, obj = match.group("subj"), match.group("obj")
    kind = t.value_kind(match.group("val"))
    second = {"version": "In which version", "year": "In what year"}.get(kind, "On what date")
    first = "In which release" if kind == "version" else "When"
    questions = [
        t.ask(f"{first} did {who} {past_base} {obj}"),
        t.ask(f"{second} did {who} {past_base} {obj}"),
    ]
    return _Found("event", f"{who} {obj}", match, questions)


def _passive_rule(text: str, option_subject: str) -> _Found | None:
    match = PASSIVE.match(text)
    subject = t.clean_subject(match.group("subj")) if match else ""
    if not (match and subject):
        return None
    questions = t.passive_questions(
        subject, match.group("aux"), match.group("pp"), match.group("prep"), match.group("val")
    )
    return _Found("passive", subject, match, questions)


def _measure_rule(text: str, option_subject: str) -> _Found | None:
    match = MEASURE.match(text)
    subject = t.clean_subject(match.group("subj")) if match else ""
    if not (match and subject):
        return None
    verb = match.group("verb")
    stem = verb[:-2] if verb.endswith(("sses", "shes", "ches")) else verb[:-1]
    stem = {"retrie": "retry"}.get(stem, stem)
    return _Found("quantity", subject, match, t.how_much(subject, stem, match.group("val")))


def _copula_rule(text: str, option_subject: str) -> _Found | None:
    match = COPULA.match(text)
    subject = t.clean_subject(match.group("subj")) if match else ""
    if not (match and subject) or subject.lower().startswith(("there", "here")):
        return None
    aux = match.group("aux")
    if t.value_kind(match.group("val")) in ("date", "year"):
        questions = [t.ask(f"When {aux} {subject}"), t.ask(f"What date {aux} {subject}")]
    else:
        questions = [t.ask(f"What {aux} {subject}"), t.ask(f"What value {aux} given for {subject}")]
    return _Found("value", subject, match, questions)


# The statement rules in the order they are tried, each with whether a match ends the
# statement (a default, a mapping, a date… says one thing) or later rules still read it
# (a definition can also say what a thing requires).
_STATEMENT_RULES: tuple[tuple[Callable[[str, str], _Found | None], bool], ...] = (
    (_default_rule, True),
    (_maps_rule, True),
    (_since_rule, True),
    (_definition_rule, False),
    (_used_rule, False),
    (_requires_rule, False),
    (_event_rule, True),
    (_passive_rule, True),
    (_measure_rule, True),
    (_copula_rule, True),
)


def _statement_facts(
    unit: Unit, text: str, shift: int, scope: str, option_subject: str
) -> Iterator[Candidate]:
    for rule, ends_statement in _STATEMENT_RULES:
        found = rule(text, option_subject)
        if found is None:
            continue
        if found.subject:
            start, end = shift + found.match.start("val"), shift + found.match.end("val")
            candidate = _make(
                unit, found.relation, found.subject, start, end, found.questions, scope
            )
            if candidate:
                yield candidate
        if ends_statement:
            return


def facts_in_units(units: Sequence[Unit], title: str = "") -> list[Candidate]:
    """Every candidate fact of ``units`` (one document's or one chunk's), in order.

    ``title`` is the document's title; questions about generic subjects ("the list
    price") are scoped by it ("According to 'Price list', what is the list price?").
    """
    context = _Context(title=title)
    out: list[Candidate] = []
    for unit in units:
        if unit.kind == "heading":
            context.option = _option_in_heading(unit)
            context.option_described = False
            if not context.title:
                context.title = unit.text
            continue
        out.extend(_unit_facts(unit, context))
    return out
