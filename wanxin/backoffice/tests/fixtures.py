"""Fixtures shared by the back-office and kyc tests (imported by both conftest files)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_hashing_private_media(settings, tmp_path):
    # Argon2 is deliberately slow; these tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def private_media(_fast_hashing_private_media):
    return _fast_hashing_private_media


def stored_files(root) -> list:
    base = root / "kyc"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


@pytest.fixture(autouse=True)
def _audit_context_cleared():
    # The audit address lives in a context variable that the last request of a previous
    # test may have left set; a test calling audit_record directly must not inherit it.
    from wanxin.audit.context import audit_context_clear

    audit_context_clear()
