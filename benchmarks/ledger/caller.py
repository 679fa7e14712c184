"""The benchmark's client of the bank: signed requests in-process (the service layer) or
over HTTP, and one iteration of each request mix."""

from __future__ import annotations

import json
import time
from typing import Any

from .config import AMOUNT, OK, ONE_CALL_FREEZE


class Caller:
    """Speaks the protocol to the bank, in-process (service layer) or over HTTP."""

    def __init__(self, wid: int, tag: str, base_url: str | None = None):
        from django.conf import settings

        from wanxin.protocol import signing

        self.wid, self.tag, self.seq = wid, tag, 0
        self.batch_items = 1000
        self.batch_customers: list[str] = []
        self.platform_no = settings.PLATFORM_NO
        self.key = signing.load_private_key(settings.PLATFORM_PRIVATE_KEY)
        self.bank_key = signing.load_public_key(settings.BANK_PUBLIC_KEY)
        self.http = None
        if base_url is not None:
            import httpx

            self.http = httpx.Client(base_url=base_url, timeout=120)  # a 1,000-item BATCH on a loaded machine

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def request_no(self) -> str:
        self.seq += 1
        return f"{self.tag}w{self.wid}n{self.seq}"

    def envelope(self, service: str, data: dict[str, Any]) -> dict[str, str]:
        from wanxin.protocol import envelope

        data = {"requestNo": self.request_no(), "timestamp": int(time.time() * 1000), **data}
        return envelope.build_request(self.key, service_name=service, platform_no=self.platform_no,
                                      data=data).as_dict()

    def call(self, service: str, **data: Any) -> dict[str, Any]:
        env = self.envelope(service, data)
        if self.http is not None:
            from wanxin.protocol import envelope

            response = self.http.post("/bank/service", json=env)
            response.raise_for_status()
            return envelope.open_response(self.bank_key, response.json())
        from wanxin.bank import batch, handlers, processing
        from wanxin.protocol import messages

        verified = processing.verify(env, allowed=messages.DIRECT_SERVICES)
        if service == "BATCH":
            data = batch.execute_batch(verified)
        else:
            data = processing.execute_direct(verified, handlers.DIRECT[service])
        processing.sign(data)  # the bank signs every response; part of its cost
        return data

    def call_in_one_call(self, **data: Any) -> dict[str, Any]:
        """The ceiling prototype (``sql/freeze_in_one_call.sql``): the bank's real verify
        and sign around one server-side function doing the whole freeze, in autocommit (one
        round trip, one implicit transaction)."""
        from django.db import connections

        from wanxin.bank import processing
        from wanxin.protocol import messages

        v = processing.verify(self.envelope("USER_PRE_TRANSACTION", data), allowed=messages.DIRECT_SERVICES)
        with connections["bank"].cursor() as cur:
            cur.execute(ONE_CALL_FREEZE, [v.platform.platform_no, v.data["requestNo"], v.digest,
                                          json.dumps(v.data), v.data["userNo"], v.data["bizType"], v.data["amount"]])
            response = cur.fetchone()[0]
        if isinstance(response, str):  # jsonb arrives as text through Django's cursor
            response = json.loads(response)
        processing.sign(response)
        return response


def one_iteration(caller: Caller, mix: str, customer: str, payee: str) -> list[tuple[float, dict[str, Any]]]:
    """One unit of a mix; returns (seconds, response) per request made."""
    out = []

    def timed(service: str, **data: Any) -> dict[str, Any]:
        t0 = time.perf_counter()
        resp = caller.call(service, **data)
        out.append((time.perf_counter() - t0, resp))
        return resp

    if mix == "freeze_post":
        freeze = timed("USER_PRE_TRANSACTION", userNo=customer, bizType="ALLOCATION", amount=AMOUNT)
        if freeze.get("respCode") == OK:
            timed("TRANSFER", bizType="ALLOCATION_FEE", payer=customer, payee=payee, amount=AMOUNT,
                  preRequestNo=freeze["requestNo"])
    elif mix == "transfer":
        timed("TRANSFER", bizType="COMPENSATION", payer="PLATFORM_CAPITAL", payee=customer, amount=AMOUNT)
        timed("TRANSFER", bizType="ALLOCATION_SETTLE", payer=customer, payee="PLATFORM_CAPITAL", amount=AMOUNT)
    elif mix == "freeze_only":
        timed("USER_PRE_TRANSACTION", userNo=customer, bizType="ALLOCATION", amount=AMOUNT)
    elif mix == "freeze_one_call":
        t0 = time.perf_counter()
        resp = caller.call_in_one_call(userNo=customer, bizType="ALLOCATION", amount=AMOUNT)
        out.append((time.perf_counter() - t0, resp))
    elif mix == "query_balance":
        timed("QUERY_BALANCE", userNo=customer)
    elif mix == "batch_freeze_post":
        t0 = time.perf_counter()
        items = batch_freeze_post_items(caller, customer, payee)
        resp = caller.call("BATCH", items=items)
        seconds = time.perf_counter() - t0
        # One sample per item (ops count items); its "latency" is the batch's round trip.
        out.extend((seconds, r) for r in resp.get("results") or [resp] * len(items))
    else:
        raise ValueError(mix)
    return out


def batch_freeze_post_items(caller: Caller, customer: str, payee: str) -> list[dict[str, Any]]:
    """``caller.batch_items`` items: freeze + post pairs, each post paying its freeze out
    (the item after it, so it sees the freeze) to the payee platform account. The pairs go
    round the sender's ``caller.batch_customers`` (a hot loan's batch has a different
    investor per item): one account changed hundreds of times in one transaction gets slow
    in PostgreSQL (docs/benchmarks.md, BATCH)."""
    items: list[dict[str, Any]] = []
    for n in range(caller.batch_items // 2):
        if caller.batch_customers:
            customer = caller.batch_customers[n % len(caller.batch_customers)]
        freeze_no = caller.request_no()
        items.append({"serviceName": "USER_PRE_TRANSACTION", "data": {
            "requestNo": freeze_no, "userNo": customer, "bizType": "ALLOCATION", "amount": AMOUNT}})
        items.append({"serviceName": "TRANSFER", "data": {
            "requestNo": caller.request_no(), "bizType": "ALLOCATION_FEE", "payer": customer, "payee": payee,
            "amount": AMOUNT, "preRequestNo": freeze_no}})
    return items
