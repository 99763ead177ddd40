"""``manage.py search_check [--fix]``: documents missing, stale or extra in the index vs the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from search import indexing, registry
from search.backends import get_backend


class Command(BaseCommand):
    help = "Compare the search index with the database; exit status 1 when they differ (unless --fix)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("doc_types", nargs="*", help=f"document types (default: all of {registry.doc_types()})")
        parser.add_argument("--fix", action="store_true", help="re-index what differs")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = get_backend()
        dirty = []
        pending = indexing.pending_count()
        if pending:
            self.stdout.write(f"{pending} changes still queued for indexing")
        for doc_type in options["doc_types"] or registry.doc_types():
            report = indexing.check(doc_type, backend)
            self.stdout.write(
                f"{doc_type}: {report.expected} in the database, {report.indexed} in the index; "
                f"missing {len(report.missing)}, stale {len(report.stale)}, extra {len(report.extra)}"
                + (" — clean" if report.clean else f" (e.g. {_sample(report)})")
            )
            if not report.clean:
                if options["fix"]:
                    indexing.repair(report, backend)
                    self.stdout.write(f"{doc_type}: repaired")
                else:
                    dirty.append(doc_type)
        if dirty:
            raise CommandError(f"index differs from the database for: {', '.join(dirty)} (run with --fix)")


def _sample(report: indexing.CheckReport) -> str:
    parts = [
        f"{name} {ids[:5]}"
        for name, ids in (("missing", report.missing), ("stale", report.stale), ("extra", report.extra))
        if ids
    ]
    return "; ".join(parts)
