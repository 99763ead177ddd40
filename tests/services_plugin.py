"""Chooses the real services the tests run on, before Django reads its settings.

- ``CI=true``: PostgreSQL and Redis on 127.0.0.1 are required; a missing one fails the run.
- Otherwise: PostgreSQL and Redis are used when reachable, else the embedded defaults
  (SQLite, an embedded Redis).

An explicit ``DATABASE_URL`` / ``REDIS_URL`` always wins. The header of the test log says
which database and channel layer ran.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/consult"
REDIS_URL = "redis://127.0.0.1:6379/1"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _postgres_reachable(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3) as conn:
            return str(conn.info.server_version)
    except psycopg.Error as exc:
        return None if not IN_CI else f"!{exc}"


def _redis_reachable(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        version = client.info("server")["redis_version"]
        client.close()
        return str(version)
    except redis.RedisError as exc:
        return None if not IN_CI else f"!{exc}"


def _choose_services() -> list[str]:
    problems: list[str] = []
    if "DATABASE_URL" not in os.environ:
        version = _postgres_reachable(POSTGRES_URL)
        if version and not version.startswith("!"):
            os.environ["DATABASE_URL"] = POSTGRES_URL
        elif IN_CI:
            problems.append(f"PostgreSQL at 127.0.0.1:5432 is required under CI=true: {version}")
    elif IN_CI and not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must name PostgreSQL under CI=true")
    if "REDIS_URL" not in os.environ:
        version = _redis_reachable(REDIS_URL)
        if version and not version.startswith("!"):
            os.environ["REDIS_URL"] = REDIS_URL
        elif IN_CI:
            problems.append(f"Redis at 127.0.0.1:6379 is required under CI=true: {version}")
    return problems


# Runs at import, which pytest does for ``-p`` plugins before pytest-django loads settings.
_PROBLEMS = _choose_services()
# Each run gets its own var dir and channel-layer prefix, so runs never see each other's data.
os.environ.setdefault("CONSULT_VAR_DIR", tempfile.mkdtemp(prefix="consult-test-"))
os.environ.setdefault("CHANNEL_LAYER_PREFIX", f"consult-test-{os.getpid()}")


def pytest_configure(config: pytest.Config) -> None:
    if _PROBLEMS:
        raise pytest.UsageError("; ".join(_PROBLEMS))


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings
    from django.db import connection

    database = settings.DATABASES["default"]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [
        f"consult: CI={IN_CI}; database: {connection.vendor} ({database['ENGINE']}, "
        f"host {database.get('HOST') or 'local file'}, test database derived from {database['NAME']!s})",
        f"consult: channel layer: {layer} on {settings.REDIS_KIND} Redis "
        f"({settings.REDIS_URL or 'none'}); var dir {Path(settings.VAR_DIR)}",
    ]
