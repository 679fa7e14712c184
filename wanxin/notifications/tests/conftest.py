from __future__ import annotations

import pytest

from wanxin.notifications import backends


@pytest.fixture(autouse=True)
def outbox(settings):
    """The in-memory backend's outbox, empty at the start and end of each test."""
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    backends.outbox_clear()
    yield backends.outbox
    backends.outbox_clear()
