"""The platforms this bank serves: public key and notifyUrl per platformNo (PROTOCOL §1)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from wanxin.protocol import signing


@dataclass(frozen=True)
class PlatformConfig:
    platform_no: str
    public_key: Ed25519PublicKey
    notify_url: str


@cache
def _public_key(pem: str) -> Ed25519PublicKey:
    return signing.load_public_key(pem)


def get_platform(platform_no: str) -> PlatformConfig | None:
    entry = settings.BANK_PLATFORMS.get(platform_no)
    if not entry:
        return None
    return PlatformConfig(platform_no, _public_key(entry["public_key"]), entry["notify_url"])


@cache
def _private_key(pem: str) -> Ed25519PrivateKey:
    return signing.load_private_key(pem)


def bank_private_key() -> Ed25519PrivateKey:
    return _private_key(settings.BANK_PRIVATE_KEY)
