"""``manage.py seed_calendar``: load the built-in Chinese holidays and make-up days (idempotent).

Run it on a new deployment and again when ``proposals/holidays.py`` learns a new year or confirms a provisional
one. It restores the built-in rows for the years it loads, so edits an admin made to those dates are replaced,
and deletes provisional rows the confirmed arrangement no longer has. Open deadlines that depend on a day
whose working status changed are counted again (``proposals.services.calendar``).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from proposals.services.calendar import seed_calendar


class Command(BaseCommand):
    help = "Load the built-in working-day calendar (statutory holidays and make-up working days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("years", nargs="*", type=int, help="only these years (default: all built in)")

    def handle(self, *args: Any, years: list[int], **options: Any) -> None:
        seeded = seed_calendar(years or None)
        self.stdout.write(f"calendar: {seeded.rows} day(s) created, changed or deleted")
        if seeded.flipped:
            self.stdout.write(f"calendar: deadlines counted again for {len(seeded.flipped)} changed day(s)")
