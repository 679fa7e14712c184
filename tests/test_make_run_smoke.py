"""Smoke test of `make run`'s embedded start: a private PostgreSQL from the wheel,
migrations, demo seed, gunicorn, and a signed request over HTTP; then a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from wanxin.protocol import envelope, signing

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_running(pgdata: Path) -> bool:
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and any(str(pgdata) in part for part in proc.info["cmdline"] or []):
            return True
    return False


def test_embedded_start_serves_both_services_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "BANK_DATABASE_URL", "REDIS_URL", "WANXIN_LOCAL_SERVICES",
                        "DJANGO_SETTINGS_MODULE", "WANXIN_ENV", "WANXIN_TEST_DB_SUFFIX"}}
    env["WANXIN_VAR_DIR"] = str(tmp_path / "var")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wanxin.launcher", "--port", str(port), "--workers", "1", "--threads", "4"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl+C to stop." in line:
                break
        text = "".join(output)
        assert "Wanxin is running (embedded PostgreSQL)" in text, text
        assert "login admin /" in text
        assert (tmp_path / "var" / "pg" / "PG_VERSION").exists()

        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/health").json() == {"status": "ok", "role": "all"}
        assert httpx.get(f"{base}/api/v1/openapi.json").json()["info"]["title"] == "Wanxin API"
        # Served like production: no debug page listing the URL patterns, static files still
        # served (WhiteNoise), the Content-Security-Policy on every page.
        assert "Debug pages        off" in text, text
        missing = httpx.get(f"{base}/no-such-page")
        assert missing.status_code == 404 and "URLconf" not in missing.text and "api/v1/" not in missing.text
        css = httpx.get(f"{base}/static/web/site.css")
        assert css.status_code == 200 and "script-src 'self'" in css.headers["content-security-policy"]
        assert "script-src 'self'" in httpx.get(f"{base}/").headers["content-security-policy"]
        assert "华信存管银行" in httpx.get(f"{base}/bank/").text  # Chinese unless the browser asks otherwise
        assert "Depository Bank" in httpx.get(f"{base}/bank/", headers={"Accept-Language": "en"}).text
        # The demo market was built through the running services: loans in the hall.
        assert "done in" in text, text
        hall = httpx.get(f"{base}/loans/").text
        assert "Tea house renovation" in hall and "Cold counter and shelving" in hall

        keys = tmp_path / "var" / "keys"
        private = signing.load_private_key((keys / "platform.key").read_text())
        bank_public = signing.load_public_key((keys / "bank.pub").read_text())
        env_fields = envelope.build_request(
            private, service_name="QUERY_BALANCE", platform_no="WANXIN",
            data={"requestNo": "SMOKE1", "timestamp": int(time.time() * 1000), "userNo": "PLATFORM_CAPITAL"},
        ).as_dict()
        answer = envelope.open_response(bank_public, httpx.post(f"{base}/bank/service", json=env_fields).json())
        assert answer["respCode"] == "00000"
        assert answer["available"] == 5_000_000_00  # the demo seed funds PLATFORM_CAPITAL
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(output) + rest
    assert "Stopped." in rest
    deadline = time.monotonic() + 15
    while _postgres_running(tmp_path / "var" / "pg") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _postgres_running(tmp_path / "var" / "pg"), "embedded PostgreSQL left running"
