"""Chinese first, English second: the default, Accept-Language, the switch on every page, the
catalogues, and codes shown as labels in either language."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.kyc.models import KycApplication
from wanxin.lending.models import LoanApplication, Project
from wanxin.lending.selectors import product_default
from wanxin.repayments.models import RepaymentPlan
from wanxin.web import catalogues

pytestmark = pytest.mark.django_db
User = get_user_model()

ZH, EN = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.8"}
# Codes that must never reach a page: enum values shown instead of their labels.
RAW_CODES = ("ALLOCATION_FEE", "ALLOCATION_SETTLE", "PENDING_REVIEW", "SUBMITTED", "RECHARGE", "TENDER",
             "REPAYMENT", "INVESTOR", "BOTH", "COLLECTING", "EQUAL_INSTALLMENT")


def visible_text(html: str) -> str:
    """The page's text a person reads: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def customer(**kwargs) -> User:
    return User.objects.create_user(username=f"i18n{secrets.token_hex(3)}", password="a-long-pass-42",
                                    mobile=f"139{secrets.randbelow(10**8):08d}", role="BOTH",
                                    user_no=f"IT{secrets.token_hex(5).upper()}", **kwargs)


def client_for(user, language: dict) -> Client:
    client = Client(**language)
    client.force_login(user)
    return client


def open_account(user, auth: list[str]) -> DepositoryAccount:
    return DepositoryAccount.objects.create(user=user, user_no=user.user_no, status="OPEN", auth_list=auth,
                                            full_name="韩梅梅", id_number="110101199001011237",
                                            bank_code="CMB", card_number="6222020200112233446",
                                            available=123_456_78, mobile=user.mobile)


# -- the language ---------------------------------------------------------------------------------


def test_chinese_is_the_default_language():
    response = Client(HTTP_ACCEPT_LANGUAGE="").get("/accounts/login")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<h1>登录</h1>" in html


def test_accept_language_is_honoured():
    assert "<h1>Log in</h1>" in Client(**EN).get("/accounts/login").content.decode()
    assert "<h1>登录</h1>" in Client(**ZH).get("/accounts/login").content.decode()


@pytest.mark.parametrize("path", ["/", "/accounts/login", "/accounts/register", "/loans/", "/calculator"])
def test_every_page_has_the_language_switch_and_it_works_without_javascript(path):
    client = Client(**ZH)
    html = client.get(path).content.decode()
    assert 'action="/i18n/setlang/"' in html and 'data-testid="lang-en"' in html and 'data-testid="lang-zh-hans"' in html
    response = client.post("/i18n/setlang/", {"language": "en", "next": path})
    assert response.status_code == 302 and response["Location"] == path
    assert '<html lang="en">' in client.get(path).content.decode()  # the cookie now wins over the header


def test_the_banks_pages_have_the_switch_too():
    html = Client(**ZH).get("/bank/").content.decode()
    assert "华信存管银行" in html and 'data-testid="lang-en"' in html
    assert "Huaxin Depository Bank" in Client(**EN).get("/bank/").content.decode()


def test_catalogues_are_complete_and_keep_their_placeholders():
    assert catalogues.problems() == []


def test_catalogues_compile_without_gnu_gettext(tmp_path):
    po = tmp_path / "app" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Hello"\nmsgstr "你好"\n',
                  encoding="utf-8")
    assert catalogues.compile_all(tmp_path) == [po.with_suffix(".mo")]
    import gettext

    with po.with_suffix(".mo").open("rb") as handle:
        assert gettext.GNUTranslations(handle).gettext("Hello") == "你好"
    assert catalogues.compile_all(tmp_path) == []  # up to date: nothing rewritten


def test_form_errors_come_in_the_pages_language():
    wrong = {"username": "nobody-here", "password": "not-the-password"}
    assert "用户名或密码错误。" in Client(**ZH).post("/accounts/login", wrong).content.decode()
    assert "Wrong username or password." in Client(**EN).post("/accounts/login", wrong).content.decode()


# -- the layout's defects from the first visit -------------------------------------------------------


def test_favicon_is_served_and_named_by_every_page():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon"' in Client().get("/").content.decode()


def test_nav_has_portfolio_my_loans_and_apply():
    html = client_for(customer(), EN).get("/funds/").content.decode()
    for testid, href in (("nav-portfolio", "/repayments/portfolio"), ("nav-my-loans", "/loans/mine"),
                         ("nav-apply", "/loans/apply")):
        assert f'href="{href}" data-testid="{testid}"' in html


# -- codes shown by their labels -----------------------------------------------------------------------


@pytest.mark.parametrize("language", [ZH, EN], ids=["zh", "en"])
def test_my_money_shows_authorisations_and_record_types_by_label(language):
    user = customer()
    open_account(user, ["ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE", "TENDER"])
    FundRecord.objects.create(user=user, type="RECHARGE", amount=500_00, available_after=500_00, frozen_after=0,
                              request_no=f"RQ{secrets.token_hex(5)}", created_at=timezone.now())
    DepositoryRequest.objects.create(request_no=f"WXR{secrets.token_hex(6)}", service_name="RECHARGE",
                                     user_no=user.user_no, amount=100_00, payload={})
    client = client_for(user, language)
    for path in ("/funds/", "/funds/records", "/funds/statistics"):
        text = visible_text(client.get(path).content.decode())
        for code in RAW_CODES:
            assert code not in text, (path, code)
    text = visible_text(client.get("/funds/").content.decode())
    assert ("配资管理费" if language is ZH else "Allocation fees") in text
    assert ("充值" if language is ZH else "Recharge") in text


@pytest.mark.parametrize("language", [ZH, EN], ids=["zh", "en"])
def test_qualifications_show_status_and_kinds_by_label(language):
    user = customer()
    KycApplication.objects.create(customer=user, status="SUBMITTED", real_name="韩梅梅",
                                  id_number="110101199001011237", annual_income=100_000_00, assets=0,
                                  submitted_at=timezone.now(), id_number_index=secrets.token_hex(16))
    text = visible_text(client_for(user, language).get("/kyc/").content.decode())
    assert ("已提交，等待审核" if language is ZH else "Submitted, awaiting review") in text
    for code in RAW_CODES:
        assert code not in text


@pytest.mark.django_db(databases=["default", "bank"])
@pytest.mark.parametrize("language", [ZH, EN], ids=["zh", "en"])
def test_the_banks_authorisation_page_shows_labels(language, platform_key):
    from wanxin.bank.tests.helpers import gateway_envelope

    data = {"userNo": "I18N1", "fullName": "Han Meimei", "idNumber": "110101199001011234",
            "mobile": "13800138000", "role": "INVESTOR", "bankCode": "CMB", "cardNumber": "6222020200112233446",
            "authList": ["TENDER", "ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE"]}
    html = Client(**language).post("/bank/gateway", gateway_envelope(platform_key, "PERSONAL_REGISTER", data))
    text = visible_text(html.content.decode())
    assert ("配资管理费" if language is ZH else "Allocation fees") in text
    assert ("开立存管账户" if language is ZH else "Open your depository account") in text
    for code in ("ALLOCATION_FEE", "ALLOCATION_SETTLE", "TENDER", "PERSONAL_REGISTER"):
        assert code not in text


# -- account opening and qualifications do not ask twice ------------------------------------------------


def test_account_opening_does_not_ask_the_role_registration_asked():
    html = client_for(customer(), EN).get("/funds/account/open").content.decode()
    assert 'name="role"' not in html and 'name="full_name"' in html


def test_qualifications_take_name_and_id_from_the_depository_account():
    user = customer()
    open_account(user, ["TENDER"])
    client = client_for(user, EN)
    html = client.get("/kyc/").content.decode()
    assert 'name="real_name"' not in html and 'name="id_number"' not in html
    assert 'data-testid="kyc-identity-known"' in html and "韩梅梅" in html
    response = client.post("/kyc/declare", {"annual_income": "120000", "assets": "50000"})
    assert response.status_code == 302
    application = KycApplication.objects.get(customer=user)
    assert (application.real_name, application.id_number) == ("韩梅梅", "110101199001011237")
    assert application.annual_income == 120_000_00


def test_qualifications_still_ask_name_and_id_without_an_account():
    html = client_for(customer(), EN).get("/kyc/").content.decode()
    assert 'name="real_name"' in html and 'name="id_number"' in html


# -- the home page ----------------------------------------------------------------------------------------


def project(borrower, *, status: str, amount: int, raised: int = 0, name: str = "Tea house renovation") -> Project:
    application = LoanApplication.objects.create(borrower=borrower, product=product_default(), amount=amount,
                                                 months=6, method="EQUAL_INSTALLMENT", purpose=name)
    return Project.objects.create(application=application, borrower=borrower, project_no=f"P{secrets.token_hex(6)}",
                                  name=name, amount=amount, months=6, method="EQUAL_INSTALLMENT", status=status,
                                  investor_rate=Decimal("0.100000"), borrower_rate=Decimal("0.120000"),
                                  raised=raised, published_at=timezone.now())


def test_home_page_shows_collecting_loans_figures_calculator_and_ways_in():
    borrower = customer()
    project(customer(), status="COLLECTING", amount=30_000_00, raised=12_000_00, name="茶馆装修 tea house")
    repaying = project(borrower, status="REPAYING", amount=200_000_00, name="Grocery shelves")
    project(customer(), status="PENDING_REVIEW", amount=50_000_00, name="Not public yet")
    today = timezone.localdate()
    RepaymentPlan.objects.create(project=repaying, borrower=borrower, number=1, due_date=today - dt.timedelta(days=40),
                                 principal=30_000_00, interest=2_000_00, platform_share=500_00, status="REPAID",
                                 paid_amount=32_000_00)
    RepaymentPlan.objects.create(project=repaying, borrower=borrower, number=2, due_date=today - dt.timedelta(days=10),
                                 principal=40_000_00, interest=1_500_00, platform_share=400_00, status="OVERDUE")
    RepaymentPlan.objects.create(project=repaying, borrower=borrower, number=3, due_date=today + dt.timedelta(days=20),
                                 principal=120_000_00, interest=1_000_00, platform_share=300_00, status="DUE")
    html = Client(**ZH).get("/").content.decode()
    assert "茶馆装修 tea house" in html and "Not public yet" not in html and "Grocery shelves" not in html
    assert 'id="figure-lent" data-fen="20000000">¥200,000.00<' in html
    assert 'id="figure-repaid" data-fen="3200000">¥32,000.00<' in html
    assert re.search(r'id="figure-customers">\d+<', html)
    assert 'id="figure-overdue">25.00%<' in html  # 40,000 overdue of 160,000 unpaid principal
    assert 'action="/calculator"' in html and 'data-testid="home-invest"' in html and 'data-testid="home-borrow"' in html
    assert "正在募集的借款" in html
    text = visible_text(html)
    for code in RAW_CODES:
        assert code not in text


def test_our_wording_wins_over_djangos_own_apps():
    html = client_for(customer(), ZH).get("/funds/").content.decode()
    assert 'data-testid="logout">退出</a>' in html  # django.contrib.admin says 注销
