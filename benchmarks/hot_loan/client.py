"""The hot loan benchmark's clients (``benchmarks.hot_loan``): every bid released at once over
HTTP (a minimal HTTP/1.1 client on asyncio streams, so the client's own CPU stays small),
one bid at a time (alone: answered latency over HTTP; in-process: SQL statements), and the
warm-up."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from benchmarks import ledger
from benchmarks.common import StatementCounter, percentile

from .seed import INCREMENT, PROBE_HTTP_BIDS, PROBE_STATEMENT_BIDS, investor_no


def parse_response(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0, {"code": "no_answer", "raw": raw[:200].decode(errors="replace")}
    if b"transfer-encoding: chunked" in head.lower():
        chunks, rest = [], body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            chunks.append(rest[:size])
            rest = rest[size + 2:]
        body = b"".join(chunks)
    try:
        return status, json.loads(body or b"{}")
    except ValueError:
        return status, {"code": "not_json", "raw": body[:200].decode(errors="replace")}




async def _burst(port: int, path: str, bids: list[tuple[str, int]], timeout: float) -> dict[str, Any]:
    """Open one connection per bid, then send every bid at the same instant."""
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in bids))
    release = asyncio.Event()
    state: dict[str, float] = {}
    run = os.urandom(6).hex()  # idempotency keys are kept a day: unique per run

    async def one(i: int, reader, writer, token: str, amount: int) -> dict[str, Any]:
        body = json.dumps({"amount": amount}).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                   f"Idempotency-Key: {run}-{i}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        await release.wait()
        try:
            writer.write(request)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), timeout)  # until the server closes
        except (OSError, TimeoutError) as exc:
            raw = f"error {type(exc).__name__}: {exc}".encode()
        answered = time.perf_counter()
        writer.close()
        status, payload = parse_response(raw)
        return {"i": i, "amount": amount, "status": status, "code": payload.get("code", ""),
                "tender_status": payload.get("status", ""), "seconds": answered - state["t0"]}

    tasks = [asyncio.create_task(one(i, r, w, token, amount))
             for i, ((r, w), (token, amount)) in enumerate(zip(connections, bids, strict=True))]
    await asyncio.sleep(0.05)  # every task is waiting on the release
    state["t0"], state["wall0"] = time.perf_counter(), time.time()
    release.set()
    results = await asyncio.gather(*tasks)
    return {"results": results, "wall_s": max(r["seconds"] for r in results), "released_at": state["wall0"]}


def burst(port: int, project_id: int, bids: list[tuple[str, int]], timeout: float) -> dict[str, Any]:
    """Open one connection per (token, amount), then send every bid at the same instant."""
    return asyncio.run(_burst(port, f"/api/v1/loans/projects/{project_id}/tenders", bids, timeout))


# -- one bid at a time ------------------------------------------------------------------------------


def probe_alone(port: int, project_id: int, tokens: list[str]) -> dict[str, Any]:
    """PROBE_HTTP_BIDS bids one after another over HTTP to the platform server (keep-alive, as a
    browser or an app would): the latency of one bid alone, release to answer."""
    import httpx

    latencies, statuses = [], []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for token in tokens[:PROBE_HTTP_BIDS]:
            t0 = time.perf_counter()
            answer = http.post(f"/api/v1/loans/projects/{project_id}/tenders", json={"amount": INCREMENT},
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": os.urandom(8).hex()})
            latencies.append(time.perf_counter() - t0)
            if answer.status_code != 201:
                raise SystemExit(f"probe bid refused: {answer.status_code} {answer.text[:300]}")
            statuses.append(answer.json()["status"])
    latencies.sort()
    return {"bids": len(latencies), "p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "p90_ms": round(percentile(latencies, 90) * 1000, 2),
            "mean_ms": round(sum(latencies) / len(latencies) * 1000, 2),
            "answered_status": {s: statuses.count(s) for s in set(statuses)}}


def probe_statements(project_id: int, tokens: list[str]) -> dict[str, Any]:
    """PROBE_STATEMENT_BIDS bids one after another through the platform's WSGI handler in this
    process: the SQL statements the platform runs to answer a bid (BEGIN/COMMIT not included;
    the freeze is sent after the answer, by an outbox sender, not counted here)."""
    from django.db import connections
    from django.test import Client

    from wanxin.depository import outbox

    counter = StatementCounter()
    client = Client()
    url = f"/api/v1/loans/projects/{project_id}/tenders"
    latencies = []
    with connections["default"].execute_wrapper(counter):
        for token in tokens[:PROBE_STATEMENT_BIDS]:
            t0 = time.perf_counter()
            answer = client.post(url, data={"amount": INCREMENT}, content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY=os.urandom(8).hex())
            latencies.append(time.perf_counter() - t0)
            if answer.status_code != 201:
                raise SystemExit(f"probe bid refused: {answer.status_code} {answer.content[:300]!r}")
    outbox.flush(60)
    bids = len(latencies)
    latencies.sort()
    return {
        "bids": bids,
        "p50_ms_in_process": round(percentile(latencies, 50) * 1000, 2),
        "platform_statements_per_bid": round(counter.statements / bids, 1),
        "platform_ms_in_statements_per_bid": round(counter.seconds / bids * 1000, 2),
    }


def warm_up(platform_port: int, bank_port: int, project_id: int, tokens: list[str]) -> None:
    """Load every worker's code paths, database pools and bank client before the burst
    (no money moves: quotes and balance queries)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    caller = ledger.Caller(97, "warm", f"http://127.0.0.1:{bank_port}")

    def platform_get(token: str) -> None:
        # The bid's checks (quote), and a call from the platform to the bank (QUERY_BALANCE).
        with httpx.Client(base_url=f"http://127.0.0.1:{platform_port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            http.get(f"/api/v1/loans/projects/{project_id}/quote", params={"amount": INCREMENT}).raise_for_status()
            http.get("/api/v1/funds/balance").raise_for_status()

    try:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(platform_get, (tokens * 64)[:64]))
        for i in range(32):
            assert caller.call("QUERY_BALANCE", userNo=investor_no(i % len(tokens)))["respCode"] == ledger.OK
    finally:
        caller.close()
