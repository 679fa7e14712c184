"""The bank away: a fixture that makes it unreachable for chosen services, and the recovery
run that brings platform and bank back to agreement (the platform's real QUERY_REQUEST path)."""

from __future__ import annotations

import datetime as dt

import pytest

from wanxin.depository import services as depository
from wanxin.depository.client import BankClient, BankUnavailable


@pytest.fixture
def outage(monkeypatch):
    """``outage(services, lost="request"|"answer")``: the bank is unreachable for those
    services, before it gets the request or after it executed it, and for a BATCH that carries
    one of them (the outbox's); ``outage.stop()`` ends it."""
    real = BankClient.send

    def start(names: set[str], *, lost: str) -> None:
        def send(self, service_name, data):
            carried = {item["serviceName"] for item in data.get("items", [])} if service_name == "BATCH" else set()
            if service_name in names or carried & names:
                if lost == "answer":
                    real(self, service_name, data)
                raise BankUnavailable("simulated timeout")
            return real(self, service_name, data)

        monkeypatch.setattr(BankClient, "send", send)

    def stop() -> None:
        monkeypatch.setattr(BankClient, "send", real)

    start.stop = stop
    return start


def recover() -> dict:
    """Recover every request still pending, however young (counts by outcome)."""
    return depository.pending_recover(older_than=dt.timedelta(0))
