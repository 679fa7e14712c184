"""Encrypted model fields (AES-GCM via ``wanxin.core.crypto``) for sensitive personal data.

Values are encrypted on write and decrypted on read; the database never holds the
plaintext. Searching is by a separate blind-index column where one is needed.
"""

from __future__ import annotations

import json
from functools import cache

from django.conf import settings
from django.db import models

from wanxin.core.crypto import FieldCipher, derive_key


@cache
def _cipher(secret: str, key_ids: str) -> FieldCipher:
    ids = key_ids.split(",")
    keys = {kid: derive_key(secret, f"field-encryption:{kid}") for kid in ids}
    return FieldCipher(keys, current=ids[0], index_key=derive_key(secret, "blind-index"))


def cipher() -> FieldCipher:
    return _cipher(settings.FIELD_ENCRYPTION_SECRET, settings.FIELD_ENCRYPTION_KEY_IDS)


def blind_index(value: str) -> str:
    return cipher().blind_index(value)


class EncryptedTextField(models.TextField):
    """A text value stored encrypted. Not usable in lookups: add a blind index for that."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return cipher().decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return cipher().encrypt(value)


class EncryptedJSONField(models.TextField):
    """A JSON value stored encrypted (e.g. request payloads carrying ID and card numbers)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return json.loads(cipher().decrypt(value))

    def to_python(self, value):
        return json.loads(value) if isinstance(value, str) and value else value

    def get_prep_value(self, value):
        if value is None:
            return value
        return cipher().encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
