"""Pure KYC rules: statuses, upload checks by content, credit rating and limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.backoffice.tests.factories import JPEG, PDF, png_bytes
from wanxin.kyc import domain
from wanxin.kyc.domain import KycError, Status

MB = 1024 * 1024
PNG = png_bytes()
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"


def test_transitions_table_is_exactly_the_life_cycle():
    assert {s: set(t) for s, t in domain.TRANSITIONS.items()} == {
        Status.DRAFT: {Status.SUBMITTED},
        Status.SUBMITTED: {Status.APPROVED, Status.REJECTED},
        Status.REJECTED: {Status.SUBMITTED},
        Status.APPROVED: set(),
    }
    assert domain.EDITABLE == {Status.DRAFT, Status.REJECTED}
    assert domain.can_transition("REJECTED", "SUBMITTED")
    assert not domain.can_transition("DRAFT", "APPROVED")
    assert not domain.can_transition("APPROVED", "REJECTED")


@pytest.mark.parametrize(("head", "expected"), [
    (JPEG, "image/jpeg"), (PNG, "image/png"), (PDF, "application/pdf"),
    (GIF, None), (EXE, None), (b"", None), (b"\xff\xd8", None), (b"%PDF", None), (b"<html>%PDF-", None),
])
def test_content_type_comes_from_magic_bytes(head, expected):
    assert domain.sniff_content_type(head[:16]) == expected


def check(kind="BANK_STATEMENT", filename="x.pdf", content=PDF, size=None, max_bytes=5 * MB):
    return domain.check_upload(kind=kind, filename=filename, size=len(content) if size is None else size,
                               head=content[:16], max_bytes=max_bytes)


@pytest.mark.parametrize(("kind", "filename", "content", "expected"), [
    ("ID_CARD_FRONT", "front.jpg", JPEG, "image/jpeg"),
    ("ID_CARD_FRONT", "FRONT.JPEG", JPEG, "image/jpeg"),
    ("ID_CARD_BACK", "back.png", PNG, "image/png"),
    ("HOUSE_CERTIFICATE", "house.pdf", PDF, "application/pdf"),
    ("BANK_STATEMENT", "march.Pdf", PDF, "application/pdf"),
    ("INCOME_PROOF", "proof.png", PNG, "image/png"),
])
def test_accepted_uploads(kind, filename, content, expected):
    assert check(kind=kind, filename=filename, content=content) == expected


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "PASSPORT"}, "Unknown document kind 'PASSPORT'."),
    ({"content": b"", "size": 0}, "The file is empty."),
    ({"size": 5 * MB + 1}, "The file is larger than 5 MB."),
    ({"filename": "a.gif", "content": GIF}, "Only JPEG, PNG or PDF files are accepted; this file is none of them."),
    ({"filename": "a.pdf", "content": EXE}, "Only JPEG, PNG or PDF files are accepted; this file is none of them."),
    ({"kind": "ID_CARD_FRONT", "filename": "id.pdf"}, "ID card (front) must be a JPEG or PNG image."),
    ({"filename": "scan.jpg", "content": PNG},
     "This file is a PNG but its name ends in .jpg; rename it to .png."),
    ({"filename": "statement.pdf", "content": JPEG},
     "This file is a JPEG but its name ends in .pdf; rename it to .jpg."),
    ({"filename": "statement.jpg", "content": PDF},
     "This file is a PDF but its name ends in .jpg; rename it to .pdf."),
    ({"filename": "statement", "content": PDF},
     "This file is a PDF but its name ends in no extension; rename it to .pdf."),
    ({"filename": "statement.pdf.exe", "content": PDF},
     "This file is a PDF but its name ends in .exe; rename it to .pdf."),
])
def test_refused_uploads(kwargs, message):
    with pytest.raises(KycError) as refused:
        check(**kwargs)
    assert str(refused.value) == message


def test_size_limit_is_inclusive():
    assert check(size=5 * MB) == "application/pdf"


@pytest.mark.parametrize(("limit", "message"), [(2 * MB, "2 MB"), (512 * 1024, "512 KB"), (1000, "1,000 bytes")])
def test_size_limit_message(limit, message):
    with pytest.raises(KycError) as refused:
        check(size=limit + 1, max_bytes=limit)
    assert str(refused.value) == f"The file is larger than {message}."


@pytest.mark.parametrize("value", [-1, 10**15 + 1, 1.0, True, "5"])
def test_check_amount_refuses(value):
    with pytest.raises(KycError):
        domain.check_amount(value)


@pytest.mark.parametrize(("name", "ok"), [("张三丰", True), ("Li  Lei", True), ("A", False), ("Bond007", False),
                                          ("<script>", False), ("x" * 41, False)])
def test_real_name(name, ok):
    if ok:
        assert domain.check_real_name(name) == " ".join(name.split())
    else:
        with pytest.raises(KycError):
            domain.check_real_name(name)


def test_submission_problems_name_everything_missing():
    assert domain.submission_problems(real_name="", id_number="", annual_income=None, assets=None, kinds=set()) == [
        "Declare your real name and ID number.",
        "Declare your annual income and assets.",
        "Upload your ID card (front).",
        "Upload your ID card (back).",
        "Upload a bank statement or an income proof.",
    ]
    assert domain.submission_problems(real_name="张三", id_number="x", annual_income=0, assets=0,
                                      kinds={"ID_CARD_FRONT", "ID_CARD_BACK", "INCOME_PROOF"}) == []


@pytest.mark.parametrize(("score", "rating"), [
    (100, "AAA"), (85, "AAA"), (84, "AA"), (70, "AA"), (69, "A"), (55, "A"), (54, "B"), (40, "B"),
    (39, "C"), (25, "C"), (24, "HR"), (0, "HR"),
])
def test_rating_floors(score, rating):
    assert domain.rating_for_score(score) == rating


ID = {"ID_CARD_FRONT", "ID_CARD_BACK"}


@pytest.mark.parametrize(("income", "assets", "kinds", "score", "breakdown", "rating", "limit"), [
    # 300k yuan income (30) + 1.5M assets (20) + statement (10) = 60 → A; 60 % of income.
    (30_000_000, 150_000_000, ID | {"BANK_STATEMENT"}, 60, (30, 20, 10), "A", 18_000_000),
    # Everything at the top: 100 → AAA; 100 % of 600k yuan.
    (60_000_000, 600_000_000, ID | {"HOUSE_CERTIFICATE", "BANK_STATEMENT", "INCOME_PROOF"}, 100, (40, 30, 30),
     "AAA", 60_000_000),
    # AAA capped at 1,000,000 yuan.
    (200_000_000, 600_000_000, ID | {"HOUSE_CERTIFICATE", "BANK_STATEMENT", "INCOME_PROOF"}, 100, (40, 30, 30),
     "AAA", 100_000_000),
    # Nothing: HR, no limit.
    (0, 0, set(), 0, (0, 0, 0), "HR", 0),
    # Just below the first income threshold.
    (4_999_999, 29_999_999, ID | {"INCOME_PROOF"}, 5, (0, 0, 5), "HR", 0),
    # Exactly at the lowest thresholds: 10 + 10 + 5 = 25 → C; 20 % of 50k yuan.
    (5_000_000, 30_000_000, ID | {"INCOME_PROOF"}, 25, (10, 10, 5), "C", 1_000_000),
    # 100k yuan + nothing + income proof = 25 → C: 20 % = 20k yuan (cap 30k).
    (10_000_000, 0, {"INCOME_PROOF"}, 25, (20, 0, 5), "C", 2_000_000),
    # 123,456.78 yuan (20) + 2M assets (25) + house (15) + statement (10) = 70 → AA;
    # 80 % = 98,765.42 yuan, rounded down to 98,700 yuan.
    (12_345_678, 200_000_000, ID | {"HOUSE_CERTIFICATE", "BANK_STATEMENT"}, 70, (20, 25, 25), "AA", 9_870_000),
    # 200k yuan (30) + 300k assets (10) = 40 → B: 40 % = 80k yuan (cap 100k).
    (20_000_000, 30_000_000, ID, 40, (30, 10, 0), "B", 8_000_000),
    # B capped: 5M yuan income (40) alone = 40 → B, capped at 100k yuan.
    (500_000_000, 0, ID, 40, (40, 0, 0), "B", 10_000_000),
])
def test_assess_credit_exact(income, assets, kinds, score, breakdown, rating, limit):
    result = domain.assess_credit(annual_income=income, assets=assets, kinds=kinds)
    assert (result.score, tuple(result.breakdown.values()), result.rating, result.limit) == (
        score, breakdown, rating, limit)
    assert list(result.breakdown) == ["income", "assets", "documents"]


RANK = {r: i for i, r in enumerate(reversed(domain.RATINGS))}
amounts = st.integers(min_value=0, max_value=10**12)
kind_sets = st.sets(st.sampled_from([k.value for k in domain.Kind]))


@given(income=amounts, assets=amounts, kinds=kind_sets)
def test_limit_is_bounded_and_a_whole_hundred_yuan(income, assets, kinds):
    result = domain.assess_credit(annual_income=income, assets=assets, kinds=kinds)
    assert 0 <= result.limit <= domain.LIMIT_CAP[result.rating]
    assert result.limit <= income
    assert result.limit % 10_000 == 0
    assert result.score == sum(result.breakdown.values()) <= 100


@given(income=amounts, extra_income=amounts, assets=amounts, extra_assets=amounts, kinds=kind_sets, more=kind_sets)
def test_more_income_assets_or_documents_never_rate_worse(income, extra_income, assets, extra_assets, kinds, more):
    base = domain.assess_credit(annual_income=income, assets=assets, kinds=kinds)
    better = domain.assess_credit(annual_income=income + extra_income, assets=assets + extra_assets,
                                  kinds=kinds | more)
    assert better.score >= base.score
    assert RANK[better.rating] >= RANK[base.rating]
    assert better.limit >= base.limit


def test_rating_labels_and_tables_agree():
    assert domain.RATINGS == ("AAA", "AA", "A", "B", "C", "HR")
    assert set(domain.LIMIT_PERCENT) == set(domain.LIMIT_CAP) == set(domain.RATINGS)
