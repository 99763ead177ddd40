"""Parts a test needs: a skip on a developer's machine that lacks one, a failure under ``CI=true``."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.services_plugin import IN_CI

__all__ = ["IN_CI", "require_postgresql", "skip_or_fail"]


def skip_or_fail(reason: str) -> None:
    """Skip where a part is missing here; under CI=true every part is required, so fail instead."""
    if IN_CI:
        pytest.fail(f"{reason}, and CI=true requires it")
    pytest.skip(reason)


def require_postgresql(needs: str) -> None:
    """``needs``: what the test does that only PostgreSQL's row locks allow (FOR UPDATE, SKIP LOCKED…)."""
    if connection.vendor != "postgresql":
        skip_or_fail(f"{needs} needs PostgreSQL row locks; this run uses {connection.vendor}")
