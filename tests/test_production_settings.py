"""Production settings refuse to start without configured keys (PROTOCOL §1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _start(extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_KEY") and not k.endswith("_KEY_FILE")}
    env.update({"WANXIN_ENV": "production", "SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://u@127.0.0.1:1/db",
                "FIELD_ENCRYPTION_SECRET": "y" * 50, "SMS_PROVIDER_URL": "https://sms.example.com/send",
                "SMS_PROVIDER_API_KEY": "k",
                "DJANGO_SETTINGS_MODULE": "wanxin.settings", **extra})
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_keys():
    result = _start({})
    assert result.returncode != 0
    assert "PLATFORM_PRIVATE_KEY or PLATFORM_PRIVATE_KEY_FILE must be set in production" in result.stderr


def test_production_starts_with_keys(tmp_path):
    from wanxin.protocol.signing import ensure_key_pair

    platform_key, platform_pub = ensure_key_pair(tmp_path, "platform")
    bank_key, bank_pub = ensure_key_pair(tmp_path, "bank")
    result = _start({"PLATFORM_PRIVATE_KEY_FILE": str(platform_key), "BANK_PUBLIC_KEY_FILE": str(bank_pub),
                     "BANK_PRIVATE_KEY_FILE": str(bank_key), "PLATFORM_PUBLIC_KEY_FILE": str(platform_pub)})
    assert result.returncode == 0, result.stderr
