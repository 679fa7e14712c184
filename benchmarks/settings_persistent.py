"""The project's settings with persistent database connections (``CONN_MAX_AGE``).

Used only by the ledger benchmark's "persistent connections" HTTP variant, to show what
reusing connections buys compared with the default of one new connection per request.
"""

from wanxin.settings import *  # noqa: F403
from wanxin.settings import DATABASES

for _entry in DATABASES.values():
    _entry["CONN_MAX_AGE"] = 600
    _entry["CONN_HEALTH_CHECKS"] = True
