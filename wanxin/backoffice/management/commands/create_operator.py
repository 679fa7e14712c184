"""Create a back-office operator: ``manage.py create_operator alice --role "super admin"``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from wanxin.audit import roles
from wanxin.audit.guards import SYSTEM
from wanxin.backoffice.services import operator_create, roles_sync
from wanxin.core.errors import WanxinError


class Command(BaseCommand):
    help = "Create an operator with one or more roles; prints the password when it is generated."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", action="append", dest="roles", required=True, choices=list(roles.ROLES),
                            help="a role (repeat for several)")
        parser.add_argument("--password", help="initial password (default: generate one and print it)")
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="full name")

    def handle(self, *args, username: str, roles: list[str], password: str | None, email: str, name: str,
               **options):
        roles_sync()
        try:
            user, initial = operator_create(actor=SYSTEM, username=username, password=password, role_names=roles,
                                            email=email, full_name=name)
        except WanxinError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Operator {user.username} created with roles: {', '.join(sorted(roles))}.")
        if password is None:
            self.stdout.write(f"Initial password (shown once): {initial}")
