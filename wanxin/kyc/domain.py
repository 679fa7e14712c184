"""KYC rules as pure functions: statuses, document kinds and content, credit rating and
borrowing limit. No Django here; amounts are integer fen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from wanxin.core import money
from wanxin.core.labels import TranslatableError, gettext_noop
from wanxin.core.money import FEN_PER_YUAN, MAX_AMOUNT_FEN


class KycError(TranslatableError):
    """A customer's input or request breaks a KYC rule; the message says what to fix."""


# -- statuses -----------------------------------------------------------------------------


class Status(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED}),
    Status.SUBMITTED: frozenset({Status.APPROVED, Status.REJECTED}),
    Status.REJECTED: frozenset({Status.SUBMITTED}),  # resubmission after rejection
    Status.APPROVED: frozenset(),
}
# The customer may change declarations and documents only in these states.
EDITABLE = frozenset({Status.DRAFT, Status.REJECTED})


def can_transition(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


# -- documents ----------------------------------------------------------------------------


class Kind(StrEnum):
    ID_CARD_FRONT = "ID_CARD_FRONT"
    ID_CARD_BACK = "ID_CARD_BACK"
    HOUSE_CERTIFICATE = "HOUSE_CERTIFICATE"
    BANK_STATEMENT = "BANK_STATEMENT"
    INCOME_PROOF = "INCOME_PROOF"


KIND_LABELS: dict[Kind, str] = {
    Kind.ID_CARD_FRONT: gettext_noop("ID card (front)"),
    Kind.ID_CARD_BACK: gettext_noop("ID card (back)"),
    Kind.HOUSE_CERTIFICATE: gettext_noop("House certificate"),
    Kind.BANK_STATEMENT: gettext_noop("Bank statement"),
    Kind.INCOME_PROOF: gettext_noop("Income proof"),
}

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS: dict[str, tuple[str, ...]] = {JPEG: (".jpg", ".jpeg"), PNG: (".png",), PDF: (".pdf",)}
TYPE_LABELS = {JPEG: "JPEG", PNG: "PNG", PDF: "PDF"}
IMAGE_TYPES = frozenset({JPEG, PNG})
ALL_TYPES = frozenset({JPEG, PNG, PDF})
ALLOWED_TYPES: dict[Kind, frozenset[str]] = {
    Kind.ID_CARD_FRONT: IMAGE_TYPES,
    Kind.ID_CARD_BACK: IMAGE_TYPES,
    Kind.HOUSE_CERTIFICATE: ALL_TYPES,
    Kind.BANK_STATEMENT: ALL_TYPES,
    Kind.INCOME_PROOF: ALL_TYPES,
}
# A new upload of these kinds replaces the current one; the others accumulate.
SINGLE_KINDS = frozenset({Kind.ID_CARD_FRONT, Kind.ID_CARD_BACK})
# Bytes needed to recognise a type.
SNIFF_BYTES = 16


def sniff_content_type(head: bytes) -> str | None:
    """The type the file's first bytes (magic numbers) prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def _size(count: int) -> str:
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if count >= unit and count % unit == 0:
            return f"{count // unit} {name}"
    return f"{count:,} bytes"


def check_upload(*, kind: str, filename: str, size: int, head: bytes, max_bytes: int) -> str:
    """Validate an upload by its content; return the proven content type.

    Refuses an unknown kind, an empty or too large file, content that is not JPEG, PNG or
    PDF (whatever its name says), a type the kind does not take (ID cards are images) and a
    name whose extension differs from the content."""
    try:
        doc_kind = Kind(kind)
    except ValueError as exc:
        raise KycError(gettext_noop("Unknown document kind %(kind)s."), kind=repr(kind)) from exc
    if size <= 0:
        raise KycError(gettext_noop("The file is empty."))
    if size > max_bytes:
        raise KycError(gettext_noop("The file is larger than %(size)s."), size=_size(max_bytes))
    content_type = sniff_content_type(head)
    if content_type is None:
        raise KycError(gettext_noop("Only JPEG, PNG or PDF files are accepted; this file is none of them."))
    if content_type not in ALLOWED_TYPES[doc_kind]:
        allowed = " or ".join(TYPE_LABELS[t] for t in sorted(ALLOWED_TYPES[doc_kind]))
        raise KycError(gettext_noop("%(kind)s must be a %(allowed)s image."), kind=KIND_LABELS[doc_kind],
                       allowed=allowed)
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS[content_type]:
        raise KycError(gettext_noop("This file is a %(type)s but its name ends in %(extension)s; "
                                    "rename it to %(expected)s."), type=TYPE_LABELS[content_type],
                       extension=extension or gettext_noop("no extension"), expected=EXTENSIONS[content_type][0])
    return content_type


def submission_problems(*, real_name: str, id_number: str, annual_income: int | None, assets: int | None,
                        kinds: set[str]) -> list[str]:
    """What is still missing before an application can be submitted (empty: ready)."""
    kinds = {str(k) for k in kinds}
    problems = []
    if not real_name or not id_number:
        problems.append(gettext_noop("Declare your real name and ID number."))
    if annual_income is None or assets is None:
        problems.append(gettext_noop("Declare your annual income and assets."))
    if Kind.ID_CARD_FRONT.value not in kinds:
        problems.append(gettext_noop("Upload your ID card (front)."))
    if Kind.ID_CARD_BACK.value not in kinds:
        problems.append(gettext_noop("Upload your ID card (back)."))
    if not kinds & {Kind.BANK_STATEMENT.value, Kind.INCOME_PROOF.value}:
        problems.append(gettext_noop("Upload a bank statement or an income proof."))
    return problems


# -- declarations -------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[^\d\x00-\x1f\x7f<>]{2,40}$")


def check_amount(fen: int) -> int:
    """A declared amount (income, assets): int fen, zero or more (amounts typed in yuan are
    parsed by ``wanxin.core.money.parse_yuan`` in the form)."""
    try:
        return money.check_fen(fen, minimum=0, maximum=MAX_AMOUNT_FEN)
    except money.AmountError as exc:
        if exc.code == "too_large":
            raise KycError(gettext_noop("This amount is too large.")) from exc
        raise KycError(gettext_noop("An amount must be a whole number of fen, zero or more.")) from exc


def check_real_name(value: str) -> str:
    name = " ".join(value.split())
    if not _NAME_RE.fullmatch(name):
        raise KycError(gettext_noop("Enter your real name as on your ID card (2 to 40 characters, no digits)."))
    return name


# -- credit rating and borrowing limit ----------------------------------------------------

YUAN = FEN_PER_YUAN
# (threshold in fen, points), highest first: annual income and declared assets.
INCOME_POINTS: tuple[tuple[int, int], ...] = (
    (500_000 * YUAN, 40), (200_000 * YUAN, 30), (100_000 * YUAN, 20), (50_000 * YUAN, 10))
ASSET_POINTS: tuple[tuple[int, int], ...] = (
    (5_000_000 * YUAN, 30), (2_000_000 * YUAN, 25), (1_000_000 * YUAN, 20), (300_000 * YUAN, 10))
DOCUMENT_POINTS: dict[Kind, int] = {Kind.HOUSE_CERTIFICATE: 15, Kind.BANK_STATEMENT: 10, Kind.INCOME_PROOF: 5}
# (minimum score, rating), best first; below the last floor the rating is HR (high risk).
RATING_FLOORS: tuple[tuple[int, str], ...] = ((85, "AAA"), (70, "AA"), (55, "A"), (40, "B"), (25, "C"))
RATINGS = ("AAA", "AA", "A", "B", "C", "HR")
# Borrowing limit: this percentage of annual income, capped, rounded down to 100 yuan.
LIMIT_PERCENT = {"AAA": 100, "AA": 80, "A": 60, "B": 40, "C": 20, "HR": 0}
LIMIT_CAP = {"AAA": 1_000_000 * YUAN, "AA": 500_000 * YUAN, "A": 300_000 * YUAN, "B": 100_000 * YUAN,
             "C": 30_000 * YUAN, "HR": 0}
LIMIT_STEP = 100 * YUAN


@dataclass(frozen=True)
class CreditAssessment:
    score: int
    rating: str
    limit: int  # fen
    breakdown: dict[str, int]


def _points(value: int, table: tuple[tuple[int, int], ...]) -> int:
    return next((points for threshold, points in table if value >= threshold), 0)


def rating_for_score(score: int) -> str:
    return next((rating for floor, rating in RATING_FLOORS if score >= floor), "HR")


def borrowing_limit(*, rating: str, annual_income: int) -> int:
    raw = annual_income * LIMIT_PERCENT[rating] // 100
    return min(raw, LIMIT_CAP[rating]) // LIMIT_STEP * LIMIT_STEP


def assess_credit(*, annual_income: int, assets: int, kinds: set[str]) -> CreditAssessment:
    """Score declared income, assets and the qualification documents held; rate the score;
    derive the borrowing limit. Each document kind counts once however many are held."""
    check_amount(annual_income)
    check_amount(assets)
    kinds = {str(k) for k in kinds}
    breakdown = {
        "income": _points(annual_income, INCOME_POINTS),
        "assets": _points(assets, ASSET_POINTS),
        "documents": sum(points for kind, points in DOCUMENT_POINTS.items() if kind.value in kinds),
    }
    score = sum(breakdown.values())
    rating = rating_for_score(score)
    return CreditAssessment(score=score, rating=rating,
                            limit=borrowing_limit(rating=rating, annual_income=annual_income), breakdown=breakdown)
