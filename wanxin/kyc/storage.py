"""Private storage of qualification documents under ``settings.MEDIA_ROOT / "kyc"``.

Nothing here has a URL: files are only ever streamed by the views that check who asks.
Names are random, so neither a customer's file name nor an id leads to a file."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from .domain import EXTENSIONS


def _storage() -> FileSystemStorage:
    # Built per use so a changed MEDIA_ROOT (tests) takes effect at once.
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "kyc", base_url=None,
                             file_permissions_mode=0o600, directory_permissions_mode=0o700)


def save(chunks, *, content_type: str) -> tuple[str, int, str]:
    """Write the chunks under a new random name; return (name, size, sha256)."""
    name = f"{timezone.now():%Y/%m}/{secrets.token_hex(16)}{EXTENSIONS[content_type][0]}"
    storage = _storage()
    path = Path(storage.path(name))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(path, "xb") as out:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    path.chmod(0o600)
    return name, size, digest.hexdigest()


def open_file(name: str) -> IO[bytes]:
    return _storage().open(name, "rb")


def delete(name: str) -> None:
    _storage().delete(name)


def exists(name: str) -> bool:
    return _storage().exists(name)
