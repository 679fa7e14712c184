"""``make run``: start everything on one machine and print where it is.

Starts the embedded PostgreSQL unless DATABASE_URL is set, migrates both databases,
seeds the demo, serves platform and bank with gunicorn (a production-grade server),
runs the background jobs on a scheduler thread of this process (and the outbox senders on
threads of their own: they wake on PostgreSQL NOTIFY) and, once the servers
answer, builds the demo market through them (``wanxin.demo.market``).

The demo is served with ``DEBUG`` off, like production (Django's debug pages would show a
visitor every URL pattern and setting); ``WANXIN_DEBUG=1`` turns them on for a developer.
Static files are served by WhiteNoise either way.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request


def _seed_market(bank_url: str) -> None:
    """Loans and seasoned customers, made by the real flows against the running servers.
    A failure leaves a working system without them, and says so."""
    from wanxin.demo.market import seed_market

    print("Seeding the demo market through the running services…", flush=True)
    started = time.monotonic()
    try:
        if seed_market(stdout=sys.stdout, bank_url=bank_url):
            print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
        else:
            print("  already there", flush=True)
    except Exception as exc:  # the demo is optional; the system still runs
        print(f"  the demo market could not be seeded ({type(exc).__name__}: {exc}); the rest runs", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wanxin.launcher")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args(argv)

    os.environ["PORT"] = str(args.port)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wanxin.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    embedded = not os.environ.get("DATABASE_URL")
    if embedded and settings.DATABASES["default"]["HOST"].startswith("/"):
        os.environ["WANXIN_PG_SOCKET"] = settings.DATABASES["default"]["HOST"]
    print("Migrating the platform and bank databases…", flush=True)
    call_command("migrate", database="default", interactive=False, verbosity=0)
    if settings.DATABASES["bank"] is not settings.DATABASES["default"]:
        call_command("migrate", database="bank", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    if not args.no_seed:
        call_command("seed_demo")

    bind = f"{args.host}:{args.port}"
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "gunicorn", "wanxin.wsgi:application", "--bind", bind,
         "--worker-class", "gthread", "--workers", str(args.workers), "--threads", str(args.threads),
         "--access-logfile", "-", "--log-level", "warning", "--graceful-timeout", "5"],
        env=os.environ.copy(),
    )
    base = f"http://{args.host}:{args.port}"
    _wait_for(f"{base}/health", server)

    from wanxin.jobs import Scheduler

    scheduler = Scheduler()
    scheduler.start()
    if settings.SERVES_PLATFORM:
        from wanxin.depository.outbox import senders_start

        senders_start()  # the outbox sender threads (decision record 0007)
    if not args.no_seed and settings.SERVES_PLATFORM and settings.SERVES_BANK:
        _seed_market(settings.BANK_URL)
    from wanxin.web.management.commands.seed_demo import DEMO_STAFF

    sms_page = (f"  Sent SMS (dev)     {base}/dev/sms          (the demo's stand-in for a phone)\n"
                if settings.SERVES_PLATFORM and not settings.PRODUCTION and settings.SMS_BACKEND in settings.SMS_SIMULATED_BACKENDS
                else "")
    debug = "on (WANXIN_DEBUG=1)" if settings.DEBUG else "off (WANXIN_DEBUG=1 turns them on)"

    print(
        f"\nWanxin is running ({'embedded PostgreSQL' if embedded else 'configured PostgreSQL'}).\n"
        f"  Customer site      {base}/\n"
        f"  API docs           {base}/api/v1/docs\n"
        f"  Customer login     {base}/accounts/login     investor or borrower (new), lender1-3, grocer,\n"
        f"                     teahouse, courier, baker, florist (demo market) / wanxin-demo-2026\n"
        f"  Back office        {base}/backoffice/        superadmin, reviewer, risk, finance, allocation,\n"
        f"                     service / wanxin-demo-2026\n"
        f"  Django admin       {base}/backoffice/admin/   login {DEMO_STAFF[0]} / {DEMO_STAFF[1]}\n"
        f"{sms_page}"
        f"  Depository bank    {base}/bank/\n"
        f"  Bank staff console {base}/bank/console/       login {DEMO_STAFF[0]} / {DEMO_STAFF[1]}\n"
        f"  Debug pages        {debug}\n"
        "Press Ctrl+C to stop.",
        flush=True,
    )

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping and server.poll() is None:
            time.sleep(0.5)
    finally:
        scheduler.stop()
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        print("Stopped.", flush=True)
    return 0 if stopping else (server.returncode or 1)


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the web server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the web server did not answer {url} within {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
