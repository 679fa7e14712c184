"""The named back-office permissions. The audit log and role grants live in ``wanxin.audit``."""

from __future__ import annotations

from django.db import models

from wanxin.audit.roles import PERMISSIONS


class OperatorPermission(models.Model):
    """Holds the named back-office permissions (no table); roles are Groups of them."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(PERMISSIONS.items())
