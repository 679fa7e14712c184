"""The project's settings with Django's psycopg connection pool on both databases.

Used by the benchmarks' "pooled connections" HTTP variants with a pool sized to gunicorn's
threads. Served processes pool by default now (``WANXIN_DB_POOL``); this file pins the size.
"""

from wanxin.settings import *  # noqa: F403
from wanxin.settings import DATABASES

for _entry in DATABASES.values():
    # gunicorn gthread runs 8 threads per worker process; one connection each at most.
    _entry["OPTIONS"] = {**_entry.get("OPTIONS", {}), "pool": {"min_size": 2, "max_size": 8, "timeout": 10}}
    _entry["CONN_MAX_AGE"] = 0
