"""The bank's models live on the ``bank`` alias; everything else on ``default``."""

from __future__ import annotations

BANK_APPS = frozenset({"bank"})


class ServiceRouter:
    def db_for_read(self, model, **hints):
        return "bank" if model._meta.app_label in BANK_APPS else "default"

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return (obj1._meta.app_label in BANK_APPS) == (obj2._meta.app_label in BANK_APPS)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in BANK_APPS:
            return db == "bank"
        # In the bank-only role both aliases point at the bank database; shared Django
        # tables (auth, sessions, cache) are migrated once, through ``default``.
        return db == "default"
