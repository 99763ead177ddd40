"""``manage.py seed_demo``: fill the demo city 海滨市. Safe to run again (idempotent)."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from consult.demo.city import DEMO_LOGINS, DEMO_PASSWORD, seed_people
from consult.demo.desk import DEFAULT_COUNT as DEFAULT_CONSULTATIONS
from consult.demo.desk import seed_consultations
from proposals.demo import seed_proposals
from proposals.workdays import seed_calendar
from search import indexing, registry
from search.backends import get_backend


class Command(BaseCommand):
    help = (
        "Create or refresh the demo data of 海滨市 (bureaus, experts, deputies, staff, demo logins, "
        "the working-day calendar, the proposals of six years and the past consultations of 2026)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--proposals", type=int, default=3000, help="how many demo proposals (only when there are none yet)"
        )
        parser.add_argument(
            "--consultations",
            type=int,
            default=DEFAULT_CONSULTATIONS,
            help="how many past consultations of 2026 (only when there are none yet)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed_people()
        self.stdout.write(
            f"demo: {counts.bureaus} bureaus, {counts.experts} experts, {counts.handlers} handlers, "
            f"{counts.deputies} deputies and members, {counts.office} office staff"
        )
        self.stdout.write(f"demo: calendar, {seed_calendar()} holidays and make-up working days written")
        if options["proposals"] > 0:
            self.stdout.write(f"demo: {seed_proposals(options['proposals']).summary()}")
        if options["consultations"] > 0:
            self.stdout.write(f"demo: {seed_consultations(options['consultations']).summary()}")
        for doc_type in registry.doc_types():
            self.stdout.write(f"demo: search index, {_index_in_step(doc_type)}")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<8} / {DEMO_PASSWORD}  {login.description}")


def _index_in_step(doc_type: str) -> str:
    """Rebuild an empty index; otherwise re-sync only what differs from the database."""
    if not get_backend().versions(doc_type):
        count, _ = indexing.rebuild(doc_type)
        return f"{count} {doc_type} documents indexed"
    report = indexing.check(doc_type)
    indexing.repair(report)
    changed = len(report.missing) + len(report.stale) + len(report.extra)
    return f"{report.expected} {doc_type} documents, {changed} re-indexed"
