"""Pure rules of the funds app: amounts typed in yuan, the withdrawal commission, the
kinds of money events and what each does to a balance. No Django here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from wanxin.core.labels import TranslatableError, gettext_noop
from wanxin.core.money import FEN_PER_YUAN, MAX_AMOUNT_FEN, format_fen, round_half_up


class AmountError(TranslatableError):
    """An amount a person typed cannot be used; the message says why."""


# -- amounts --------------------------------------------------------------------------------

# ASCII digits only (``\d`` would accept full-width and other scripts' digits), an optional
# decimal point, optional thousands separators in the integer part.
_YUAN_RE = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]*))?$", re.ASCII)


def yuan_to_fen(text: str, *, maximum: int) -> int:
    """Convert an amount typed in yuan (``"1,000.5"``, ``"99.99"``) to integer fen, exactly.

    Refuses anything that is not a plain non-negative decimal number, zero, negative
    amounts, fractions of a fen and amounts above ``maximum`` fen."""
    if not isinstance(text, str):
        raise AmountError(gettext_noop("Enter the amount in yuan, for example 1000 or 99.50."))
    value = text.strip().removeprefix("¥").strip()
    if not value:
        raise AmountError(gettext_noop("Enter an amount."))
    if value.startswith("-"):
        raise AmountError(gettext_noop("The amount must be positive."))
    if value.startswith("+"):
        value = value[1:]
    match = _YUAN_RE.fullmatch(value)
    if match is None:
        raise AmountError(gettext_noop("Enter the amount in yuan, for example 1000 or 99.50."))
    decimals = (match.group(1) or "").rstrip("0")
    if len(decimals) > 2:
        raise AmountError(gettext_noop("The amount can have at most 2 decimal places (whole fen)."))
    digits = value.replace(",", "")
    if len(digits.split(".")[0].lstrip("0")) > 16:
        raise AmountError(gettext_noop("The amount is too large: at most %(max)s."), max=format_fen(maximum))
    try:
        fen = Decimal(digits) * FEN_PER_YUAN
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards
        raise AmountError(gettext_noop("Enter the amount in yuan, for example 1000 or 99.50.")) from exc
    if fen != fen.to_integral_value():  # pragma: no cover - guarded by the decimals check
        raise AmountError(gettext_noop("The amount can have at most 2 decimal places (whole fen)."))
    return check_fen(int(fen), maximum=maximum)


def check_fen(amount: object, *, maximum: int) -> int:
    """An amount given directly in fen (API clients): a positive int, never a float or bool."""
    if type(amount) is not int:
        raise AmountError(gettext_noop("The amount must be a whole number of fen."))
    if amount < 0:
        raise AmountError(gettext_noop("The amount must be positive."))
    if amount == 0:
        raise AmountError(gettext_noop("The amount must be more than zero."))
    if amount > min(maximum, MAX_AMOUNT_FEN):
        raise AmountError(gettext_noop("The amount is too large: at most %(max)s."),
                          max=format_fen(min(maximum, MAX_AMOUNT_FEN)))
    return amount


def fen_to_yuan_text(amount: int) -> str:
    """``123456`` → ``"1234.56"`` (CSV and form values; no currency sign, no separators)."""
    sign = "-" if amount < 0 else ""
    yuan, fen = divmod(abs(amount), FEN_PER_YUAN)
    return f"{sign}{yuan}.{fen:02d}"


# -- the withdrawal commission ----------------------------------------------------------------


@dataclass(frozen=True)
class CommissionRule:
    """``fixed`` fen plus ``rate`` × amount (rounded half up to the fen), then held within
    ``[minimum, maximum]`` (``maximum`` 0: no upper bound)."""

    fixed: int = 0
    rate: Decimal = Decimal(0)
    minimum: int = 0
    maximum: int = 0

    def __post_init__(self) -> None:
        if min(self.fixed, self.minimum, self.maximum) < 0 or self.rate < 0 or self.rate >= 1:
            raise ValueError("commission settings must be non-negative and the rate below 1")
        if self.maximum and self.maximum < self.minimum:
            raise ValueError("the commission maximum is below its minimum")

    @classmethod
    def from_settings(cls, config: dict) -> CommissionRule:
        return cls(fixed=int(config.get("fixed", 0)), rate=Decimal(str(config.get("rate", "0"))),
                   minimum=int(config.get("min", 0)), maximum=int(config.get("max", 0)))

    def describe(self) -> str:
        parts = []
        if self.rate:
            parts.append(f"{_trim((self.rate * 100).normalize())}% of the amount")
        if self.fixed:
            parts.append(format_fen(self.fixed))
        text = " + ".join(parts) or "none"
        if self.minimum:
            text += f", at least {format_fen(self.minimum)}"
        if self.maximum:
            text += f", at most {format_fen(self.maximum)}"
        return text

    def commission(self, amount: int) -> int:
        if type(amount) is not int or amount <= 0:
            raise ValueError("amount must be a positive int of fen")
        value = self.fixed + round_half_up(Decimal(amount) * self.rate)
        value = max(value, self.minimum)
        if self.maximum:
            value = min(value, self.maximum)
        return value


@dataclass(frozen=True)
class WithdrawQuote:
    amount: int  # debited from the depository account
    commission: int  # to PLATFORM_INCOME
    net: int  # reaches the bound card


def withdraw_quote(amount: int, rule: CommissionRule) -> WithdrawQuote:
    """What a withdrawal of ``amount`` fen costs; refuses one the commission would eat."""
    commission = rule.commission(amount)
    if commission >= amount:
        raise AmountError(gettext_noop("The amount must be more than the commission of %(commission)s."),
                          commission=format_fen(commission))
    return WithdrawQuote(amount=amount, commission=commission, net=amount - commission)


# -- money events (资金动态) ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventType:
    code: str
    label: str
    label_zh: str
    # True where money enters or leaves the customer's account (not a freeze or its release).
    moves_money: bool


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("RECHARGE", gettext_noop("Recharge"), "充值", True),
    EventType("WITHDRAW", gettext_noop("Withdrawal"), "提现", True),
    EventType("COMMISSION", gettext_noop("Withdrawal commission"), "提现手续费", True),
    EventType("FREEZE", gettext_noop("Freeze"), "冻结", False),
    EventType("UNFREEZE", gettext_noop("Unfreeze"), "解冻", False),
    EventType("TENDER", gettext_noop("Investment paid"), "投标", True),
    EventType("LOAN_RECEIVED", gettext_noop("Loan received"), "借款入账", True),
    EventType("LOAN_COMMISSION", gettext_noop("Loan service fee"), "借款服务费", True),
    EventType("REPAYMENT", gettext_noop("Repayment"), "还款", True),
    EventType("RECEIVABLE", gettext_noop("Principal and interest received"), "回款", True),
    EventType("INTEREST_COMMISSION", gettext_noop("Interest management fee"), "利息管理费", True),
    EventType("ALLOCATION_DEPOSIT", gettext_noop("Allocation deposit"), "配资保证金", True),
    EventType("ALLOCATION_FEE", gettext_noop("Allocation fee"), "配资管理费", True),
    EventType("ALLOCATION_SETTLE", gettext_noop("Allocation settlement"), "配资结算", True),
    EventType("COMPENSATION", gettext_noop("Compensation"), "补偿", True),
)
EVENT_TYPE_BY_CODE = {t.code: t for t in EVENT_TYPES}


@dataclass(frozen=True)
class MoneyEvent:
    """One line of a customer's fund records and its effect on their balances.

    ``amount`` is the signed figure shown in the records; ``available_delta`` and
    ``frozen_delta`` are what the event does to the two balances."""

    type: str
    amount: int
    available_delta: int
    frozen_delta: int = 0
    remark: str = ""

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPE_BY_CODE:
            raise ValueError(f"unknown fund record type {self.type}")
        for value in (self.amount, self.available_delta, self.frozen_delta):
            if type(value) is not int:
                raise ValueError("fund record amounts are int fen")


def recharge_events(amount: int) -> list[MoneyEvent]:
    return [MoneyEvent("RECHARGE", amount, amount)]


def withdraw_events(amount: int, commission: int) -> list[MoneyEvent]:
    """A withdrawal debits ``amount``: ``amount − commission`` to the card, then the commission."""
    events = [MoneyEvent("WITHDRAW", -(amount - commission), -(amount - commission))]
    if commission:
        events.append(MoneyEvent("COMMISSION", -commission, -commission))
    return events


def freeze_events(amount: int, *, remark: str = "") -> list[MoneyEvent]:
    return [MoneyEvent("FREEZE", -amount, -amount, amount, remark)]


def unfreeze_events(amount: int, *, remark: str = "") -> list[MoneyEvent]:
    return [MoneyEvent("UNFREEZE", amount, amount, -amount, remark)]


def balances_after(available: int, frozen: int, events: list[MoneyEvent]) -> list[tuple[int, int]]:
    """Given the balances after *all* ``events``, the balances after each one in turn."""
    out: list[tuple[int, int]] = []
    for event in reversed(events):
        out.append((available, frozen))
        available -= event.available_delta
        frozen -= event.frozen_delta
    return out[::-1]


def _trim(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
