"""``manage.py search_rebuild [doc_type ...]``: fill a new index from the database and swap the alias."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from search import indexing, registry
from search.backends import get_backend


class Command(BaseCommand):
    help = "Rebuild the search index from the database without downtime (a new index, then the alias swaps)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("doc_types", nargs="*", help=f"document types (default: all of {registry.doc_types()})")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = get_backend()
        for doc_type in options["doc_types"] or registry.doc_types():
            started = time.perf_counter()
            count, report = indexing.rebuild(doc_type, backend)
            seconds = time.perf_counter() - started
            changed = len(report.missing) + len(report.stale) + len(report.extra)
            self.stdout.write(
                f"{doc_type}: {count} documents indexed on {backend.name} in {seconds:.1f} s"
                f" ({count / max(seconds, 1e-9):.0f}/s); {changed} changed meanwhile and re-synced"
            )
