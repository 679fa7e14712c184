"""The project's settings with Django's psycopg connection pool on both databases.

Used only by the ledger benchmark's "pooled connections" HTTP variant, to show what
reusing connections buys compared with the project's current default (``CONN_MAX_AGE=0``
and no pool: a new PostgreSQL connection for every HTTP request).
"""

from wanxin.settings import *  # noqa: F403
from wanxin.settings import DATABASES

for _entry in DATABASES.values():
    # gunicorn gthread runs 8 threads per worker process; one connection each at most.
    _entry["OPTIONS"] = {**_entry.get("OPTIONS", {}), "pool": {"min_size": 2, "max_size": 8, "timeout": 10}}
    _entry["CONN_MAX_AGE"] = 0
