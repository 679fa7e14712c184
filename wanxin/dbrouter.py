"""The bank's models live on the ``bank`` alias; everything else on ``default``."""

from __future__ import annotations

from django.conf import settings

BANK_APPS = frozenset({"bank"})


class ServiceRouter:
    def db_for_read(self, model, **hints):
        return "bank" if model._meta.app_label in BANK_APPS else "default"

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return (obj1._meta.app_label in BANK_APPS) == (obj2._meta.app_label in BANK_APPS)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if settings.ROLE == "bank":
            # Both aliases are the bank database with one ``django_migrations`` table: migrate
            # everything through ``default``; ``--database bank`` then finds nothing to do.
            # (Routing the bank app to ``bank`` here would let ``default`` record its
            # migrations as applied without running them.)
            return db == "default"
        if app_label in BANK_APPS:
            return db == "bank"
        return db == "default"
