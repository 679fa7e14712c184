"""Input bounds with no Django in them, so pure domain modules can use them too."""

from __future__ import annotations

import datetime as dt
import re

# Dates people may ask about. Wide enough for any real query, far enough from date.min/max
# that "the day after" and time-zone conversion never overflow.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)

# PostgreSQL's integer and bigint ranges.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

NUL = "\x00"
# A JSON ``\u0000`` escape not itself escaped (an odd number of backslashes before the ``u``).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def has_nul(value: object) -> bool:
    return isinstance(value, str) and NUL in value


def json_body_has_nul(body: bytes) -> bool:
    """Whether a JSON text would decode to a string holding NUL (escaped or raw)."""
    return b"\x00" in body or _JSON_NUL.search(body) is not None
