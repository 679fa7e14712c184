"""How ``wanxin.settings`` finds its services and keys in the environment: the two databases,
the cache and the signing keys, each with a working default for development (local services
when they answer, else the embedded PostgreSQL and generated keys) and a refusal in production."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def databases(*, env: str, role: str, production: bool) -> dict[str, dict]:
    # Served processes keep a psycopg pool per process (DESIGN §2); the test runner manages
    # its own connections, so tests use plain ones.
    pooled = env != "test" and os.environ.get("WANXIN_DB_POOL", "1") == "1"
    pool = {"min_size": 2, "max_size": int(os.environ.get("WANXIN_DB_POOL_SIZE", "20")), "timeout": 10}
    options = {"OPTIONS": {"pool": pool} if pooled else {}, "CONN_MAX_AGE": 0}
    platform_url = os.environ.get("DATABASE_URL")
    bank_url = os.environ.get("BANK_DATABASE_URL")
    if platform_url:
        platform = dj_database_url.parse(platform_url)
        bank = dj_database_url.parse(bank_url) if bank_url else {**platform, "NAME": f"{platform['NAME']}_bank"}
    elif os.environ.get("WANXIN_LOCAL_SERVICES") == "1" and answers("127.0.0.1", 5432):
        # Development machines and CI run PostgreSQL on localhost with trust auth.
        local = {"HOST": "127.0.0.1", "PORT": "5432", "USER": os.environ.get("PGUSER", "postgres"), "PASSWORD": ""}
        platform, bank = {**local, "NAME": "wanxin"}, {**local, "NAME": "wanxin_bank"}
    else:
        if production:
            raise ImproperlyConfigured("DATABASE_URL must be set in production")
        from wanxin import embedded

        platform, bank = embedded.database("wanxin"), embedded.database("wanxin_bank")
    for entry in (platform, bank):
        entry["ENGINE"] = "django.db.backends.postgresql"
        entry.setdefault("OPTIONS", {}).update(options["OPTIONS"])
        entry["CONN_MAX_AGE"] = options["CONN_MAX_AGE"]
    # A suffix lets several test runs share one server without dropping each other's databases.
    suffix = os.environ.get("WANXIN_TEST_DB_SUFFIX", "")
    platform.setdefault("TEST", {})["NAME"] = f"test_{platform['NAME']}{suffix}"
    bank.setdefault("TEST", {})["NAME"] = f"test_{bank['NAME']}{suffix}"
    if role == "bank":
        return {"default": bank, "bank": bank}
    return {"default": platform, "bank": bank}


def redis_url() -> str:
    """$REDIS_URL, else a local Redis when asked for local services and one answers, else ""."""
    url = os.environ.get("REDIS_URL", "")
    if not url and os.environ.get("WANXIN_LOCAL_SERVICES") == "1" and answers("127.0.0.1", 6379):
        url = "redis://127.0.0.1:6379/0"
    return url


def caches(*, env: str, redis: str) -> dict[str, dict]:
    if not redis:
        return {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "wanxin_cache"}}
    default = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis}
    if env == "test":
        # Test databases are recreated, so ids repeat: a run must not meet the keys (SMS
        # codes, double-submit guards) an earlier or parallel run left in the shared Redis.
        # Set once, inherited by the processes a test starts.
        os.environ.setdefault("WANXIN_TEST_CACHE_PREFIX", f"test-{os.getpid()}-{os.urandom(4).hex()}")
        default["KEY_PREFIX"] = os.environ["WANXIN_TEST_CACHE_PREFIX"]
    return {"default": default}


def pem(env_name: str, pair: str, suffix: str, *, production: bool, key_dir: Path) -> str:
    """PEM text from $NAME, from the file named by $NAME_FILE, or (development) a generated pair."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    if os.environ.get(f"{env_name}_FILE"):
        return Path(os.environ[f"{env_name}_FILE"]).read_text()
    if production:
        raise ImproperlyConfigured(f"{env_name} or {env_name}_FILE must be set in production")
    from wanxin.protocol.signing import ensure_key_pair

    private_path, public_path = ensure_key_pair(key_dir, pair)
    return (private_path if suffix == "key" else public_path).read_text()
