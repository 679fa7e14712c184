"""What is measured: the query string of every case (deep cursors taken from the data) and
the SQL of the page cases with their plans, beside OFFSET at the same depth."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any


def cases(user_id: int) -> dict[str, Any]:
    """Query strings of every case, with deep cursors taken from the data."""
    from django.contrib.auth import get_user_model

    from wanxin.funds import selectors
    from wanxin.funds.models import FundRecord

    user = get_user_model().objects.get(pk=user_id)
    today = dt.date.today()
    year_from, year_to = (today - dt.timedelta(days=364)).isoformat(), today.isoformat()

    def cursors(qs, depths: list[int]) -> list[str]:
        ordered = qs.order_by("-created_at", "-id").values_list("created_at", "id")
        return [selectors.encode_cursor(*ordered[d]) for d in depths]

    mine = FundRecord.objects.filter(user=user)
    filtered = selectors._filtered(user, selectors.record_filter(types=["RECEIVABLE"], date_from=year_from,
                                                                  date_to=year_to))
    n_filtered = filtered.count()
    n_all = mine.count()
    filtered_depths = [int(n_filtered * f) for f in (0.5, 0.7, 0.9, 0.98)]
    deep_depths = [int(n_all * f) for f in (0.8, 0.9, 0.95, 0.999)]
    return {
        "first_page": {"label": "first page (20 newest)", "params": [{"limit": 20}]},
        "filtered_deep_page": {
            "label": f"type=RECEIVABLE, one year, deep cursor (rows {filtered_depths[0]:,}–{filtered_depths[-1]:,} "
                     f"of {n_filtered:,})",
            "params": [{"limit": 20, "type": "RECEIVABLE", "date_from": year_from, "date_to": year_to, "after": c}
                       for c in cursors(filtered, filtered_depths)],
            "depths": filtered_depths, "matching_rows": n_filtered,
        },
        "unfiltered_deep_page": {
            "label": f"no filter, deep cursor (rows {deep_depths[0]:,}–{deep_depths[-1]:,} of {n_all:,})",
            "params": [{"limit": 20, "after": c} for c in cursors(mine, deep_depths)],
            "depths": deep_depths,
        },
        "statistics_year": {"label": "statistics of one year", "path": "/api/v1/funds/statistics",
                            "params": [{"date_from": year_from, "date_to": year_to}]},
        "csv_year": {"label": "CSV export of one year", "path": "/api/v1/funds/records.csv",
                     "params": [{"date_from": year_from, "date_to": year_to}],
                     "rows": mine.filter(created_at__date__gte=year_from).count()},
    }


def sql_plans(user_id: int, case_map: dict[str, Any]) -> dict[str, Any]:
    """The SQL the page cases run, with their plans and execution times, beside the
    OFFSET query a page number at the same depth would need."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from wanxin.funds import selectors

    user = get_user_model().objects.get(pk=user_id)
    out: dict[str, Any] = {}

    def explain(sql: str, params) -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            lines = [r[0] for r in cursor.fetchall()]
        exec_ms = next((float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([\d.]+)", line))), None)
        return {"execution_ms": exec_ms, "plan": lines}

    for name in ("first_page", "filtered_deep_page", "unfiltered_deep_page"):
        q = case_map[name]["params"][-1]
        filters = selectors.record_filter(types=[q["type"]] if "type" in q else None, date_from=q.get("date_from"),
                                          date_to=q.get("date_to"))
        qs = selectors._filtered(user, filters)
        if "after" in q:
            at, pk = selectors.decode_cursor(q["after"])
            qs = qs.filter(created_at__lte=at).exclude(created_at=at, id__gte=pk)
        sql, params = qs.order_by("-created_at", "-id")[:21].query.sql_with_params()
        out[name] = {"sql": sql % tuple(repr(str(p)) for p in params), **explain(sql, params)}
        if "depths" in case_map[name]:
            offset_qs = selectors._filtered(user, filters).order_by("-created_at", "-id")[
                case_map[name]["depths"][-1]: case_map[name]["depths"][-1] + 21]
            sql, params = offset_qs.query.sql_with_params()
            offset = explain(sql, params)
            out[name]["offset_equivalent_ms"] = offset["execution_ms"]
    return out
