"""Pure rules of the funds app: amounts as yuan text, the withdrawal commission, the
kinds of money events and what each does to a balance. No Django here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wanxin.core.labels import gettext_noop
from wanxin.core.money import FEN_PER_YUAN, AmountError, format_fen, round_half_up

# Amounts typed in yuan or given in fen are parsed and checked by ``wanxin.core.money``
# (``parse_yuan``, ``check_fen``); its ``AmountError`` is the refusal of every amount rule here.


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
        raise AmountError("commission", gettext_noop("The amount must be more than the commission of %(commission)s."),
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
