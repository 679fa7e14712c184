"""The HTTP client side: one case run by one or more clients, latency summaries, and a check
that every case answers what it should."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from benchmarks.common import (
    interpolated_percentile,
)


def summary(latencies: list[float]) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies]
    return {"n": len(ms), "p50_ms": round(interpolated_percentile(ms, 50), 2), "p95_ms": round(interpolated_percentile(ms, 95), 2),
            "p99_ms": round(interpolated_percentile(ms, 99), 2), "max_ms": round(max(ms), 2) if ms else 0,
            "mean_ms": round(statistics.fmean(ms), 2) if ms else 0}


def run_case(base_url: str, token: str, case: dict[str, Any], *, iterations: int, warmup: int,
             clients: int = 1) -> dict[str, Any]:
    import httpx

    path = case.get("path", "/api/v1/funds/records")
    params_list = case["params"]
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = max(1, iterations // clients)

    def client_loop(cid: int) -> None:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for i in range(warmup + per_client):
                params = params_list[(cid + i) % len(params_list)]
                t0 = time.perf_counter()
                size = 0
                with http.stream("GET", path, params=params) as response:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                    status = response.status_code
                elapsed = time.perf_counter() - t0
                if i < warmup:
                    continue
                with lock:
                    if status != 200:
                        errors.append(f"HTTP {status}")
                    latencies.append(elapsed)
                    sizes.append(size)

    threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(clients)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    return {**summary(latencies), "clients": clients, "requests_per_s": round(len(latencies) / wall, 1),
            "bytes_per_response": int(statistics.fmean(sizes)) if sizes else 0, "errors": len(errors),
            "error_samples": errors[:3]}


def check_responses(base_url: str, token: str, case_map: dict[str, Any]) -> dict[str, Any]:
    """Every case answers what it should (so the figures measure real work)."""
    import httpx

    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        first = http.get("/api/v1/funds/records", params={"limit": 20}).json()
        deep = http.get("/api/v1/funds/records", params=case_map["filtered_deep_page"]["params"][0]).json()
        csv_lines = http.get("/api/v1/funds/records.csv", params=case_map["csv_year"]["params"][0]).text.count("\n")
    assert len(first["items"]) == 20 and first["next_cursor"], first
    assert len(deep["items"]) == 20 and all(i["type"] == "RECEIVABLE" for i in deep["items"]), deep
    assert csv_lines == case_map["csv_year"]["rows"] + 1, (csv_lines, case_map["csv_year"]["rows"])
    return {"first_page_items": len(first["items"]), "deep_page_items": len(deep["items"]), "csv_lines": csv_lines}
