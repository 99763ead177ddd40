"""``manage.py seed_demo``: fill the demo city 海滨市. Safe to run again (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from consult.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_people


class Command(BaseCommand):
    help = "Create or refresh the demo data of 海滨市 (bureaus, experts, deputies, staff, demo logins)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed_people()
        self.stdout.write(
            f"demo: {counts.bureaus} bureaus, {counts.experts} experts, {counts.handlers} handlers, "
            f"{counts.deputies} deputies and members, {counts.office} office staff"
        )
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<8} / {DEMO_PASSWORD}  {login.description}")
