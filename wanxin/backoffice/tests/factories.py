"""Test helpers shared by the back-office and kyc tests: users, roles, files."""

from __future__ import annotations

import itertools
import struct
import zlib

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.backoffice.services import roles_sync

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def customer(username: str | None = None, **extra) -> User:
    n = next(_seq)
    return User.objects.create_user(username=username or f"customer{n}", password=PASSWORD,
                                    mobile=extra.pop("mobile", f"139{n:08d}"), role=User.Role.BORROWER, **extra)


def ensure_roles() -> None:
    """The role groups come from a data migration; a transactional test's flush removes
    them, so put them back when they are missing."""
    if Group.objects.filter(name__in=roles.ROLES).count() != len(roles.ROLES):
        roles_sync()


def operator(*role_names: str, username: str | None = None) -> User:
    """An active operator holding the given roles (none: an operator without a role)."""
    ensure_roles()
    user = User.objects.create_user(username=username or f"op{next(_seq)}", password=PASSWORD, is_operator=True)
    user.groups.set(Group.objects.filter(name__in=role_names))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def reviewer() -> User:
    return operator(roles.LOAN_REVIEWER)


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    return upload(name, JPEG, "image/jpeg")


def png(name: str = "scan.png") -> SimpleUploadedFile:
    return upload(name, png_bytes(), "image/png")


def pdf(name: str = "statement.pdf") -> SimpleUploadedFile:
    return upload(name, PDF, "application/pdf")

