"""Production settings refuse to start without configured keys (PROTOCOL §1), and pass Django's
deployment checks (HSTS, Secure cookies, no DEBUG) without a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Set by the browser tests for Playwright's event loop; a production process never has it.
_TEST_ONLY = {"WANXIN_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("_KEY") and not k.endswith("_KEY_FILE") and k not in _TEST_ONLY}
    env.update({"WANXIN_ENV": "production", "SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://u@127.0.0.1:1/db",
                "FIELD_ENCRYPTION_SECRET": "y" * 50, "SMS_PROVIDER_URL": "https://sms.example.com/send",
                "SMS_PROVIDER_API_KEY": "k",
                "DJANGO_SETTINGS_MODULE": "wanxin.settings", **extra})
    return env


def _start(extra: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=_env(extra),
                          capture_output=True, text=True, timeout=60)


def _keys(folder: Path) -> dict[str, str]:
    from wanxin.protocol.signing import ensure_key_pair

    platform_key, platform_pub = ensure_key_pair(folder, "platform")
    bank_key, bank_pub = ensure_key_pair(folder, "bank")
    return {"PLATFORM_PRIVATE_KEY_FILE": str(platform_key), "BANK_PUBLIC_KEY_FILE": str(bank_pub),
            "BANK_PRIVATE_KEY_FILE": str(bank_key), "PLATFORM_PUBLIC_KEY_FILE": str(platform_pub)}


# A production-like secret (Django's check wants 50+ characters, 5+ distinct) and host.
PRODUCTION = {"SECRET_KEY": "wx-prod-7Rf2kQ9vLs4Tn8Bc1Mz6Hy3Dp0Gw5Jx-" + "a1B2c3D4e5F6g7H8", "ALLOWED_HOSTS": "wanxin.example.com"}


def _settings(extra: dict[str, str], *names: str) -> dict:
    code = ("import json, django; django.setup(); from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(extra), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_refuses_to_start_without_keys():
    result = _start({})
    assert result.returncode != 0
    assert "PLATFORM_PRIVATE_KEY or PLATFORM_PRIVATE_KEY_FILE must be set in production" in result.stderr


def test_production_starts_with_keys(tmp_path):
    result = _start(_keys(tmp_path))
    assert result.returncode == 0, result.stderr


def test_check_deploy_prints_no_warning(tmp_path):
    env = _env({**_keys(tmp_path), **PRODUCTION})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output and "WARNINGS" not in output, output


def test_production_security_settings(tmp_path):
    values = _settings({**_keys(tmp_path), **PRODUCTION}, "DEBUG", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE",
                       "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "CONTENT_SECURITY_POLICY")
    assert values["DEBUG"] is False and values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    csp = values["CONTENT_SECURITY_POLICY"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert not any("unsafe" in source for sources in csp.values() for source in sources)


def test_debug_is_off_unless_wanxin_debug_is_set():
    # Development (what `make run` uses) included: Django's debug pages list every URL pattern.
    development = {"WANXIN_ENV": "development", "DATABASE_URL": "postgres://u@127.0.0.1:1/db"}
    assert _settings(development, "DEBUG") == {"DEBUG": False}
    assert _settings({**development, "WANXIN_DEBUG": "1"}, "DEBUG") == {"DEBUG": True}
