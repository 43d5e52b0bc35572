"""Values, subjects and question phrasings: the vocabulary the extractive rules share.

A *value* is what a question asks for: a date, a version, a number with its unit, a
code literal, a name. A *subject* is what the sentence says it about. ``phrase``
turns a subject, a relation and a value kind into several questions, so one fact
has more than one wording::

    >>> m = VALUE.search("It waits 10 business days.")
    >>> m.group(0), value_kind(m.group(0))
    ('10 business days', 'number')
    >>> ask("what is  the default value of `port`")
    'What is the default value of `port`?'
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
DATE = (
    rf"(?:{MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|\d{{1,2}} {MONTH},? \d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|{MONTH} \d{{4}})"
)
YEAR = r"(?:1[89]\d\d|2[01]\d\d)"
VERSION = r"(?:v?\d+\.\d+(?:\.\d+)*(?:(?:a|b|rc|\.dev|\.post)\d*)?\+?)"
_STOP = (
    "and|or|but|if|unless|when|while|to|of|in|on|at|by|for|from|with|without|the|a|an|is|are|"
    "was|were|be|per|as|than|then|so|that|which|it|its|this|these|those|after|before|each|every|"
    "until|since|into|over|under|not|only|also"
)
_MODIFIER = r"(?:business|working|calendar|consecutive|full|extra|additional)"
UNIT = rf"(?:{_MODIFIER} )?(?!(?:{_STOP})\b)(?:[a-z]{{1,14}}|[KMGT]i?B|[A-Z]{{1,3}}\b|°[CF])"
NUMBER = r"(?:[$€£] ?)?\d[\d,]*(?:\.\d+)?(?: ?%)?"
QUANTITY = rf"{NUMBER}(?: {UNIT})?(?: per (?:[a-z]{{2,12}}))?"
CODE = r"`[^`\n]{1,60}`"
NAME = r"(?:[A-Z][\w.&'-]*(?: (?:of |de |von |van |the )?[A-Z][\w.&'-]*){0,4})"
VALUE = re.compile(
    rf"(?<![\w$€£.]){DATE}(?!\w)|(?<![\w.]){VERSION}(?![\w]|\.\d)|(?<![\w.]){QUANTITY}(?![\w]|\.\d)"
    rf"|{CODE}"
)
_DATE_ONLY = re.compile(rf"^(?:{DATE}|{YEAR})$")
_VERSION_ONLY = re.compile(rf"^{VERSION}$")
_NUMBER_START = re.compile(rf"^{NUMBER}")
TIME_UNITS = _words(
    """
    ms s second seconds minute minutes hour hours day days week weeks month months year
    years
    """
)
PRONOUNS = _words(
    """
    it its this that these those they them he she we you i there here which such one
    what who both either neither all some none each other others
    """
)
CLAUSE_STARTS = _words(
    """
    if when whenever for to in while as because since after before although though
    unless once with without note see also so but and or however then thus by on at from
    where how why whether instead otherwise please make use run
    """
)
_LEADING = re.compile(
    r"^(?:By default|However|Currently|Today|Also|Note that|In addition|Additionally|Now|"
    r"Usually|Typically|Generally|Optionally|Otherwise|As of now|Since then|Notably),? ",
)
_VAGUE = {"latter", "former", "following", "above", "below", "same", "rest", "previous", "next"}
_RELATIVE = {"where", "which", "who", "whom", "whose", "when", "that", "if", "because", "while"}
_DETERMINERS = _words(
    """
    the a an each every any your our its their most many all
    """
)
# Imperative verbs that open option descriptions ("Show ...", "Skip ..."); their -s forms
# ("Shows ...") are recognized too. Descriptions that open otherwise get no option question.
VERBS = set(
    [
        "accept",
        "activate",
        "add",
        "allow",
        "support",
        "append",
        "apply",
        "ask",
        "assume",
        "attempt",
        "avoid",
        "build",
        "bypass",
        "cache",
        "call",
        "change",
        "check",
        "choose",
        "clean",
        "clear",
        "collect",
        "color",
        "colour",
        "combine",
        "compare",
        "compile",
        "configure",
        "connect",
        "continue",
        "control",
        "convert",
        "copy",
        "count",
        "create",
        "customize",
        "debug",
        "decide",
        "declare",
        "define",
        "delete",
        "deny",
        "describe",
        "detect",
        "disable",
        "discard",
        "display",
        "download",
        "drop",
        "dump",
        "emit",
        "enable",
        "enforce",
        "ensure",
        "exclude",
        "execute",
        "exit",
        "expand",
        "export",
        "extend",
        "fail",
        "fetch",
        "fill",
        "filter",
        "find",
        "fix",
        "follow",
        "force",
        "format",
        "generate",
        "get",
        "give",
        "group",
        "guess",
        "handle",
        "hide",
        "highlight",
        "ignore",
        "import",
        "include",
        "increase",
        "indent",
        "indicate",
        "infer",
        "inherit",
        "initialize",
        "insert",
        "inspect",
        "install",
        "interpret",
        "invoke",
        "keep",
        "kill",
        "launch",
        "limit",
        "link",
        "list",
        "load",
        "lock",
        "log",
        "look",
        "make",
        "mark",
        "match",
        "merge",
        "migrate",
        "mirror",
        "modify",
        "monitor",
        "mount",
        "move",
        "normalize",
        "notify",
        "omit",
        "open",
        "optimize",
        "order",
        "output",
        "overwrite",
        "override",
        "pack",
        "parse",
        "pass",
        "patch",
        "pause",
        "pin",
        "place",
        "point",
        "pop",
        "prefer",
        "prepare",
        "prepend",
        "preserve",
        "prevent",
        "preview",
        "print",
        "process",
        "produce",
        "profile",
        "prompt",
        "protect",
        "provide",
        "prune",
        "publish",
        "pull",
        "push",
        "put",
        "query",
        "quit",
        "raise",
        "read",
        "rebuild",
        "receive",
        "record",
        "recurse",
        "redirect",
        "reduce",
        "refresh",
        "register",
        "reject",
        "reload",
        "remove",
        "rename",
        "render",
        "reorder",
        "repeat",
        "replace",
        "report",
        "request",
        "require",
        "rerun",
        "reset",
        "resolve",
        "restart",
        "restore",
        "restrict",
        "resume",
        "retry",
        "return",
        "reuse",
        "revert",
        "rewrite",
        "run",
        "save",
        "scan",
        "search",
        "select",
        "send",
        "serve",
        "set",
        "setup",
        "shorten",
        "show",
        "shut",
        "silence",
        "simulate",
        "skip",
        "sort",
        "specify",
        "split",
        "squash",
        "start",
        "stop",
        "store",
        "strip",
        "submit",
        "suppress",
        "swap",
        "switch",
        "sync",
        "tag",
        "tell",
        "test",
        "time",
        "toggle",
        "trace",
        "track",
        "transform",
        "translate",
        "treat",
        "trigger",
        "trim",
        "truncate",
        "try",
        "turn",
        "undo",
        "uninstall",
        "unlock",
        "unpack",
        "unset",
        "update",
        "upgrade",
        "upload",
        "use",
        "validate",
        "verify",
        "view",
        "wait",
        "warn",
        "watch",
        "wrap",
        "write",
    ]
)


def ask(text: str) -> str:
    """A question: whitespace collapsed, first letter upper-case, one ``?`` at the end."""
    text = " ".join(text.split()).rstrip(" .?:;,")
    text = re.sub(r"\s+([,?])", r"\1", text)
    return (text[:1].upper() + text[1:] + "?") if text else ""


def value_kind(value: str) -> str:
    """``date``, ``year``, ``version``, ``number``, ``code`` or ``name``."""
    value = value.strip()
    if value.startswith("`"):
        return "code"
    if re.fullmatch(YEAR, value):
        return "year"
    if _DATE_ONLY.match(value):
        return "date"
    if _VERSION_ONLY.match(value) and "." in value:
        return "version"
    if _NUMBER_START.match(value):
        return "number"
    return "name"


def quantity_unit(value: str) -> str:
    """The unit words after a quantity's number: ``'10 business days'`` → ``'business days'``."""
    match = _NUMBER_START.match(value.strip())
    return value.strip()[match.end() :].strip() if match else ""


def number_alias(value: str) -> list[str]:
    """Other accepted forms of a quantity: its bare number (``'24 months'`` → ``['24']``)."""
    match = _NUMBER_START.match(value.strip())
    if not match or match.end() == len(value.strip()):
        return []
    return [match.group(0).strip()]


def clean_subject(subject: str) -> str | None:
    """The subject of a statement, or ``None`` when it cannot stand in a question.

    Pronouns ("It", "This option"), subordinate clauses ("If you ...") and subjects of
    more than ten words are refused; a leading determiner is lower-cased.

    >>> clean_subject("The default port"), clean_subject("It"), clean_subject("If set, it")
    ('the default port', None, None)
    """
    subject = _LEADING.sub("", subject.strip()).strip(" ,")
    words = subject.split()
    if (
        not words
        or len(words) > 10
        or subject.count("`") % 2
        or subject.count("(") != subject.count(")")
    ):
        return None
    first = words[0].lower().strip("`\"'")
    if first in PRONOUNS or first in CLAUSE_STARTS or not re.search(r"[A-Za-z]", subject):
        return None
    if any(ch in subject for ch in ";:!?") or (not words[0][:1].isalnum() and words[0][:1] != "`"):
        return None
    lowered = {w.lower() for w in words}
    if lowered & _VAGUE or (lowered & _RELATIVE and len(words) > 1):
        return None
    if first in _DETERMINERS:
        # Only a determiner is lower-cased: "Support for X" may as well be a name.
        subject = words[0].lower() + subject[len(words[0]) :]
    return subject


def is_generic(subject: str) -> bool:
    """Whether ``subject`` names nothing in particular ("the list price", "units"): no
    capitalized word after the first, no digit, no code. Such a question needs its scope."""
    words = subject.split()
    if "`" in subject or any(ch.isdigit() for ch in subject):
        return False
    named = [w for i, w in enumerate(words) if w[:1].isupper() and (i > 0 or len(words) == 1)]
    return not named or all(w.lower() in _DETERMINERS for w in named)


def scoped(question: str, scope: str) -> str:
    """``question`` prefixed with where it is stated: "According to 'Setup', what ...?"."""
    if not scope:
        return ""
    if question.startswith("According to '"):
        return question
    body = question[:1].lower() + question[1:] if question[:2] != "I " else question
    return ask(f"According to '{scope}', {body}")


def infinitive(description: str) -> str | None:
    """An option description as a verb phrase: "Prints the diff." → "print the diff".

    >>> infinitive("Shows the version and exits."), infinitive("Python versions to use.")
    ('show the version and exit', None)
    """
    words = description.rstrip(" .\\").split(" ")
    first = words[0].lower()
    if len(words) > 1 and words[1].endswith("ed") and words[1] not in ("need", "speed", "feed"):
        return None  # "tag used for ...": a noun described, not an instruction
    base = first if first in VERBS else base_form(first)
    if base is None:
        return None
    rest = words[1:]
    for i, word in enumerate(rest[:-1] if rest else []):
        if word in ("and", "or") or word.endswith(","):
            follower = base_form(rest[i + 1])
            if follower:
                rest[i + 1] = follower
    return " ".join([base, *rest]).strip()


def base_form(word: str) -> str | None:
    """The base form of a verb's -s form when it is a known verb ("exits" → "exit")."""
    if word.endswith("ies") and word[:-3] + "y" in VERBS:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2] in VERBS and len(word) > 3 and word[-3] in "sxzh":
        return word[:-2]
    if word.endswith("s") and word[:-1] in VERBS:
        return word[:-1]
    return None


def option_questions(name: str, description: str) -> list[str]:
    """Questions whose answer is the option ``name`` that ``description`` describes."""
    kind = "command-line option" if name.lstrip("`").startswith("-") else "setting"
    desc = description.strip().rstrip(".")
    if len(desc.split()) > 24 or not desc:
        return []
    verb_phrase = infinitive(desc)
    if verb_phrase:
        return [
            ask(f"Which {kind} do you use to {verb_phrase}"),
            ask(f"What is the {kind} to {verb_phrase}"),
            ask(f"Which {kind} should you use if you want to {verb_phrase}"),
        ]
    first = desc.split(" ", 1)[0].lower()
    second = desc.split(" ")[1].lower() if " " in desc else ""
    if first == "whether" or (first == "how" and second in ("many", "much", "long", "often")):
        clause = desc[:1].lower() + desc[1:]
        return [
            ask(f"Which {kind} controls {clause}"),
            ask(f"What {kind} determines {clause}"),
            ask(f"Which {kind} sets {clause}"),
        ]
    return []


def default_questions(subject: str) -> list[str]:
    """Questions for "SUBJECT defaults to VALUE"; an option or setting also gets "the
    default value of"."""
    if subject.startswith("`"):
        return [
            ask(f"What is the default value of {subject}"),
            ask(f"What does {subject} default to"),
            ask(f"If you do not set {subject}, what value is used"),
        ]
    return [ask(f"What does {subject} default to"), ask(f"By default, what does {subject} use")]


def how_much(subject: str, verb: str, value: str) -> list[str]:
    """Questions for "SUBJECT VERBs VALUE": how much / how long / how many units."""
    unit = quantity_unit(value)
    if value.lstrip()[:1] in "$€£" or verb in ("cost", "weigh"):
        return [ask(f"How much does {subject} {verb}"), ask(f"What does {subject} {verb}")]
    if unit.split(" ")[-1] in TIME_UNITS:
        return [
            ask(f"How long does {subject} {verb}"),
            ask(f"How many {unit} does {subject} {verb}"),
        ]
    if unit:
        return [
            ask(f"How many {unit} does {subject} {verb}"),
            ask(f"What number of {unit} does {subject} {verb}"),
        ]
    return []


def passive_questions(subject: str, aux: str, participle: str, prep: str, value: str) -> list[str]:
    """Questions for "SUBJECT is PARTICIPLE PREP VALUE" ("was released on May 2, 2021")."""
    kind = value_kind(value)
    s, a, p = subject, aux, participle
    unit = quantity_unit(value) if kind == "number" else ""
    if prep == "by":
        who = "Who" if kind == "name" else "What"
        return (
            [ask(f"{who} {a} {s} {p} by"), ask(f"By {who.lower()}m {a} {s} {p}")]
            if who == "Who"
            else [
                ask(f"What {a} {s} {p} by"),
                ask(f"By what {a} {s} {p}"),
            ]
        )
    if kind in ("date", "year") and prep in ("in", "on", "since"):
        first = "Since when" if prep == "since" else "When"
        second = "In what year" if kind == "year" else "On what date"
        if prep == "since":
            second = f"Since what {'year' if kind == 'year' else 'date'}"
        return [ask(f"{first} {a} {s} {p}"), ask(f"{second} {a} {s} {p}")]
    if kind == "version" and prep in ("in", "since"):
        return [
            ask(f"{prep.capitalize()} which version {a} {s} {p}"),
            ask(f"{prep.capitalize()} what release {a} {s} {p}"),
        ]
    if kind == "name" and prep in ("in", "at"):
        return [ask(f"Where {a} {s} {p}"), ask(f"In which place {a} {s} {p}")]
    if kind == "number" and unit and prep in ("within", "after", "for", "every", "in"):
        lead = {"every": "Every how many", "for": "For how many"}.get(
            prep, f"{prep.capitalize()} how many"
        )
        second = {
            "within": "How quickly",
            "every": "How often",
            "for": "For how long",
            "after": "After how long",
            "in": "How soon",
        }[prep]
        return [ask(f"{lead} {unit} {a} {s} {p}"), ask(f"{second} {a} {s} {p}")]
    if prep == "to" and kind in ("number", "code", "version"):
        return [ask(f"To what value {a} {s} {p}"), ask(f"What {a} {s} {p} to")]
    return []
