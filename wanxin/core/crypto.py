"""Field encryption at rest (AES-256-GCM) and blind indexes for lookups.

Ciphertext is ``v1:<key id>:<base64(nonce || ciphertext)>`` so keys can rotate: new
values use the first key, old values decrypt with whichever key id they name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class FieldCipher:
    def __init__(self, keys: dict[str, bytes], *, current: str, index_key: bytes):
        if current not in keys:
            raise ValueError("the current key id must be one of the keys")
        for key in keys.values():
            if len(key) != 32:
                raise ValueError("field keys are 32 bytes (AES-256)")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self._current = current
        self._index_key = index_key

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self._current].encrypt(nonce, plaintext.encode("utf-8"), self._current.encode())
        return f"v1:{self._current}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str) -> str:
        version, kid, body = token.split(":", 2)
        if version != "v1" or kid not in self._keys:
            raise ValueError("unknown ciphertext version or key id")
        raw = base64.b64decode(body)
        return self._keys[kid].decrypt(raw[:12], raw[12:], kid.encode()).decode("utf-8")

    def blind_index(self, value: str) -> str:
        """Deterministic keyed hash: equal values match without revealing them."""
        return hmac.new(self._index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` from a configured secret (HKDF-like, SHA-256)."""
    return hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()
