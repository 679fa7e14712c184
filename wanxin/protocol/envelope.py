"""The four-field envelope, the signed response (PROTOCOL §2) and the notification (§4a)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import codes, signing
from .codes import ProtocolError

MAX_ENVELOPE_BYTES = 256 * 1024
# A BATCH of 1,000 items (§5a) needs more; still under DATA_UPLOAD_MAX_MEMORY_SIZE (512 KiB).
MAX_BATCH_ENVELOPE_BYTES = 500 * 1024
ENVELOPE_FIELDS = ("serviceName", "platformNo", "reqData", "signature")
# §4a: a notification is signed over these bytes + respData, a response over respData alone,
# so a signed response (the bank answers even requests it could not verify) cannot be
# replayed as a notification.
NOTIFY_PREFIX = "NOTIFY:"


def parse_json(raw: bytes | str) -> Any:
    """``json.loads`` for text from the wire: every defect is a ``ValueError``, including
    nesting deep enough to exhaust the parser's recursion (``[[[[…``: ``RecursionError``)."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise ValueError("JSON is nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise ValueError("JSON is not UTF-8") from exc


def encode_data(data: dict[str, Any]) -> str:
    """Base64 of compact UTF-8 JSON: the exact text that gets signed."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_data(encoded: str) -> dict[str, Any]:
    """Strict decode of ``reqData``/``respData``; any defect is ``00003``."""
    try:
        raw = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ProtocolError(codes.INVALID_PARAMS, "data is not valid base64") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(codes.INVALID_PARAMS, "data is not UTF-8") from exc
    del raw  # a statement's answer is ~130 MB: one copy less alive while it is parsed
    try:
        data = parse_json(text)
    except ValueError as exc:
        raise ProtocolError(codes.INVALID_PARAMS, f"data is not JSON ({_reason(exc)})") from exc
    if not isinstance(data, dict):
        raise ProtocolError(codes.INVALID_PARAMS, "data must be a JSON object")
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _reason(exc: ValueError) -> str:
    # json.JSONDecodeError's text names line and column: enough for whoever fixes the sender.
    return str(exc)[:120]


def digest(encoded: str) -> str:
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Envelope:
    service_name: str
    platform_no: str
    req_data: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            "serviceName": self.service_name,
            "platformNo": self.platform_no,
            "reqData": self.req_data,
            "signature": self.signature,
        }


def build_request(
    key: Ed25519PrivateKey, *, service_name: str, platform_no: str, data: dict[str, Any]
) -> Envelope:
    req_data = encode_data(data)
    return Envelope(service_name, platform_no, req_data, signing.sign(key, req_data))


def parse_envelope(fields: Any) -> Envelope:
    """Shape check only (HTTP 400 territory): four non-empty strings."""
    if not isinstance(fields, dict):
        raise ValueError("envelope must be a JSON object")
    values = []
    for name in ENVELOPE_FIELDS:
        value = fields.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"envelope field {name} is missing or not a string")
        values.append(value)
    return Envelope(*values)


def sign_response(key: Ed25519PrivateKey, data: dict[str, Any]) -> dict[str, str]:
    resp_data = encode_data(data)
    return {"respData": resp_data, "signature": signing.sign(key, resp_data)}


def sign_notification(key: Ed25519PrivateKey, data: dict[str, Any]) -> dict[str, str]:
    """A notification's ``respData`` and its signature over ``NOTIFY:`` + respData (§4a)."""
    resp_data = encode_data(data)
    return {"respData": resp_data, "signature": signing.sign(key, NOTIFY_PREFIX + resp_data)}


def _signed_parts(body: Any, what: str) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise ProtocolError(codes.INVALID_PARAMS, f"{what} must be a JSON object")
    resp_data, signature = body.get("respData"), body.get("signature")
    if not isinstance(resp_data, str) or not isinstance(signature, str):
        raise ProtocolError(codes.INVALID_PARAMS, f"{what} lacks respData or signature")
    return resp_data, signature


def open_response(key: Ed25519PublicKey, body: Any) -> dict[str, Any]:
    """Verify and decode a bank response; raises ProtocolError(00004)."""
    resp_data, signature = _signed_parts(body, "response")
    if not signing.verify(key, resp_data, signature):
        raise ProtocolError(codes.BAD_SIGNATURE, "response signature does not verify")
    return decode_data(resp_data)


class ResponseAsNotification(ProtocolError):
    """A bank-signed *response* posted as a notification (§4a): refused."""

    def __init__(self) -> None:
        super().__init__(codes.BAD_SIGNATURE, "signed as a response, not as a notification")


def open_notification(key: Ed25519PublicKey, body: Any) -> dict[str, Any]:
    """Verify and decode a bank notification (signature over ``NOTIFY:`` + respData).

    Raises ``ResponseAsNotification`` when the signature verifies only without the prefix,
    ``ProtocolError(00004)`` when it does not verify at all, ``00003`` when the data lacks
    the notification's own fields."""
    resp_data, signature = _signed_parts(body, "notification")
    if not signing.verify(key, NOTIFY_PREFIX + resp_data, signature):
        if signing.verify(key, resp_data, signature):
            raise ResponseAsNotification()
        raise ProtocolError(codes.BAD_SIGNATURE, "notification signature does not verify")
    data = decode_data(resp_data)
    if not isinstance(data.get("serviceName"), str) or type(data.get("notifiedAt")) is not int:
        raise ProtocolError(codes.INVALID_PARAMS, "notification lacks serviceName or notifiedAt")
    return data
