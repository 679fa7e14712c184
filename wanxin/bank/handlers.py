"""What each service does at the bank (PROTOCOL §5). Each handler runs inside the
request's savepoint and either returns its result fields or raises BusinessError."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from django.db import connections

from wanxin.protocol import codes, messages

from . import accounts, statements
from .ledger import FreezeExhausted, InsufficientBalance, Posting
from .models import Account, BankRequest, Freeze, Project
from .processing import DB, BusinessError

ALLOWED_PROJECT_MOVES = {
    "COLLECTING": {"FULL", "MISCARRIED"},
    "FULL": {"COLLECTING", "REPAYING", "MISCARRIED"},
    "REPAYING": {"FINISHED"},
    "FINISHED": set(),
    "MISCARRIED": set(),
}


def _stmt(req: BankRequest, *, biz_type: str = "", user_no: str = "", counterparty: str = "",
          amount: int | None = None, commission: int | None = None) -> None:
    """Fill the statement columns of a request that moves or freezes money."""
    req.biz_type, req.user_no, req.counterparty = biz_type, user_no, counterparty
    req.amount, req.commission, req.moved_money = amount, commission, True


def _apply(posting: Posting) -> None:
    try:
        posting.apply()
    except InsufficientBalance as exc:
        raise BusinessError(codes.INSUFFICIENT_BALANCE) from exc
    except FreezeExhausted as exc:
        raise BusinessError(codes.FREEZE_NOT_FOUND, "pre-transaction is no longer frozen") from exc


# The columns the handlers read, in model field order (``Model.from_db`` wants that); any
# other field of a returned Project is loaded from the database on access.
_PROJECT_COLUMNS = ["id", "platform_no", "project_no", "borrower_id", "amount", "status"]
_SELECT_PROJECT = (
    f"SELECT {', '.join(_PROJECT_COLUMNS)} FROM bank_project "  # noqa: S608 (constant columns)
    "WHERE platform_no = %s AND project_no = %s"
)


def _project(platform_no: str, project_no: str, *, lock: bool = False) -> Project:
    # Fixed SQL: every tender's freeze runs it, and the ORM's compilation of the lookup was
    # most of that request's CPU at the bank (see ledger.py).
    with connections[DB].cursor() as cur:
        cur.execute(_SELECT_PROJECT + (" FOR UPDATE" if lock else ""), [platform_no, project_no])
        row = cur.fetchone()
    project = None if row is None else Project.from_db(DB, _PROJECT_COLUMNS, row)
    if project is None:
        raise BusinessError(codes.PROJECT_STATE, f"project {project_no} not found")
    return project


_FREEZE_COLUMNS = ["id", "request_id", "account_id", "biz_type", "project_no", "amount", "remaining", "status"]
_SELECT_FREEZE = (
    f"SELECT {', '.join('f.' + c for c in _FREEZE_COLUMNS)} FROM bank_freeze f "  # noqa: S608 (constant columns)
    "JOIN bank_bankrequest r ON r.id = f.request_id "
    "WHERE r.platform_no = %s AND r.request_no = %s FOR UPDATE OF f"
)


def _freeze(platform_no: str, pre_request_no: str) -> Freeze:
    # Locked, so the checks below judge the freeze as it is after any concurrent post or
    # void commits: a post that would overdraw a still-FROZEN freeze is 30011 whatever the
    # timing, never the "no longer frozen" 30010 of the ledger's conditional UPDATE.
    # Fixed SQL: this runs on every post (see ledger.py).
    with connections[DB].cursor() as cur:
        cur.execute(_SELECT_FREEZE, [platform_no, pre_request_no])
        row = cur.fetchone()
    freeze = None if row is None else Freeze.from_db(DB, _FREEZE_COLUMNS, row)
    if freeze is None or freeze.status != Freeze.Status.FROZEN:
        raise BusinessError(codes.FREEZE_NOT_FOUND, f"pre-transaction {pre_request_no} is not frozen")
    return freeze


# -- gateway services (executed when the customer confirms at the bank's page) ----------------


def recharge(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    account = accounts.customer(req.platform_no, data["userNo"])
    amount = data["amount"]
    with connections[DB].cursor() as cur:
        cur.execute(
            "UPDATE bank_bankcard SET balance = balance - %s WHERE account_id = %s AND balance >= %s",
            [amount, account.pk, amount],
        )
        if cur.rowcount != 1:
            raise BusinessError(codes.INSUFFICIENT_BALANCE, "the bound card has not enough balance")
    posting = Posting(req)
    posting.transfer(accounts.system(req.platform_no, Account.Kind.CARD_NETWORK), account, amount)
    _apply(posting)
    _stmt(req, biz_type="RECHARGE", user_no=account.account_no, counterparty="CARD", amount=amount, commission=0)
    return {"userNo": account.account_no, "amount": amount}


def withdraw(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    account = accounts.customer(req.platform_no, data["userNo"])
    amount, commission = data["amount"], data["commission"]
    posting = Posting(req)
    posting.transfer(account, accounts.system(req.platform_no, Account.Kind.CARD_NETWORK), amount - commission)
    posting.transfer(account, accounts.system(req.platform_no, Account.Kind.PLATFORM_INCOME), commission)
    _apply(posting)
    with connections[DB].cursor() as cur:
        cur.execute(
            "UPDATE bank_bankcard SET balance = balance + %s WHERE account_id = %s",
            [amount - commission, account.pk],
        )
    _stmt(req, biz_type="WITHDRAW", user_no=account.account_no, counterparty="CARD", amount=amount,
          commission=commission)
    return {"userNo": account.account_no, "amount": amount, "commission": commission}


def authorize(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    account = accounts.customer(req.platform_no, data["userNo"], lock=True)
    granted = sorted(set(account.auth_list) | set(data["authList"]))
    Account.objects.using(DB).filter(pk=account.pk).update(auth_list=granted)
    return {"userNo": account.account_no, "authList": granted}


# -- direct services -------------------------------------------------------------------------


def create_project(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    borrower = accounts.customer(req.platform_no, data["borrowerUserNo"])
    if Project.objects.using(DB).filter(platform_no=req.platform_no, project_no=data["projectNo"]).exists():
        raise BusinessError(codes.PROJECT_STATE, f"project {data['projectNo']} already exists")
    Project.objects.using(DB).create(
        platform_no=req.platform_no,
        project_no=data["projectNo"],
        borrower=borrower,
        amount=data["amount"],
        annual_rate=Decimal(data["annualRate"]),
        periods=data["periods"],
        repayment_method=data["repaymentMethod"],
        name=data["name"],
    )
    return {"projectNo": data["projectNo"], "projectStatus": "COLLECTING"}


def modify_project(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    project = _project(req.platform_no, data["projectNo"], lock=True)
    if data["status"] not in ALLOWED_PROJECT_MOVES[project.status]:
        raise BusinessError(codes.PROJECT_STATE, f"project is {project.status}; cannot become {data['status']}")
    Project.objects.using(DB).filter(pk=project.pk).update(status=data["status"])
    return {"projectNo": project.project_no, "projectStatus": data["status"]}


def user_pre_transaction(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    account = accounts.customer(req.platform_no, data["userNo"])
    biz_type, amount = data["bizType"], data["amount"]
    if biz_type not in account.auth_list:
        raise BusinessError(codes.NOT_AUTHORISED, f"{biz_type} is not authorised by {account.account_no}")
    project_no = data.get("projectNo", "")
    if biz_type == "TENDER":
        project = _project(req.platform_no, project_no)
        if project.status != "COLLECTING":
            raise BusinessError(codes.PROJECT_STATE, f"project is {project.status}, not COLLECTING")
        if project.borrower_id == account.pk:
            raise BusinessError(codes.PROJECT_STATE, "a borrower cannot invest in their own project")
    elif biz_type == "REPAYMENT":
        project = _project(req.platform_no, project_no)
        if project.status != "REPAYING" or project.borrower_id != account.pk:
            raise BusinessError(codes.PROJECT_STATE, "repayment needs the borrower of a REPAYING project")
    posting = Posting(req)
    posting.hold(account, amount, biz_type=biz_type, project_no=project_no)
    _apply(posting)
    _stmt(req, biz_type=biz_type, user_no=account.account_no, counterparty=project_no, amount=amount, commission=0)
    return {"userNo": account.account_no, "amount": amount, "frozen": amount}


def cancel_pre_transaction(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    freeze = _freeze(req.platform_no, data["preRequestNo"])
    posting = Posting(req)
    posting.void(freeze)
    _apply(posting)
    released = -sum(d[1] for d in posting.deltas.values())
    _stmt(req, biz_type=freeze.biz_type, user_no=freeze.account.account_no, counterparty=data["preRequestNo"],
          amount=released, commission=0)
    return {"preRequestNo": data["preRequestNo"], "amount": released}


def confirm_loan(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    project = _project(req.platform_no, data["projectNo"], lock=True)
    if project.status not in ("COLLECTING", "FULL"):
        raise BusinessError(codes.PROJECT_STATE, f"project is {project.status}")
    wanted = {d["preRequestNo"]: d["amount"] for d in data["details"]}
    freezes = list(
        Freeze.objects.using(DB)
        .select_related("request")
        .filter(request__platform_no=req.platform_no, request__request_no__in=list(wanted))
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    found = {f.request.request_no: f for f in freezes}
    for pre_no, amount in wanted.items():
        freeze = found.get(pre_no)
        if (freeze is None or freeze.status != Freeze.Status.FROZEN or freeze.biz_type != "TENDER"
                or freeze.project_no != project.project_no):
            raise BusinessError(codes.FREEZE_NOT_FOUND, f"{pre_no} is not a frozen tender on this project")
        if freeze.remaining != amount or freeze.amount != amount:
            raise BusinessError(codes.AMOUNTS_MISMATCH, f"{pre_no} froze {freeze.remaining}, not {amount}")
    total = sum(wanted.values())
    if data["commission"] > total:
        raise BusinessError(codes.AMOUNTS_MISMATCH, "commission exceeds the loan")
    posting = Posting(req)
    for freeze in freezes:
        posting.post(freeze, project.borrower, freeze.remaining)
    posting.transfer(project.borrower, accounts.system(req.platform_no, Account.Kind.PLATFORM_INCOME),
                     data["commission"])
    _apply(posting)
    _stmt(req, biz_type="LOAN", user_no=project.borrower.account_no, counterparty=project.project_no,
          amount=total, commission=data["commission"])
    return {"projectNo": project.project_no, "amount": total, "commission": data["commission"]}


OWN_PROJECT_REPAYMENT = "the borrower of a project cannot be paid as its investor"  # as in sql/batch_items.sql


def confirm_repayment(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    freeze = _freeze(req.platform_no, data["preRequestNo"])
    if freeze.biz_type != "REPAYMENT" or freeze.project_no != data["projectNo"]:
        raise BusinessError(codes.FREEZE_NOT_FOUND, "not a repayment freeze of this project")
    details = data["details"]
    total = sum(d["principal"] + d["interest"] for d in details) + data["commission"]
    if total != freeze.amount or freeze.remaining != freeze.amount:
        raise BusinessError(codes.AMOUNTS_MISMATCH, f"details add up to {total}, frozen is {freeze.remaining}")
    investors = accounts.customers(req.platform_no, {d["userNo"] for d in details})
    if any(a.pk == freeze.account_id for a in investors.values()):
        # Paying the borrower out of their own freeze is no transfer between two accounts
        # (§8); refused for good, never left to the ledger's CHECK (a retryable 00001).
        raise BusinessError(codes.PROJECT_STATE, OWN_PROJECT_REPAYMENT)
    income = accounts.system(req.platform_no, Account.Kind.PLATFORM_INCOME)
    posting = Posting(req)
    for d in details:
        posting.post(freeze, investors[d["userNo"]], d["principal"] + d["interest"] - d["commission"])
    platform_share = data["commission"] + sum(d["commission"] for d in details)
    posting.post(freeze, income, platform_share)
    _apply(posting)
    _stmt(req, biz_type="REPAYMENT", user_no=freeze.account.account_no, counterparty=data["projectNo"],
          amount=total, commission=platform_share)
    return {"projectNo": data["projectNo"], "amount": total, "commission": platform_share}


def transfer(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    payer, payee = accounts.any_accounts(req.platform_no, data["payer"], data["payee"])
    biz_type, amount = data["bizType"], data["amount"]
    if payer.kind == Account.Kind.CUSTOMER and biz_type not in payer.auth_list:
        raise BusinessError(codes.NOT_AUTHORISED, f"{biz_type} is not authorised by {payer.account_no}")
    posting = Posting(req)
    if "preRequestNo" in data:
        freeze = _freeze(req.platform_no, data["preRequestNo"])
        if freeze.account_id != payer.pk:
            raise BusinessError(codes.FREEZE_NOT_FOUND, "the pre-transaction belongs to another customer")
        if freeze.biz_type != "ALLOCATION":
            # Tender and repayment freezes leave only through CONFIRM_LOAN / CONFIRM_REPAYMENT.
            raise BusinessError(codes.FREEZE_NOT_FOUND, f"a {freeze.biz_type} freeze cannot pay a TRANSFER")
        if freeze.remaining < amount:
            raise BusinessError(codes.AMOUNTS_MISMATCH, f"only {freeze.remaining} remains frozen")
        posting.post(freeze, payee, amount)
    else:
        posting.transfer(payer, payee, amount)
    _apply(posting)
    _stmt(req, biz_type=biz_type, user_no=payer.account_no, counterparty=payee.account_no, amount=amount,
          commission=0)
    return {"payer": payer.account_no, "payee": payee.account_no, "amount": amount}


def query_request(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    target = (
        BankRequest.objects.using(DB)
        .filter(platform_no=req.platform_no, request_no=data["queryRequestNo"])
        .exclude(pk=req.pk)
        .first()
    )
    if target is None:
        raise BusinessError(codes.QUERY_UNKNOWN)
    if target.status == BankRequest.Status.PROCESSING:
        result = {"requestNo": target.request_no, "respCode": codes.PROCESSING,
                  "respMsg": codes.MESSAGES[codes.PROCESSING], "status": "PROCESSING"}
    else:
        result = statements.full_response(target, target.response)
    return {"queryRequestNo": target.request_no, "serviceName": target.service_name, "result": result}


def query_balance(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    account = accounts.any_account(req.platform_no, data["userNo"])
    return {"userNo": account.account_no, "available": account.available, "frozen": account.frozen}


def download_statement(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    kind = data.get("kind", "TRANSACTIONS")
    statement = statements.close_day(req.platform_no, data["date"], kind)
    return {
        "date": data["date"],
        "kind": kind,
        "file": base64.b64encode(statement.content.encode("utf-8")).decode("ascii"),
        "rows": statement.rows,
        "sha256": statement.sha256,
    }


DIRECT = {
    "CREATE_PROJECT": create_project,
    "MODIFY_PROJECT": modify_project,
    "USER_PRE_TRANSACTION": user_pre_transaction,
    "CANCEL_PRE_TRANSACTION": cancel_pre_transaction,
    "CONFIRM_LOAN": confirm_loan,
    "CONFIRM_REPAYMENT": confirm_repayment,
    "TRANSFER": transfer,
    "QUERY_REQUEST": query_request,
    "QUERY_BALANCE": query_balance,
    "DOWNLOAD_STATEMENT": download_statement,
}
GATEWAY = {"RECHARGE": recharge, "WITHDRAW": withdraw, "AUTHORIZE": authorize}
assert set(DIRECT) | {"BATCH"} == messages.DIRECT_SERVICES  # BATCH: batch.py runs these per item
