"""Risk rules as pure functions: which rule keys exist, what each takes, how each is checked,
and the borrower score from a points table. No Django here (import-linter enforces it).

Messages are English templates with ``%(name)s`` placeholders, marked for translation with
``_`` (a no-op here); the services translate them at the edge (``gettext(template) % params``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from wanxin.core.money import format_fen
from wanxin.kyc.domain import RATINGS


def _(message: str) -> str:  # marks a template for makemessages; translated by the services
    return message


BLOCK, WARN, PASS = "BLOCK", "WARN", "PASS"
ACTIONS = (BLOCK, WARN)


class CheckKind(StrEnum):
    """The actions a caller asks the rules about."""

    REGISTRATION = "REGISTRATION"
    SMS = "SMS"
    LOAN_APPLICATION = "LOAN_APPLICATION"
    BID = "BID"
    ALLOCATION = "ALLOCATION"


class Key(StrEnum):
    BORROW_LIMIT = "BORROW_LIMIT"
    CONCURRENT_LOANS = "CONCURRENT_LOANS"
    MIN_SCORE = "MIN_SCORE"
    AGE = "AGE"
    INVESTOR_SHARE = "INVESTOR_SHARE"
    REGISTRATION_VELOCITY = "REGISTRATION_VELOCITY"
    SMS_VELOCITY = "SMS_VELOCITY"
    ALLOCATION_MULTIPLE = "ALLOCATION_MULTIPLE"
    ALLOCATION_PER_CUSTOMER = "ALLOCATION_PER_CUSTOMER"
    ALLOCATION_EXPOSURE = "ALLOCATION_EXPOSURE"


VELOCITY_SCOPES = ("ip", "phone")
MAX_AGE_YEARS = 120
MAX_WINDOW_MINUTES = 30 * 24 * 60
MAX_MULTIPLE = Decimal("50")
MAX_COUNT = 1_000_000
MAX_FEN = 10**15


@dataclass(frozen=True)
class Spec:
    label: str
    kind: CheckKind
    fields: tuple[str, ...]  # parameter fields the rule takes (every other one stays empty)
    scopes: tuple[str, ...] = ()  # allowed scopes; empty: the rule has none


SPECS: dict[Key, Spec] = {
    Key.BORROW_LIMIT: Spec(_("Borrowing limit by credit rating"), CheckKind.LOAN_APPLICATION, ("amount",), RATINGS),
    Key.CONCURRENT_LOANS: Spec(_("Most concurrent loans per borrower"), CheckKind.LOAN_APPLICATION, ("count",)),
    Key.MIN_SCORE: Spec(_("Lowest borrower score"), CheckKind.LOAN_APPLICATION, ("count",)),
    Key.AGE: Spec(_("Borrower age limits"), CheckKind.LOAN_APPLICATION, ("min_age", "max_age")),
    Key.INVESTOR_SHARE: Spec(_("Largest share of one loan per investor"), CheckKind.BID, ("percent",)),
    Key.REGISTRATION_VELOCITY: Spec(_("Registrations per window"), CheckKind.REGISTRATION,
                                    ("count", "window_minutes"), VELOCITY_SCOPES),
    Key.SMS_VELOCITY: Spec(_("Text messages per window"), CheckKind.SMS, ("count", "window_minutes"),
                           VELOCITY_SCOPES),
    Key.ALLOCATION_MULTIPLE: Spec(_("Largest allocation multiple by credit rating"), CheckKind.ALLOCATION,
                                  ("multiple",), RATINGS),
    Key.ALLOCATION_PER_CUSTOMER: Spec(_("Largest allocation per customer"), CheckKind.ALLOCATION, ("amount",)),
    Key.ALLOCATION_EXPOSURE: Spec(_("Total allocation exposure"), CheckKind.ALLOCATION, ("amount",)),
}
PARAM_FIELDS = ("amount", "count", "percent", "multiple", "window_minutes", "min_age", "max_age")


class RuleInvalid(ValueError):
    """A rule's values are out of range or contradict each other; ``field`` names the input."""

    def __init__(self, template: str, *, field: str = "", **params: object) -> None:
        super().__init__(template % params if params else template)
        self.template, self.field, self.params = template, field, params


@dataclass(frozen=True)
class Params:
    amount: int | None = None  # fen
    count: int | None = None
    percent: Decimal | None = None
    multiple: Decimal | None = None
    window_minutes: int | None = None
    min_age: int | None = None
    max_age: int | None = None


def check_rule(*, key: str, scope: str, action: str, params: Params, effective_from: dt.datetime,
               effective_to: dt.datetime | None) -> Key:
    """Refuse a rule whose values are unknown, out of range or contradictory; its key."""
    try:
        rule_key = Key(key)
    except ValueError as exc:
        raise RuleInvalid(_("Unknown rule kind %(key)s."), field="key", key=key) from exc
    spec = SPECS[rule_key]
    if action not in ACTIONS:
        raise RuleInvalid(_("Choose whether the rule blocks or warns."), field="action")
    if spec.scopes and scope not in spec.scopes:
        if rule_key in (Key.BORROW_LIMIT, Key.ALLOCATION_MULTIPLE):
            raise RuleInvalid(_("Unknown credit rating %(scope)s; use one of %(choices)s."), field="scope",
                              scope=scope or "—", choices=", ".join(spec.scopes))
        raise RuleInvalid(_("Count per IP address or per phone number."), field="scope")
    if not spec.scopes and scope:
        raise RuleInvalid(_("This kind of rule has no scope."), field="scope")
    for name in PARAM_FIELDS:
        value = getattr(params, name)
        if name in spec.fields and value is None:
            raise RuleInvalid(_("Enter a value."), field=name)
        if name not in spec.fields and value is not None:
            raise RuleInvalid(_("This kind of rule does not take this value; leave it empty."), field=name)
    p = params
    if p.amount is not None and not 0 <= p.amount <= MAX_FEN:
        raise RuleInvalid(_("An amount limit cannot be negative (and at most %(max)s)."), field="amount",
                          max=format_fen(MAX_FEN))
    if p.count is not None and not 0 <= p.count <= MAX_COUNT:
        raise RuleInvalid(_("A count cannot be negative (and at most %(max)s)."), field="count", max=MAX_COUNT)
    if rule_key in (Key.REGISTRATION_VELOCITY, Key.SMS_VELOCITY) and p.count == 0:
        raise RuleInvalid(_("Allow at least one per window; to stop everything, use the blacklist."),
                          field="count")
    if p.percent is not None and not (0 < p.percent <= 100):
        raise RuleInvalid(_("A share is more than 0 %% and at most 100 %%."), field="percent")
    if p.multiple is not None and not (0 < p.multiple <= MAX_MULTIPLE):
        raise RuleInvalid(_("A multiple is more than 0 and at most %(max)s."), field="multiple", max=MAX_MULTIPLE)
    if p.window_minutes is not None and not 1 <= p.window_minutes <= MAX_WINDOW_MINUTES:
        raise RuleInvalid(_("A window lasts 1 minute to 30 days (%(max)s minutes)."), field="window_minutes",
                          max=MAX_WINDOW_MINUTES)
    for name in ("min_age", "max_age"):
        value = getattr(p, name)
        if value is not None and not 0 <= value <= MAX_AGE_YEARS:
            raise RuleInvalid(_("An age is 0 to %(max)s years."), field=name, max=MAX_AGE_YEARS)
    if p.min_age is not None and p.max_age is not None and p.min_age > p.max_age:
        raise RuleInvalid(_("The lowest age (%(min)s) is above the highest (%(max)s)."), field="max_age",
                          min=p.min_age, max=p.max_age)
    if effective_to is not None and effective_to <= effective_from:
        raise RuleInvalid(_("The end of the rule's window must come after its start."), field="effective_to")
    return rule_key


def windows_overlap(a_from: dt.datetime, a_to: dt.datetime | None, b_from: dt.datetime,
                    b_to: dt.datetime | None) -> bool:
    """Two half-open windows [from, to) overlap (``None``: open-ended)."""
    return (a_to is None or b_from < a_to) and (b_to is None or a_from < b_to)


# -- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    ref: str  # "rule:12", "blacklist:3": what the log and the pages link to
    key: str
    scope: str
    action: str
    params: Params


@dataclass(frozen=True)
class Hit:
    ref: str
    key: str
    action: str
    template: str
    params: dict[str, str] = field(default_factory=dict)
    status: int = 403  # the HTTP status of a refusal it causes

    def as_json(self) -> dict:
        return {"ref": self.ref, "key": self.key, "action": self.action, "template": self.template,
                "params": self.params, "status": self.status}


BLACKLIST_KINDS = {"ID_NUMBER": _("ID number"), "MOBILE": _("mobile number"), "CARD_NUMBER": _("bank card")}
BLACKLIST_TEMPLATE = _("The %(what)s used is on the platform's blacklist.")


def blacklist_hit(*, ref: str, kind: str, action: str) -> Hit:
    return Hit(ref, "BLACKLIST", action, BLACKLIST_TEMPLATE, {"what": BLACKLIST_KINDS[kind]})


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def birth_date_of(id_number: str) -> dt.date | None:
    """The birth date inside an 18-character resident ID number, or None if it has none."""
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, IndexError):
        return None


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def evaluate(rule: Rule, figures: Mapping[str, object]) -> Hit | None:
    """The hit of one rule in force on the figures of a check, or None when it passes.

    A figure the rule needs that is missing (``None``) never makes a hit: the caller did not
    know it (e.g. no rating yet), and the log shows it missing."""
    p, key = rule.params, Key(rule.key)

    def hit(template: str, status: int = 403, **params: object) -> Hit:
        return Hit(rule.ref, rule.key, rule.action, template, {k: str(v) for k, v in params.items()}, status)

    if key == Key.BORROW_LIMIT:
        amount, in_use = figures.get("amount"), figures.get("credit_in_use") or 0
        if figures.get("rating") != rule.scope or amount is None:
            return None
        total = int(in_use) + int(amount)
        if total > p.amount:
            return hit(_("Borrowers rated %(rating)s may owe at most %(limit)s; with this application the "
                         "borrower would owe %(total)s."), rating=rule.scope, limit=format_fen(p.amount),
                       total=format_fen(total))
    elif key == Key.CONCURRENT_LOANS:
        running = figures.get("loans_running")
        if running is not None and int(running) + 1 > p.count:
            return hit(_("A borrower may have at most %(limit)s loans at once; this borrower already has "
                         "%(running)s."), limit=p.count, running=running)
    elif key == Key.MIN_SCORE:
        score = figures.get("score")
        if score is not None and int(score) < p.count:
            return hit(_("The borrower score is %(score)s points, below the lowest allowed, %(limit)s."),
                       score=score, limit=p.count)
    elif key == Key.AGE:
        age = figures.get("age")
        if age is not None and not p.min_age <= int(age) <= p.max_age:
            return hit(_("Borrowers must be %(min)s to %(max)s years old; this one is %(age)s."),
                       min=p.min_age, max=p.max_age, age=age)
    elif key == Key.INVESTOR_SHARE:
        amount, loan, holding = figures.get("amount"), figures.get("loan_amount"), figures.get("investor_holding") or 0
        if amount is None or not loan:
            return None
        after = int(holding) + int(amount)
        if after * 100 > p.percent * int(loan):
            return hit(_("One investor may hold at most %(limit)s%% of a loan; this bid would bring their "
                         "share to %(share)s%% (%(after)s of %(loan)s)."), limit=_pct(p.percent),
                       share=_pct(Decimal(after * 100) / int(loan)), after=format_fen(after), loan=format_fen(int(loan)))
    elif key in (Key.REGISTRATION_VELOCITY, Key.SMS_VELOCITY):
        recent = figures.get("recent", {}).get(f"{rule.scope}:{p.window_minutes}")
        if recent is not None and int(recent) + 1 > p.count:
            template = (_("At most %(limit)s registrations in %(window)s minutes from one %(scope)s; this would "
                          "be number %(count)s.") if key == Key.REGISTRATION_VELOCITY else
                        _("At most %(limit)s text messages in %(window)s minutes for one %(scope)s; this would "
                          "be number %(count)s."))
            return hit(template, 429, limit=p.count, window=p.window_minutes,
                       scope=_("IP address") if rule.scope == "ip" else _("phone number"), count=int(recent) + 1)
    elif key == Key.ALLOCATION_MULTIPLE:
        multiple = figures.get("multiple")
        if figures.get("rating") != rule.scope or multiple is None:
            return None
        if Decimal(str(multiple)) > p.multiple:
            return hit(_("Customers rated %(rating)s may take at most %(limit)s times their deposit; "
                         "%(multiple)s times was asked."), rating=rule.scope, limit=p.multiple, multiple=multiple)
    elif key == Key.ALLOCATION_PER_CUSTOMER:
        amount, held = figures.get("amount"), figures.get("customer_total") or 0
        if amount is not None and int(held) + int(amount) > p.amount:
            return hit(_("One customer may hold at most %(limit)s in allocations; this would bring them to "
                         "%(total)s."), limit=format_fen(p.amount), total=format_fen(int(held) + int(amount)))
    elif key == Key.ALLOCATION_EXPOSURE:
        amount, exposure = figures.get("amount"), figures.get("platform_exposure")
        if amount is not None and exposure is not None and int(exposure) + int(amount) > p.amount:
            return hit(_("The platform's total allocation exposure may be at most %(limit)s; this would bring "
                         "it to %(total)s."), limit=format_fen(p.amount), total=format_fen(int(exposure) + int(amount)))
    return None


def outcome(hits: Iterable[Hit]) -> str:
    actions = {h.action for h in hits}
    return BLOCK if BLOCK in actions else WARN if WARN in actions else PASS


# -- the borrower score -----------------------------------------------------------------------


class Factor(StrEnum):
    INCOME = "INCOME"  # declared annual income, fen
    ASSETS = "ASSETS"  # declared assets, fen
    AGE = "AGE"  # years, from the ID number
    DOCUMENT = "DOCUMENT"  # a qualification document held


FACTOR_LABELS = {Factor.INCOME: _("Annual income"), Factor.ASSETS: _("Assets"), Factor.AGE: _("Age"),
                 Factor.DOCUMENT: _("Document held")}
MAX_POINTS = 100


@dataclass(frozen=True)
class Band:
    factor: str
    lower: int  # the band starts here (fen or years); unused for documents
    document: str  # the document kind, for DOCUMENT
    points: int


def check_band(band: Band, *, documents: Iterable[str]) -> None:
    if band.factor not in Factor.__members__:
        raise RuleInvalid(_("Unknown factor."), field="factor")
    if not -MAX_POINTS <= band.points <= MAX_POINTS:
        raise RuleInvalid(_("Points are between -%(max)s and %(max)s."), field="points", max=MAX_POINTS)
    if band.factor == Factor.DOCUMENT:
        if band.document not in set(documents):
            raise RuleInvalid(_("Choose a document kind."), field="document")
    else:
        if band.document:
            raise RuleInvalid(_("Only a document row names a document kind."), field="document")
        top = MAX_AGE_YEARS if band.factor == Factor.AGE else MAX_FEN
        if not 0 <= band.lower <= top:
            raise RuleInvalid(_("A band starts at 0 or more (at most %(max)s)."), field="lower", max=top)


@dataclass(frozen=True)
class ScoreLine:
    factor: str
    band: str  # what matched, for the breakdown ("≥ ¥100,000.00", "HOUSE_CERTIFICATE", "none")
    points: int


def score(bands: Iterable[Band], *, income: int | None, assets: int | None, age: int | None,
          documents: Iterable[str]) -> tuple[int, list[ScoreLine]]:
    """The score and its breakdown: for income, assets and age the points of the highest band
    the value reaches (none: 0); plus the points of each document kind held (once each)."""
    bands = list(bands)
    values = {Factor.INCOME: income, Factor.ASSETS: assets, Factor.AGE: age}
    lines = []
    for factor, value in values.items():
        rows = sorted((b for b in bands if b.factor == factor), key=lambda b: b.lower, reverse=True)
        match = next((b for b in rows if value is not None and value >= b.lower), None)
        if match is None:
            lines.append(ScoreLine(factor, "—", 0))
        else:
            shown = f"≥ {match.lower}" if factor == Factor.AGE else f"≥ {format_fen(match.lower)}"
            lines.append(ScoreLine(factor, shown, match.points))
    held = set(documents)
    for band in sorted((b for b in bands if b.factor == Factor.DOCUMENT), key=lambda b: b.document):
        if band.document in held:
            lines.append(ScoreLine(Factor.DOCUMENT, band.document, band.points))
    return sum(line.points for line in lines), lines
