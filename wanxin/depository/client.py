"""The only module that talks to the bank: signed envelopes over httpx.

Retries only what the protocol calls retryable (network failure, ``00001``), always
with the very same bytes, so the bank sees one request however many times it arrives.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from wanxin.protocol import codes, envelope, signing
from wanxin.protocol.codes import ProtocolError

log = logging.getLogger("wanxin.depository")


class BankUnavailable(Exception):
    """No answer from the bank: the outcome is unknown; the record stays pending."""


@dataclass
class BankClient:
    base_url: str
    platform_no: str
    private_key: Ed25519PrivateKey
    bank_public_key: Ed25519PublicKey
    timeout: float = 10.0
    retries: int = 2
    retry_delay: float = 0.2
    transport: httpx.BaseTransport | None = None

    def envelope(self, service_name: str, data: dict[str, Any]) -> envelope.Envelope:
        stamped = {**data, "timestamp": int(time.time() * 1000)}
        return envelope.build_request(self.private_key, service_name=service_name,
                                      platform_no=self.platform_no, data=stamped)

    def send(self, service_name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send a direct request; returns the verified, decoded ``respData``."""
        env = self.envelope(service_name, data)
        last_error: Exception | None = None
        with _http(self.timeout, self.transport) as http:
            for attempt in range(self.retries + 1):
                if attempt:
                    time.sleep(self.retry_delay * attempt)
                try:
                    response = http.post(f"{self.base_url}/service", json=env.as_dict())
                except httpx.TransportError as exc:
                    last_error = exc
                    log.warning("bank unreachable for %s (attempt %s): %s", data.get("requestNo"), attempt + 1, exc)
                    continue
                if response.status_code >= 500:
                    # A proxy's 502/504 or a crashed bank: the outcome is unknown, like a timeout.
                    last_error = ProtocolError(codes.SYSTEM_ERROR, f"HTTP {response.status_code} from the bank")
                    log.warning("bank answered HTTP %s for %s (attempt %s)", response.status_code,
                                data.get("requestNo"), attempt + 1)
                    continue
                if response.status_code != 200:
                    raise ProtocolError(codes.INVALID_PARAMS, f"bank refused the envelope: {response.text[:200]}")
                try:
                    body = envelope.parse_json(response.content)
                except ValueError as exc:
                    # Not the bank's answer (a proxy's page?): the outcome is unknown, like a timeout.
                    last_error = ProtocolError(codes.SYSTEM_ERROR, f"unreadable answer from the bank: {exc}")
                    log.warning("unreadable answer for %s (attempt %s): %s", data.get("requestNo"), attempt + 1, exc)
                    continue
                del response  # its body is parsed: a statement's is ~170 MB, not kept while it is decoded
                resp = envelope.open_response(self.bank_public_key, body)
                if resp.get("respCode") == codes.SYSTEM_ERROR:
                    last_error = ProtocolError(codes.SYSTEM_ERROR)
                    continue
                return resp
        raise BankUnavailable(str(last_error))

    def send_batch(self, request_no: str, items: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Send direct requests as one ``BATCH`` (PROTOCOL §5a) and open its results.

        ``items``: ``(serviceName, data)`` pairs, each ``data`` with its own ``requestNo`` and
        no ``timestamp``. Returns one ``respData`` per item, in order, each exactly what that
        item would have got alone (so each is applied like a single response). A refusal of
        the whole batch (``00003``–``00005``: nothing recorded) raises ``ProtocolError``; no
        answer raises ``BankUnavailable`` (resend the same batch, or query the items). Sending
        the same ``request_no`` with the same items again returns the stored results."""
        resp = self.send("BATCH", {"requestNo": request_no, "items": batch_items(items)})
        if resp.get("respCode") != codes.SUCCESS:
            raise ProtocolError(resp.get("respCode", codes.SYSTEM_ERROR), resp.get("respMsg"))
        results = resp.get("results")
        if not isinstance(results, list) or len(results) != len(items):
            raise ProtocolError(codes.INVALID_PARAMS, "the bank's BATCH answer has no result per item")
        return results


def batch_items(items: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The ``items`` field of a BATCH: ``[{"serviceName": …, "data": {…}}]``."""
    return [{"serviceName": service, "data": data} for service, data in items]


# Idle keep-alive connections are dropped before the server's own keep-alive timeout
# (gunicorn's default is 2 s), so a reused connection is not one the server is closing;
# if it is anyway, the send fails as a TransportError and is retried with the same bytes.
KEEPALIVE_EXPIRY = 1.0
_local = threading.local()


@contextmanager
def _http(timeout: float, transport: httpx.BaseTransport | None) -> Iterator[httpx.Client]:
    """An httpx client with explicit timeouts. Without a custom transport, one keep-alive
    client per thread (and process: never a connection inherited through fork), so a
    burst of sends reuses its connections instead of opening one per request."""
    timeouts = httpx.Timeout(timeout, connect=3.0)
    if transport is not None:
        with httpx.Client(transport=transport, timeout=timeouts, verify=_tls_context()) as http:
            yield http
        return
    key = (os.getpid(), timeout)
    cached = getattr(_local, "client", None)
    if cached is None or cached[0] != key:
        http = httpx.Client(timeout=timeouts, verify=_tls_context(),
                            limits=httpx.Limits(max_connections=4, keepalive_expiry=KEEPALIVE_EXPIRY))
        _local.client = cached = (key, http)
    yield cached[1]


@cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (certificate checks on), built once per process: building
    it loads the CA bundle, ~40 ms of CPU, which a new ``httpx.Client`` per request paid
    every time (more than the rest of a bid; ``docs/benchmarks.md``)."""
    return httpx.create_ssl_context()


@cache
def _keys(private_pem: str, public_pem: str) -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    return signing.load_private_key(private_pem), signing.load_public_key(public_pem)


def get_client(*, transport: httpx.BaseTransport | None = None) -> BankClient:
    private_key, bank_key = _keys(settings.PLATFORM_PRIVATE_KEY, settings.BANK_PUBLIC_KEY)
    return BankClient(
        base_url=settings.BANK_URL.rstrip("/"),
        platform_no=settings.PLATFORM_NO,
        private_key=private_key,
        bank_public_key=bank_key,
        timeout=settings.BANK_HTTP_TIMEOUT,
        transport=transport,
    )


def bank_public_key() -> Ed25519PublicKey:
    return _keys(settings.PLATFORM_PRIVATE_KEY, settings.BANK_PUBLIC_KEY)[1]
